"""Self-play: one agent plays both seats of a two-player game and learns from both.

With ``AgentConfig.self_play.enabled`` (``memplay run --self-play``, ``Agent(...,
self_play=True)``) every environment is made with ``opponent="self"``: it never moves by
itself, its ``info["to_play"]`` names the seat to move and its observation is that seat's
view. The runner moves for both seats: each slot of a batch is one game, and every step of
the graph decides for whichever seat is to move in each game (one batched LLM call over all
games). Nothing inside an environment calls back into the agent, so self-play runs on worker
processes and on Ray like any run (``env_workers``). Each step records its seat
(``StepRecord.seat``).

Records: one seat of each game is *the agent's* (``env_kwargs["player"]`` when it names a
seat, else seats alternate with the episode number): ``episodes.jsonl`` and
``trajectories.jsonl`` hold that seat's side, ``selfplay/games.jsonl`` the other's.

Both seats learn. The end-of-batch node :meth:`SelfPlay.settle_seats` (in place of
``update_memory``) teaches step and task memory each seat's moves with that seat's payoff as
the return (:func:`payoff_returns`): a game is zero-sum, its payoff is what both seats
maximise, and a draw is worth 0. A strategy memory (``mccfr``) learns both seats in
``update_strategy``, before it. Step memory is conditioned on the role: TicTacToe's and the
poker games' state texts name the seat ("You play O", "You are player 1"); self-play keys
step memory by that whole state text (``memory.step_keys="state"``) and step memory
answers only for keys it stored exactly (:class:`ExactStates`), so an O position never
borrows the value of a similar-looking X position (the two embed at cosine 0.97 with MiniLM).

Opponent pool (``self_play.pool_every=K``): after every K-th epoch a frozen copy of step
memory is written to ``<run>/selfplay/pool/epoch-N.jsonl``; in a share of later games
(``pool_share``) the other seat reads one of the newest ``pool_size`` snapshots instead of
the live memory. Both seats of those games still teach the live memory.

Measures: a game with a registered tree
(:data:`~memplay.environments.two_player.game_tree.GAME_TREES`: Kuhn poker, Leduc Hold'em)
gets an exact measure of the strategy after every epoch, or every ``self_play.measure_every``
games, in ``selfplay/measures.jsonl`` (:mod:`memplay.agents.selfplay_measure`).

    >>> from memplay.agents.config import AgentConfig
    >>> cfg = AgentConfig(env_id="KuhnPoker-v0", self_play=True)
    >>> cfg.exact_step_lookup, cfg.memory.step_keys, cfg.env_kwargs
    (True, 'state', {'opponent': 'self'})
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from langgraph.runtime import Runtime

from memplay.agents import nodes
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext, StepMemoryLike
from memplay.agents.graph import build_agent_graph
from memplay.agents.learning import learn_task
from memplay.agents.mccfr import game_payoffs
from memplay.agents.state import AgentState, Slot, action_keys
from memplay.agents.variants import get_variant
from memplay.environments.two_player.base import TwoPlayerEnv
from memplay.errors import ConfigError, LLMError, MemoryStoreError
from memplay.memory.jsonio import append_jsonl, read_jsonl, write_text_atomic
from memplay.memory.step_memory import ActionValue
from memplay.run_dir import RunDir

__all__ = ["ExactStates", "SelfPlay", "SnapshotValues", "check_two_player", "payoff_returns"]

Query = Mapping[str, tuple[str, str]]
_UNKNOWN = ActionValue(0.0, 0, 0.0)


class _RowMemory(StepMemoryLike, Protocol):
    def to_rows(self) -> list[dict[str, Any]]:
        """Every stored context with its per-kind values."""
        ...


class ExactStates:
    """Step memory that answers only for ``(kind, context)`` keys it stored exactly; any
    other key (a borrowed neighbour value, an unseen context) gets ``ActionValue(0, 0, 0)``.

    Wraps the live step memory (updates go through to it, so saving is unchanged).

    >>> from memplay.memory import HashEmbedder, StepMemory
    >>> inner = StepMemory(HashEmbedder(64)); inner.update(["X to play"], ["a"], [1.0])
    >>> mem = ExactStates(inner)
    >>> [v["a"].q for v in mem.estimate([{"a": ("a", "X to play")}, {"a": ("a", "O to play")}])]
    [1.0, 0.0]
    """

    def __init__(self, inner: _RowMemory) -> None:
        self.inner = inner

    def estimate(self, queries: Sequence[Query]) -> list[dict[str, ActionValue]]:
        """The stored value of each exactly stored key (visits > 0 at similarity 1)."""
        found = self.inner.estimate(queries)
        return [{action: value if value.visits > 0 and value.sim >= 1.0 - 1e-6 else _UNKNOWN
                 for action, value in values.items()} for values in found]

    def update(self, states: Sequence[str], actions: Sequence[str],
               returns: Sequence[float], alpha: float | None = None,
               source: str = "self") -> Any:
        """Teach the live memory (contexts first, then kinds, as ``StepMemory.update``)."""
        return self.inner.update(states, actions, returns, alpha, source)

    def to_rows(self) -> list[dict[str, Any]]:
        """The live memory's rows (for snapshots)."""
        return self.inner.to_rows()


