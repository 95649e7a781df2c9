"""Self-play: one agent plays both seats of a two-player game and learns from both.

With ``AgentConfig.self_play.enabled`` (``memplay run --self-play``, ``Agent(...,
self_play=True)``) every environment's opponent is a :class:`SelfPlayOpponent`: the agent's
own policy for the other seat, an opponent callable ``(obs, info) -> action`` like any other
(:class:`~memplay.environments.two_player.Opponent`). It decides through the same graph
nodes as the agent's own moves (retrieve, build_prompt, act: the LLM's scores plus step
memory's values), so both seats are one policy. The agent's seat is drawn at every reset
(``player="random"``); the opponent keeps a record of its seat's moves.

Both seats learn. The end-of-batch node :func:`learn_both_seats` (it replaces
``update_memory`` in the self-play graph) teaches memory each seat's moves with that seat's
payoff as the return: a game is zero-sum, its payoff is what both seats maximise, and a draw
is worth 0 (the single-player returns of :mod:`memplay.agents.learning` would blame a draw's
last move). Memory is conditioned on the role: TicTacToe's and Kuhn Poker's state texts name
the seat ("You play O", "You are player 1"); self-play keys step memory by that whole state
text (``memory.step_keys="state"``: a key is ``(move, state text)``, never the seat-free
portable view) and step memory answers only for keys it stored exactly
(:class:`ExactStates`), so an O position never borrows the value of a similar-looking X
position (the two embed at cosine 0.97 with MiniLM).

Opponent pool (``self_play.pool_every=K``): after every K-th epoch a frozen copy of step
memory is written to ``<run>/selfplay/pool/epoch-N.jsonl``; a share of later games
(``pool_share``) is played against one of the newest ``pool_size`` snapshots, the opponent's
policy reading the snapshot instead of the live memory. Both seats of those games still teach
the live memory.

Files (under ``<run>/selfplay/``): ``games.jsonl`` (one row per game: the other seat's
trajectory and both payoffs), ``measures.jsonl`` (one row per epoch for games with an exact
measure, e.g. Kuhn Poker's exploitability, see :mod:`memplay.agents.kuhn_policy`) and
``pool/``.

    >>> from memplay.agents.config import AgentConfig
    >>> cfg = AgentConfig(env_id="KuhnPoker-v0", self_play=True)
    >>> cfg.exact_step_lookup, cfg.memory.step_keys
    (True, 'state')
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from langgraph.runtime import Runtime

from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext, Env, StepMemoryLike
from memplay.agents.graph import DEFAULT_NODES, build_agent_graph
from memplay.agents.keys import action_keys
from memplay.agents.learning import learn_task
from memplay.agents.llm.base import release_sessions
from memplay.agents.state import AgentState, Recall, Slot, StepRecord, initial_state
from memplay.environments.two_player import Opponent, TwoPlayerEnv
from memplay.environments.workers import LocalEnvs
from memplay.errors import ConfigError, LLMError, MemoryStoreError
from memplay.memory.reflection.jsonio import append_jsonl, read_jsonl, write_text_atomic
from memplay.memory.step_memory import ActionValue

__all__ = ["MEASURES", "ExactStates", "SelfPlay", "SelfPlayOpponent", "SnapshotValues",
           "decide", "learn_both_seats", "payoff_returns", "register_measure",
           "sibling_context"]

Measure = Callable[[AgentContext], dict[str, Any]]
MEASURES: dict[str, str | Measure] = {
    "KuhnPokerEnv": "memplay.agents.kuhn_policy:measure",
}
"""Env class name -> exact measure of the live policy, recorded after every epoch."""


def register_measure(env_class: str, measure: str | Measure) -> None:
    """Record ``measure(ctx) -> dict`` after each self-play epoch of ``env_class`` games.

    >>> register_measure("KuhnPokerEnv", MEASURES["KuhnPokerEnv"])
    """
    MEASURES[env_class] = measure


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


def sibling_context(ctx: AgentContext, **changes: Any) -> AgentContext:
    """A context sharing ``ctx``'s parts except ``changes``, with its own random generator
    (seeded from the config) so using it never disturbs the agent's own draws.

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(variant="none"))
    >>> sibling_context(ctx).rng is ctx.rng
    False
    """
    parts = {"envs": ctx.envs, "llm": ctx.llm, "config": ctx.config,
             "task_memory": ctx.task_memory, "step_memory": ctx.step_memory,
             "reflections": ctx.reflections, "env_factory": ctx.env_factory,
             "state_key": ctx.state_key, "llm_bias": ctx.llm_bias, "rng": random.Random()}
    return AgentContext(**{**parts, **changes})


def decide(ctx: AgentContext, slots: list[Slot], *, act: bool = True) -> list[Slot]:
    """Run the variant's decision nodes (retrieve, build_prompt and, with ``act``, act) on
    started slots, as the agent's graph would; the env is not stepped.

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(scores={"bet": -0.1}),
    ...                    config=AgentConfig(variant="none",
    ...                                       policy={"temperature": 0, "calibrate": False}))
    >>> decide(ctx, [Slot(0, started=True, admissible=["check", "bet"])])[0].action
    'bet'
    """
    names = [n for n in ctx.config.spec.pipelines()[0] if n not in ("observe", "env_step")]
    if not act:
        names = [n for n in names if n != "act"]
    state: AgentState = initial_state(slots)
    runtime = Runtime(context=ctx)
    for name in names:
        update = DEFAULT_NODES[name](state, runtime)
        state = initial_state(update.get("slots", state["slots"]))
    return state["slots"]


def payoff_returns(moves: int, payoff: float, gamma: float) -> list[float]:
    """The return of each of a seat's ``moves``: the game's payoff, discounted by ``gamma``
    per later move of that seat.

    >>> payoff_returns(3, -1.0, 0.5)
    [-0.25, -0.5, -1.0]
    """
    return [payoff * gamma ** (moves - 1 - i) for i in range(moves)]


class SelfPlayOpponent(Opponent):
    """The agent's own policy in the other seat, keeping a record of the game it plays.

    Built by :class:`SelfPlay` (one per environment); see the module docstring.
    """

    def __init__(self, play: SelfPlay, number: int = 0) -> None:
        self.play = play
        self.seat = 1
        self.slot: Slot | None = None
        self.returns: tuple[float, float] | None = None
        self.policy: AgentContext | None = None
        # its own LLM session key (episode numbers of the agent's episodes are >= 0)
        self.episode = -1 - number

    def new_game(self, seat: int) -> None:
        """Forget the last game (and free its LLM session); draw the policy (live or a
        snapshot) for this one."""
        if self.slot is not None and self.policy is not None:
            release_sessions(self.policy.llm, [self.slot.session])
        self.seat, self.slot, self.returns = seat, None, None
        self.policy = self.play.opponent_context()

    def end_game(self, returns: tuple[float, float]) -> None:
        """Keep both payoffs."""
        self.returns = returns

    def __call__(self, obs: str, info: dict[str, Any]) -> str:
        """Choose this seat's move through the agent's decision nodes and record it."""
        ctx = self.policy or self.play.live()
        state = ctx.state_key(None, obs, info)
        admissible = list(info.get("admissible_actions") or [])
        base = self.slot or Slot(0, episode=self.episode, started=True,
                                 goal=str(info.get("goal", "")))
        slot = base.but(observation=obs, state=state, view=info.get("view"),
                        admissible=admissible)
        (slot,) = decide(ctx, [slot])
        if slot.error is not None:  # an LLM fault ends the agent's episode as errored
            raise LLMError(f"self-play opponent: {slot.error}")
        keys = action_keys(state, slot.view, admissible,
                           use_view=ctx.config.memory.step_keys == "view")
        record = StepRecord(observation=obs, action=slot.action, admissible=admissible,
                            state=state, thought=slot.thought,
                            visits=sum(v.visits for v in slot.recall.values.values()),
                            key=keys.get(slot.action))
        self.slot = slot.but(steps=[*slot.steps, record], recall=Recall(
            memories=slot.recall.memories))
        return slot.action

    def take_game(self, agent: Slot) -> Slot | None:
        """The other seat's side of ``agent``'s finished game, as a finished episode (None
        when it never moved); the record is cleared."""
        slot, returns = self.slot, self.returns
        self.slot = None
        if slot is None or not slot.steps:
            return None
        payoff = returns[self.seat] if returns is not None else 0.0
        return slot.but(index=agent.index, episode=agent.episode, epoch=agent.epoch,
                        task=agent.task, seed=agent.seed, done=True, reward=payoff,
                        success=payoff > 0, truncated=returns is None)


def seat_opponent(env: Env) -> SelfPlayOpponent | None:
    """The self-play opponent playing inside ``env``, if any.

    >>> seat_opponent(object()) is None
    True
    """
    unwrapped = getattr(env, "unwrapped", env)
    opponent = unwrapped.opponent if isinstance(unwrapped, TwoPlayerEnv) else None
    return opponent if isinstance(opponent, SelfPlayOpponent) else None


def _learn_seat(slot: Slot, ctx: AgentContext) -> None:
    learn_task(slot, ctx.config, ctx.task_memory)
    if ctx.step_memory is not None:
        payoff = 0.0 if slot.truncated else slot.reward
        returns = payoff_returns(len(slot.steps), payoff, ctx.config.self_play.gamma)
        keys = [s.memory_key for s in slot.steps]
        ctx.step_memory.update([c for _, c in keys], [k for k, _ in keys], returns)


def learn_both_seats(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """End of batch in self-play: memory learns each game from both seats, each move's
    return being its seat's payoff (the ``update_memory`` node of the self-play graph).

    Errored games teach nothing; frozen runs only clear the opponents' records.
    """
    ctx = runtime.context
    for slot in state["slots"]:
        opponent = seat_opponent(ctx.env_at(slot.index))
        other = opponent.take_game(slot) if opponent is not None else None
        if ctx.config.frozen or slot.error is not None or not slot.steps:
            continue
        for seat_slot in (slot, other):
            if seat_slot is not None:
                _learn_seat(seat_slot, ctx)
        if opponent is not None and other is not None:
            opponent.play.keep(slot, other, opponent.seat)
    return {}


def _check_two_player(env_id: str) -> None:
    """A registered id whose game is not two-player cannot be played against oneself."""
    from memplay.environments.registry import load_entry_point, registry

    spec = registry.get(env_id)
    if spec is not None and not issubclass(load_entry_point(spec.entry_point), TwoPlayerEnv):
        raise ConfigError(f"self-play needs a two-player game; {env_id!r} is not one (try "
                          "TicTacToe-v0 or KuhnPoker-v0, or turn self_play off)")


class SelfPlay:
    """The self-play set-up of one run: environments, opponents, pool, records, measures.

    Args:
        config: The run's config (``self_play.enabled`` must be set).
        run_dir: Where ``selfplay/`` goes (None: keep nothing on disk).
        make: Builds an environment (default :func:`memplay.environments.make`).

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> cfg = AgentConfig(env_id="TicTacToe-v0", variant="none", self_play=True)
    >>> ctx = AgentContext(envs=[None], llm=ScriptedLLM(), config=cfg)
    >>> play = SelfPlay(cfg, None).attach(ctx)
    >>> seat_opponent(ctx.env_at(0)) is not None
    True
    """

    def __init__(self, config: AgentConfig, run_dir: str | Path | None,
                 make: Callable[..., Env] | None = None) -> None:
        self.config = config
        self.root = Path(run_dir) / "selfplay" if run_dir is not None else None
        self._make = make
        self._ctx: AgentContext | None = None
        self._rng = random.Random(config.seed + 1)
        self._snapshots: dict[Path, AgentContext] = {}
        self._games: list[dict[str, Any]] = []
        self._opponents = 0  # opponents made so far (each gets its own LLM session key)

    # ---- wiring ------------------------------------------------------------------------

    def attach(self, ctx: AgentContext) -> SelfPlay:
        """Replace the environments of ``ctx`` (and its factory) by as many in this process
        whose opponent is the agent (it must call back into the agent's policy)."""
        _check_two_player(self.config.env_id)
        self._ctx = ctx
        count = ctx.workers.num_envs
        with contextlib.suppress(Exception):  # the replaced envs are never played
            ctx.workers.close()
        ctx.envs = LocalEnvs.from_envs([self.make_env() for _ in range(count)], self.make_env)
        ctx.env_factory = self.make_env
        return self

    def live(self) -> AgentContext:
        """The agent's own context (after :meth:`attach`)."""
        if self._ctx is None:
            raise ConfigError("SelfPlay.attach(ctx) must run before games are played")
        return self._ctx

    def make_env(self) -> Env:
        """One environment whose opponent is the agent (seat drawn at each reset)."""
        cfg = self.config
        if "opponent" in cfg.env_kwargs:
            raise ConfigError(f"self-play plays the opponent itself; remove env_kwargs."
                              f"opponent={cfg.env_kwargs['opponent']!r} or turn self_play off")
        if self._make is None:
            from memplay.environments import make as make_env
            self._make = make_env
        self._opponents += 1
        opponent = SelfPlayOpponent(self, self._opponents - 1)
        env = self._make(cfg.env_id, **{"player": "random", **cfg.env_kwargs,
                                         "opponent": opponent})
        if seat_opponent(env) is None:
            raise ConfigError(f"self-play needs a two-player game; {cfg.env_id!r} is not one "
                              "(try TicTacToe-v0 or KuhnPoker-v0)")
        return env

    def graph(self, variant: str) -> Any:
        """The agent graph with :func:`learn_both_seats` in place of ``update_memory``."""
        return build_agent_graph(variant, nodes={"update_memory": learn_both_seats})

    # ---- the pool ----------------------------------------------------------------------

    def opponent_context(self) -> AgentContext:
        """The policy of the next game's opponent: the live one, or a pool snapshot."""
        live = self.live()
        pool = self.pool()
        if not pool or self._rng.random() >= self.config.self_play.pool_share:
            return live
        path = pool[self._rng.randrange(len(pool))]
        if path not in self._snapshots:
            rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
            self._snapshots[path] = sibling_context(live, step_memory=SnapshotValues(rows))
        return self._snapshots[path]

    def pool(self) -> list[Path]:
        """The newest ``pool_size`` snapshot files, oldest first."""
        if self.root is None or not (self.root / "pool").is_dir():
            return []
        files = sorted((self.root / "pool").glob("epoch-*.jsonl"))
        return files[-self.config.self_play.pool_size:]

    def snapshot(self, epoch: int) -> Path | None:
        """Write step memory's rows as ``pool/epoch-N.jsonl`` (N = epoch + 1), atomically;
        an existing snapshot is kept (the hook runs again on resume)."""
        memory = self.live().step_memory
        if self.root is None or memory is None:
            return None
        path = self.root / "pool" / f"epoch-{epoch + 1:04d}.jsonl"
        if not path.exists():
            rows = memory.to_rows()  # type: ignore[attr-defined]
            write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
        return path

    # ---- records -----------------------------------------------------------------------

    def keep(self, agent: Slot, other: Slot, other_seat: int) -> None:
        """Buffer the other seat's side of a finished game (written by :meth:`flush`)."""
        self._games.append({
            "episode": agent.episode, "epoch": agent.epoch, "agent_seat": 1 - other_seat,
            "other_seat": other_seat, "agent_payoff": agent.reward, "other_payoff": other.reward,
            "trajectory": other.to_trajectory(self.config.env_id).model_dump(mode="json")})

    def flush(self) -> None:
        """Append the buffered games to ``games.jsonl`` (after each batch)."""
        if self.root is not None and self._games:
            append_jsonl(self.root / "games.jsonl", self._games)
        self._games = []

    def on_epoch_end(self, epoch: int) -> None:
        """Snapshot (every ``pool_every`` epochs) and record the game's exact measure;
        idempotent, as the runner calls it again when a run resumes at an epoch boundary."""
        every = self.config.self_play.pool_every
        if every and (epoch + 1) % every == 0:
            self.snapshot(epoch)
        self.measure(epoch)

    def measure(self, epoch: int) -> dict[str, Any] | None:
        """Record the exact measure of the live policy after ``epoch`` (once per epoch)."""
        measure = self._measure_fn()
        if measure is None or self.root is None:
            return None
        path = self.root / "measures.jsonl"
        if epoch in {row["epoch"] for row in read_jsonl(path)}:
            return None
        try:
            row = {"epoch": epoch, **measure(self.live())}
        except LLMError as exc:  # a backend fault costs this epoch's measure, not the run
            row = {"epoch": epoch, "error": f"{type(exc).__name__}: {exc}"}
        append_jsonl(path, [row])
        return row

    def _measure_fn(self) -> Measure | None:
        from memplay._lazy import import_target

        env = self.live().env_at(0)
        name = type(getattr(env, "unwrapped", env)).__name__
        entry = MEASURES.get(name)
        if isinstance(entry, str):
            loaded: Measure = import_target(entry, f"self-play measure of {name}")
            return loaded
        return entry
