"""Agent: the one-object way to build an agent, run episodes and read the results.

    >>> from memplay.agents import Agent
    >>> agent = Agent("FrozenLake-4x4-v0", variant="memrl")      # doctest: +SKIP
    >>> result = agent.run(epochs=5, tasks=range(4))               # doctest: +SKIP
    >>> print(result.success_per_epoch, result.last_epoch_success)  # doctest: +SKIP

Defaults: the embedded SmolLM2-135M model choosing actions by scoring, MiniLM embeddings,
MemRL task memory plus step memory. Pass ``llm=`` / ``embedder=`` to use your own. What a
variant uses comes from the variant registry (:mod:`memplay.agents.variants`).
Memory lives in ``<run_dir>/memory`` unless ``memory_dir`` says otherwise; running again
in the same run directory resumes it: on the memory directory its ``config.yaml`` recorded,
with the run's latest trained weights (``models/vN``), and with an LLM object passed again
when the run played with one that memplay cannot rebuild (see :class:`RunRecord`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memplay.agents.components import (
    MemoryBundle,
    make_embedder,
    make_env,
    make_llm,
    make_workers,
    open_memory,
)
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext, Reflection, StateKey, default_state_key
from memplay.agents.distill.play import config_for_model
from memplay.agents.methods.registry import ReflectionSetup, make_reflection
from memplay.agents.run_files import RunFiles
from memplay.agents.run_log.epoch_log import EpochLog
from memplay.agents.runner import RunResult, run_episodes
from memplay.errors import ConfigError
from memplay.llm.base import LLM
from memplay.llm.registry import BACKENDS
from memplay.run_dir import RunDir

__all__ = ["Agent", "RunRecord", "registered_backend", "trained_model"]

log = logging.getLogger(__name__)


def registered_backend(llm: Any) -> str | None:
    """The LLM registry name whose entry is ``llm``'s class (None: not a registered class).

    >>> from memplay.llm.fake import ScriptedLLM
    >>> registered_backend(ScriptedLLM()), registered_backend(object())
    ('scripted', None)
    """
    cls = type(llm)
    target = f"{cls.__module__}:{cls.__qualname__}"
    for name in BACKENDS:
        entry = BACKENDS.raw(name)
        if entry == target or entry is cls:
            return name
    return None


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


@dataclass(frozen=True)
class RunRecord:
    """What an earlier run left in its directory that resuming it must keep.

    ``llm.json`` (:attr:`RunDir.llm <memplay.run_dir.RunDir.llm>`) says which backend played:
    ``llm``, its registry name, or null for an object memplay cannot rebuild; ``class``;
    ``name``.

    Attributes:
        memory_dir: The memory directory it used (None: no run there yet).
        llm_object: The class of an LLM object it played with that is not a registered
            backend (``Agent(llm=obj)``); memplay cannot rebuild it, so a resume must pass a
            backend again. None when ``config.yaml``'s ``llm`` says what played.

    >>> import tempfile
    >>> RunRecord.read(tempfile.mkdtemp())
    RunRecord(memory_dir=None, llm_object=None)
    """

    memory_dir: Path | None = None
    llm_object: str | None = None

    @classmethod
    def read(cls, run_dir: str | Path) -> RunRecord:
        """Read ``config.yaml`` and ``llm.json`` of ``run_dir`` (both optional)."""
        run = RunDir(run_dir)
        llm_object = None
        if run.llm.is_file():
            try:
                played = json.loads(run.llm.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{str(run.llm)!r} is not readable JSON ({exc}); "
                                  "delete it to resume with config.yaml's llm") from None
            if isinstance(played, dict) and played.get("llm") is None:
                llm_object = str(played.get("class") or "unknown")
        return cls(run.recorded_memory_dir(), llm_object)

    def check_backend(self, run_dir: Path, given: bool) -> None:
        """Raise ConfigError when the run played with an object that memplay cannot
        rebuild and no backend was ``given`` for the resume."""
        if self.llm_object is None or given:
            return
        raise ConfigError(
            f"run dir {str(run_dir)!r} played with an LLM object of class {self.llm_object} "
            "(Agent(llm=...)), which memplay cannot rebuild from its config.yaml; resume it "
            "with that object again, Agent(llm=...), or on the command line name a "
            f"registered backend with --llm NAME ({', '.join(BACKENDS)})")


def trained_model(config: AgentConfig, run_dir: str | Path, owner: str = "this run"
                  ) -> tuple[AgentConfig, str]:
    """``config`` with the run's latest complete ``models/vN`` when the run trained its
    weights and no model was chosen (transformers backend, ``model=None``), and a line
    saying so ('' when unchanged). ``memplay eval`` and resumed runs follow this rule.

    >>> trained_model(AgentConfig(), "/no/such/run")[1]
    ''
    """
    from memplay.trainers.version import latest_version

    if config.llm != "transformers" or config.model is not None:
        return config, ""  # the user chose a model, or the backend cannot load a version
    latest = latest_version(run_dir)
    if latest is None:
        return config, ""
    note = (f"model: {latest} (the latest trained version of {owner}; pass --model, or "
            "Agent(model=...), to play with another)")
    return config.model_copy(update={"model": str(latest)}), note


class Agent:
    """An LLM agent with episodic memory on one environment.

    Args:
        env_id: Registered environment id.
        variant: A registered variant (``none``, ``rag``, ``memrl``, ``playbook``,
            ``critique``, ``reflexion``, ``expel``...) or several joined with ``+``
            (``memrl+playbook``); see :mod:`memplay.agents.variants`.
        llm: Any LLM-protocol backend; default from ``config.llm`` (embedded model).
        embedder: Memory embedder; default from ``config.memory.embedder`` (MiniLM).
        reflections: Your own reflections (objects with ``tag``, ``learn`` and
            ``prompt_text``), used next to the variant's.
        state_key: ``(env, observation, info) -> text`` step memory keys states by
            (default: :func:`~memplay.agents.context.default_state_key`).
        config: Base :class:`AgentConfig` (a mapping, a YAML path or a model).
        **overrides: Any AgentConfig field (``epochs=3``, ``parallel_envs=8``...), such as
            ``self_play=True`` (two-player games: the agent plays both seats and learns
            from both, :mod:`memplay.agents.selfplay`; with ``variant="mccfr"`` it learns a
            strategy that converges to an equilibrium, :mod:`memplay.agents.mccfr`) or
            ``curriculum="sec"`` (which tasks each batch plays,
            :mod:`memplay.agents.curriculum`) or ``executor="ray"``
            (the environments run as Ray actors, see
            :mod:`memplay.environments.executors.ray_workers`; ``ray_address="auto"`` joins a
            running cluster; the LLM calls and memory writes stay in this process).

    >>> Agent("FrozenLake-4x4-v0", variant="none").config.variant
    'none'
    """

    def __init__(self, env_id: str | None = None, variant: str | None = None, *,
                 llm: LLM | Any = None, embedder: Any = None,
                 reflections: list[Reflection] | None = None,
                 state_key: StateKey | None = None,
                 config: AgentConfig | dict[str, Any] | str | Path | None = None,
                 **overrides: Any) -> None:
        base = config.model_dump() if isinstance(config, AgentConfig) else \
            AgentConfig.from_source(config).model_dump()
        given = {"env_id": env_id, "variant": variant}
        fields = {**base, **{k: v for k, v in given.items() if v is not None}, **overrides}
        self.config = AgentConfig.from_source(fields)
        self._llm, self._embedder = llm, embedder
        # What the object is, so config.yaml records the backend that really plays.
        self._llm_object = None if llm is None or registered_backend(llm) else _class_path(llm)
        backend = registered_backend(llm) if llm is not None else None
        if backend is not None and backend != self.config.llm:
            # the config's model and kwargs described another backend
            self.config = self.config.model_copy(
                update={"llm": backend, "model": None, "llm_kwargs": {}})
        self.extra_reflections = list(reflections or [])
        self.state_key = state_key or default_state_key
        self.memory: MemoryBundle | None = None
        self._memory_dir: Path | None = None
        self._run_dir: Path | None = None
        self.self_play: Any = None  # the SelfPlay set-up of the last context, if any
        self.strategy_memory: Any = None  # variants with a strategy memory (mccfr)
        self._strategy_dir: Path | None = None
        self._weights: Path | None = None  # a run's trained version the backend holds

    @property
    def llm(self) -> LLM:
        """The backend, built on first use."""
        if self._llm is None:
            self._llm = make_llm(self.config)
        return self._llm

    def open_memory(self, directory: Path) -> MemoryBundle:
        """The agent's memory in ``directory`` (loaded when it holds one), kept open (and
        locked on save) until :meth:`close`.

        >>> agent = Agent(memory={"embedder": "hash"})
        >>> import tempfile; len(agent.open_memory(tempfile.mkdtemp()).store)
        0
        """
        directory = Path(directory)
        if self.memory is not None and directory != self._memory_dir:
            self.close()  # another directory was asked for: load that one instead
        if self.memory is None:
            self._memory_dir = directory
            if self._embedder is None:
                self._embedder = make_embedder(self.config)
            self.memory = open_memory(self.config, self._embedder, directory)
        return self.memory

    def _memory(self, directory: Path) -> MemoryBundle | None:
        return self.open_memory(directory) if self.config.spec.uses_memory else None

    def _llm_record(self) -> dict[str, Any]:
        """What ``<run>/llm.json`` says about the backend that plays."""
        return {"llm": None if self._llm_object else self.config.llm,
                "class": _class_path(self.llm), "name": str(self.llm.name)}

    def context(self, memory_dir: Path, **overrides: Any) -> AgentContext:
        """The live context a graph run needs (environments, LLM, memory, reflections).

        ``overrides`` change config fields for this context only (e.g. ``frozen=True``).
        """
        cfg = config_for_model(self.config.model_copy(update=overrides),
                               self._weights or self.config.model)
        memory = self._memory(memory_dir)
        spec = cfg.spec
        self.self_play = None
        if cfg.self_play.enabled:  # both seats: the runner moves for the seat to play
            from memplay.agents.selfplay import SelfPlay

            self.self_play = SelfPlay(cfg, self._run_dir)  # refuses a one-player game
        setup = ReflectionSetup(memory_dir, cfg, self.llm, lambda: make_env(cfg), self.state_key)
        step_memory = memory.step_memory if memory and cfg.uses_step_memory else None
        if step_memory is not None and cfg.exact_step_lookup:
            from memplay.agents.selfplay import ExactStates

            step_memory = ExactStates(step_memory)
        ctx = AgentContext(
            envs=make_workers(cfg, min(cfg.parallel_envs, len(cfg.tasks))),
            llm=self.llm, config=cfg,
            task_memory=memory.task_memory if memory and spec.task_memory != "none" else None,
            step_memory=step_memory,
            reflections=[*(make_reflection(n, setup) for n in spec.reflections),
                         *self.extra_reflections],
            env_factory=lambda: make_env(cfg), state_key=self.state_key,
            strategy_memory=self._strategy(memory_dir) if spec.strategy_memory else None,
        )
        if self.self_play is not None:
            self.self_play.attach(ctx)
        return ctx

    def _strategy(self, memory_dir: Path) -> Any:
        """The strategy memory in ``<memory_dir>/strategy`` (loaded once per directory)."""
        from memplay.agents.mccfr import open_strategy_memory

        if self.strategy_memory is None or self._strategy_dir != Path(memory_dir):
            if self.strategy_memory is not None:
                self.strategy_memory.close()
            self.strategy_memory = open_strategy_memory(memory_dir)
            self._strategy_dir = Path(memory_dir)
        return self.strategy_memory

    def run(self, epochs: int | None = None, tasks: Iterable[int] | None = None, *,
            run_dir: str | Path | None = None, memory_dir: str | Path | None = None,
            frozen: bool = False, progress: bool = True, graph: Any = None) -> RunResult:
        """Run ``epochs`` passes over ``tasks`` (seeds); learn unless ``frozen``.

        Results go to ``run_dir`` (default ``runs/<env>-<variant>-<time>``). With
        ``config.train_every=K`` the weights are fine-tuned on the run's own data after every
        K-th epoch (see :mod:`memplay.agents.training`); memory is kept.

        Memory: ``memory_dir``, else ``config.memory_dir``, else the one an earlier run in
        ``run_dir`` recorded, else ``<run_dir>/memory``. A ``run_dir`` that holds trained
        weights (``models/vN``) is played with its latest version when no model was chosen.
        """
        update: dict[str, Any] = {"frozen": frozen}
        if epochs is not None:
            update["epochs"] = epochs
        if tasks is not None:
            update["tasks"] = list(tasks)
        self.config = AgentConfig.from_source({**self.config.model_dump(), **update})
        root = Path(run_dir) if run_dir is not None else Path("runs") / (
            f"{self.config.env_id}-{self.config.variant}-{time.strftime('%Y%m%d-%H%M%S')}")
        run = RunFiles(root)  # an unwritable run dir fails now, before any model loads
        record = RunRecord.read(root)
        record.check_backend(root, given=self._llm is not None)
        mem_dir = Path(memory_dir or self.config.memory_dir or record.memory_dir or run.memory)
        self._play_trained_weights(root)
        # the trainer fails (a backend that cannot reload) before memory opens
        trainer = None if frozen else self._epoch_trainer(root, mem_dir)
        epoch_log = EpochLog(root, self.config,
                             then=trainer.on_epoch_end if trainer else None)
        self._run_dir = root
        ctx = self.context(mem_dir)
        epoch_log.memory = self.memory  # memory_stats.jsonl: Q-values after each epoch
        # config.yaml records the memory directory, so a resume continues on it
        ctx.config = ctx.config.model_copy(
            update={"memory_dir": run.memory_dir_setting(mem_dir)})
        save = None if frozen or (self.memory is None and self.strategy_memory is None) \
            else self._saver(mem_dir)
        if trainer is not None:
            trainer.on_reload = lambda path: self._use_weights(ctx, path)
            trainer.step_memory = self.memory.step_memory if self.memory else None
            trainer.resume()
        play = self.self_play
        if play is not None and graph is None:
            graph = play.graph(self.config.variant)
        try:
            return run_episodes(
                ctx, root, graph=graph, progress=progress,
                on_batch_end=_chain(save, play.flush if play else None),
                on_epoch_end=_chain(epoch_log.on_epoch_end,
                                    play.on_epoch_end if play and not frozen else None),
                llm_record=self._llm_record())
        finally:
            epoch_log.close()
            ctx.workers.close()

    def _use_weights(self, ctx: AgentContext, path: Path) -> None:
        """After a round loaded ``path``: play it as its recipe trained it to be played, and
        start the per-action score means afresh (they described the old weights)."""
        self._weights = path
        ctx.llm_bias.clear()
        played = config_for_model(self.config, path)
        ctx.config = ctx.config.model_copy(update={"prompt": played.prompt,
                                                   "policy": played.policy})

    def _play_trained_weights(self, root: Path) -> None:
        """Resuming a run that trained its weights (by hand, ``memplay train``, when
        ``train_every`` is 0; with ``train_every`` the trainer reloads them): build the
        backend on the run's latest ``models/vN``, and say so."""
        if self._llm is not None or self.config.train_every:
            return
        picked, note = trained_model(self.config, root)
        if note:
            log.warning(note)
            self._llm = make_llm(picked)
            self._weights = Path(str(picked.model))

    def learn_from(self, demos: Sequence[Any], memory_dir: str | Path,
                   provenance: str | None = None, replay: bool = True) -> Any:
        """Write episodes the agent did not play into its memory in ``memory_dir``: demo
        files (JSONL, see :mod:`memplay.demos`), :class:`~memplay.demos.DemoEpisode` objects
        or trajectories. Each is replayed first; a bad one stops everything with its
        ``file:line`` and nothing is written (see :mod:`memplay.agents.demos`).
        ``replay=False`` trusts trajectories an environment produced (checking each action
        against its recorded admissible actions instead): ALFWorld games take ~2 s to replay.

        >>> agent = Agent("FrozenLake-4x4-v0", memory={"embedder": "hash"})  # doctest: +SKIP
        >>> agent.learn_from(["walkthroughs.jsonl"], "runs/m").episodes   # doctest: +SKIP
        12
        """
        from memplay.agents.demos import learn_demos, load_demos

        return learn_demos(self, load_demos(demos, provenance), Path(memory_dir), replay)

    def _epoch_trainer(self, root: Path, memory_dir: Path) -> Any:
        """The weight trainer of a run with ``train_every`` (None without); its recipe reads
        the run's memory in ``memory_dir``. It raises ConfigError for a backend that cannot
        reload weights."""
        if self.config.train_every == 0:
            return None
        from memplay.agents.training import EpochTrainer

        return EpochTrainer(root, self.llm, self.config, memory_dir=memory_dir)

    def _saver(self, directory: Path) -> Any:
        memory, strategy = self.memory, self.strategy_memory

        def save() -> None:
            if memory is not None:
                memory.save(directory)
            if strategy is not None:
                strategy.save(directory / "strategy")
        return save

    def close(self) -> None:
        """Release the memory directory lock (the agent can still be run again)."""
        if self.memory is not None:
            self.memory.close()
            self.memory = None
        if self.strategy_memory is not None:
            self.strategy_memory.close()
            self.strategy_memory = None


def _chain(*hooks: Any) -> Any:
    """One hook calling every given hook in order (None when none is given)."""
    given = [h for h in hooks if h is not None]
    if not given:
        return None

    def call(*args: Any) -> None:
        for hook in given:
            hook(*args)
    return call