class SnapshotValues:
    """A frozen table of step values (rows of ``StepMemory.to_rows``: ``{"state": context,
    "actions": {kind: {"q", "visits"}}}``), looked up exactly.

    >>> snap = SnapshotValues([{"state": "s", "actions": {"a": {"q": 0.5, "visits": 2}}}])
    >>> snap.estimate([{"x": ("a", "s"), "y": ("b", "s")}])[0]["x"]
    ActionValue(q=0.5, visits=2, sim=1.0, borrowed=0.0)
    """

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.table = {str(r["state"]): {a: ActionValue(float(v["q"]), int(v["visits"]), 1.0)
                                        for a, v in r["actions"].items()} for r in rows}

    def estimate(self, queries: Sequence[Query]) -> list[dict[str, ActionValue]]:
        """The stored values; unknown keys get 0 with no visits."""
        return [{action: self.table.get(context, {}).get(kind, _UNKNOWN)
                 for action, (kind, context) in query.items()} for query in queries]

    def update(self, states: Sequence[str], actions: Sequence[str],
               returns: Sequence[float], alpha: float | None = None,
               source: str = "self") -> Any:
        """Snapshots never learn."""
        raise MemoryStoreError("a self-play snapshot is read-only; teach the live memory")


def payoff_returns(moves: int, payoff: float, gamma: float) -> list[float]:
    """The return of each of a seat's ``moves``: the game's payoff, discounted by ``gamma``
    per later move of that seat.

    >>> payoff_returns(3, -1.0, 0.5)
    [-0.25, -0.5, -1.0]
    """
    return [payoff * gamma ** (moves - 1 - i) for i in range(moves)]


def _learn_seat(side: Slot, ctx: AgentContext) -> None:
    """Task and step memory learn one seat's side of a game, its payoff as every move's
    return."""
    learn_task(side, ctx.config, ctx.task_memory)
    if ctx.step_memory is not None:
        payoff = 0.0 if side.truncated else side.reward
        returns = payoff_returns(len(side.steps), payoff, ctx.config.self_play.gamma)
        keys = [s.memory_key for s in side.steps]
        ctx.step_memory.update([c for _, c in keys], [k for k, _ in keys], returns)


def check_two_player(env_id: str) -> None:
    """A registered id whose game is not two-player cannot be played against oneself.

    >>> check_two_player("FrozenLake-4x4-v0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: self-play needs a two-player game; 'FrozenLake-4x4-v0' ...
    """
    from memplay.environments.registry import load_entry_point, registry

    spec = registry.get(env_id)
    if spec is not None and not issubclass(load_entry_point(spec.entry_point), TwoPlayerEnv):
        raise ConfigError(f"self-play needs a two-player game; {env_id!r} is not one (try "
                          "TicTacToe-v0, KuhnPoker-v0 or LeducPoker-v0, or turn self_play off)")


class SelfPlay:
    """The self-play set-up of one run: seats, opponent pool, records, measures.

    Args:
        config: The run's config (``self_play.enabled`` must be set).
        run_dir: Where ``selfplay/`` goes (None: keep nothing on disk).

    >>> from memplay.llm.fake import ScriptedLLM
    >>> cfg = AgentConfig(env_id="TicTacToe-v0", variant="none", self_play=True)
    >>> play = SelfPlay(cfg, None).attach(AgentContext(envs=[], llm=ScriptedLLM(), config=cfg))
    >>> [play.agent_seat(Slot(0, episode=e)) for e in range(3)]
    [0, 1, 0]
    """

    def __init__(self, config: AgentConfig, run_dir: str | Path | None) -> None:
        check_two_player(config.env_id)
        self.config = config
        self.run = RunDir(run_dir) if run_dir is not None else None
        self._ctx: AgentContext | None = None
        self._rng = random.Random(config.seed + 1)
        self._snapshots: dict[Path, SnapshotValues] = {}
        self._pool_games: dict[int, Path | None] = {}  # episode -> snapshot its other seat reads
        self._games: list[dict[str, Any]] = []
        self._played = 0  # games of the run settled so far (episode numbers are in order)
        self._epoch = 0  # the epoch of the last game settled

    # ---- wiring ------------------------------------------------------------------------

    def attach(self, ctx: AgentContext) -> SelfPlay:
        """Use ``ctx`` (its environments were made with ``opponent="self"`` by the config)."""
        self._ctx = ctx
        return self

    def live(self) -> AgentContext:
        """The agent's own context (after :meth:`attach`)."""
        if self._ctx is None:
            raise ConfigError("SelfPlay.attach(ctx) must run before games are played")
        return self._ctx

    def agent_seat(self, slot: Slot) -> int:
        """The seat whose side of the game ``episodes.jsonl`` records."""
        player = self.config.env_kwargs.get("player")
        return player if player in (0, 1) else slot.episode % 2

    def graph(self, variant: str) -> Any:
        """The variant's graph with :meth:`settle_seats` in place of ``update_memory`` (after
        ``update_strategy``) and, when it retrieves, :meth:`retrieve` for the pool."""
        step, end = get_variant(variant).pipelines()
        end = [name for name in end if name != "update_memory"]
        end.insert(end.index("update_strategy") + 1 if "update_strategy" in end else 1,
                   "settle_seats")
        return build_agent_graph(variant, nodes={"settle_seats": self.settle_seats,
                                                 "retrieve": self.retrieve},
                                 step_pipeline=step, end_pipeline=end)

    # ---- the end of a batch --------------------------------------------------------------

    def settle_seats(self, state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        """End of batch: split each game into its two seats' sides, teach memory both (not
        when frozen, nor errored games), keep the other seat's side for ``games.jsonl`` and
        leave the agent's seat in the slot (what the runner records)."""
        ctx = runtime.context
        settled = []
        for slot in state["slots"]:
            self._pool_games.pop(slot.episode, None)
            self._played = max(self._played, slot.episode + 1)
            self._epoch = max(self._epoch, slot.epoch)
            if not slot.steps:
                settled.append(slot)
                continue
            payoffs = game_payoffs(slot, True) if slot.error is None else {0: 0.0, 1: 0.0}
            sides = [_side(slot, seat, payoffs[seat]) for seat in (0, 1)]
            if slot.error is None and not ctx.config.frozen:
                for side in sides:
                    if side.steps:
                        _learn_seat(side, ctx)
            mine = self.agent_seat(slot)
            if slot.error is None and sides[1 - mine].steps:
                self.keep(sides[mine], sides[1 - mine], 1 - mine)
            settled.append(sides[mine])
        return {"slots": settled}

    # ---- the pool ----------------------------------------------------------------------

    def retrieve(self, state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        """``retrieve``; then, in pool games, the other seat's step values from a snapshot."""
        update = nodes.retrieve(state, runtime)
        pool = self.pool()
        if not pool:
            return update
        use_view = runtime.context.config.memory.step_keys == "view"
        slots = []
        for slot in update["slots"]:
            path = self._pool_game(slot.episode, pool)
            if path is not None and not slot.done and slot.seat != self.agent_seat(slot):
                keys = action_keys(slot.state, slot.view, slot.admissible, use_view)
                values = self.snapshot_values(path).estimate([keys])[0]
                slot = slot.but(recall=dataclasses.replace(slot.recall, values=dict(values)))
            slots.append(slot)
        return {"slots": slots}

    def _pool_game(self, episode: int, pool: list[Path]) -> Path | None:
        """The snapshot the other seat of ``episode`` reads (drawn once per game), or None."""
        if episode not in self._pool_games:
            use = self._rng.random() < self.config.self_play.pool_share
            self._pool_games[episode] = pool[self._rng.randrange(len(pool))] if use else None
        return self._pool_games[episode]

    def snapshot_values(self, path: Path) -> SnapshotValues:
        """The frozen step values of one pool snapshot (read once)."""
        if path not in self._snapshots:
            rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
            self._snapshots[path] = SnapshotValues(rows)
        return self._snapshots[path]

    def pool(self) -> list[Path]:
        """The newest ``pool_size`` snapshot files, oldest first."""
        if self.run is None or not self.run.selfplay_pool.is_dir():
            return []
        files = sorted(self.run.selfplay_pool.glob("epoch-*.jsonl"))
        return files[-self.config.self_play.pool_size:]

    def snapshot(self, epoch: int) -> Path | None:
        """Write step memory's rows as ``pool/epoch-N.jsonl`` (N = epoch + 1), atomically;
        an existing snapshot is kept (the hook runs again on resume)."""
        memory = self.live().step_memory
        if self.run is None or memory is None:
            return None
        path = self.run.selfplay_pool / f"epoch-{epoch + 1:04d}.jsonl"
        if not path.exists():
            rows = memory.to_rows()  # type: ignore[attr-defined]
            write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
        return path

    # ---- records -----------------------------------------------------------------------

    def keep(self, agent: Slot, other: Slot, other_seat: int) -> None:
        """Buffer the other seat's side of a finished game (written by :meth:`flush`); its
        trajectory only for the episodes whose trajectories the run keeps."""
        row = {"episode": agent.episode, "epoch": agent.epoch, "agent_seat": 1 - other_seat,
               "other_seat": other_seat, "agent_payoff": agent.reward,
               "other_payoff": other.reward}
        if self.config.keeps_trajectory(agent.episode):
            row["trajectory"] = other.to_trajectory(self.config.env_id).model_dump(mode="json")
        self._games.append(row)

    def flush(self) -> None:
        """After each batch: append the buffered games to ``games.jsonl``; measure when
        ``measure_every`` games have passed since the last measure."""
        if self.run is not None and self._games:
            append_jsonl(self.run.selfplay_games, self._games)
        self._games = []
        every = self.config.self_play.measure_every
        if every and self._played // every > self._last_measured() // every:
            self.measure(games=self._played)

    def on_epoch_end(self, epoch: int) -> None:
        """Snapshot (every ``pool_every`` epochs) and the exact measure (with
        ``measure_every``, unless the epoch ended on a measured games count); idempotent, as
        the runner calls it again when a run resumes at an epoch boundary."""
        every = self.config.self_play.pool_every
        if every and (epoch + 1) % every == 0:
            self.snapshot(epoch)
        if self.config.self_play.measure_every:  # the epoch's last games count too
            self.measure(games=self._played)
        else:
            self.measure(epoch=epoch)

    def _last_measured(self) -> int:
        rows = read_jsonl(self.run.selfplay_measures) if self.run is not None else []
        return max((int(r.get("games", 0)) for r in rows), default=0)

    def measure(self, *, epoch: int | None = None, games: int | None = None
                ) -> dict[str, Any] | None:
        """Record the exact measure of the strategy (once per epoch, or per games count)."""
        from memplay.agents.selfplay_measure import measure

        if self.run is None or not _has_tree(self.config.env_id):
            return None
        path = self.run.selfplay_measures
        mark = ("epoch", epoch) if games is None else ("games", games)
        if any(row.get(mark[0]) == mark[1] for row in read_jsonl(path)):
            return None
        head = {"epoch": self._epoch if epoch is None else epoch,
                "games": self._played if games is None else games}
        try:
            row = {**head, **measure(self.live())}
        except LLMError as exc:  # a backend fault costs this measure, not the run
            row = {**head, "error": f"{type(exc).__name__}: {exc}"}
        append_jsonl(path, [row])
        return row


def _side(slot: Slot, seat: int, payoff: float) -> Slot:
    """One seat's side of a game: its moves and its payoff."""
    return slot.but(steps=[s for s in slot.steps if s.seat == seat], reward=payoff,
                    success=payoff > 0, decisions=())


def _has_tree(env_id: str) -> bool:
    from memplay.environments.two_player.game_tree import GAME_TREES

    return env_id in GAME_TREES
