"""Agent: the one-object way to build an agent, run episodes and read the results.

    >>> from memplay.agents import Agent
    >>> agent = Agent("FrozenLake-4x4-v0", variant="memrl")      # doctest: +SKIP
    >>> result = agent.run(epochs=5, tasks=range(4))               # doctest: +SKIP
    >>> print(result.success_per_epoch, result.last_epoch_success)  # doctest: +SKIP

Defaults: the embedded SmolLM2-135M model choosing actions by scoring, MiniLM embeddings,
MemRL task memory plus step memory. Pass ``llm=`` / ``embedder=`` to use your own. What a
variant uses comes from the variant registry (:mod:`memplay.agents.variants`).
Memory lives in ``<run_dir>/memory`` unless ``memory_dir`` says otherwise; running again
in the same run directory resumes it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from memplay.agents.components import (
    MemoryBundle,
    make_embedder,
    make_env,
    make_llm,
    open_memory,
)
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext, Reflection, StateKey, default_state_key
from memplay.agents.llm.base import LLM
from memplay.agents.reflection import ReflectionSetup, make_reflection
from memplay.agents.run_files import RunFiles
from memplay.agents.runner import RunResult, run_episodes

__all__ = ["Agent"]


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
            ``self_play=True`` (two-player games: the agent is its own opponent and learns
            from both seats, :mod:`memplay.agents.selfplay`) or ``curriculum="sec"`` (which
            tasks each batch plays, :mod:`memplay.agents.curriculum`).

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
        self.extra_reflections = list(reflections or [])
        self.state_key = state_key or default_state_key
        self.memory: MemoryBundle | None = None
        self._memory_dir: Path | None = None
        self._run_dir: Path | None = None
        self.self_play: Any = None  # the SelfPlay set-up of the last context, if any

    @property
    def llm(self) -> LLM:
        """The backend, built on first use."""
        if self._llm is None:
            self._llm = make_llm(self.config)
        return self._llm

    def _memory(self, directory: Path) -> MemoryBundle | None:
        if not self.config.spec.uses_memory:
            return None
        if self.memory is not None and directory != self._memory_dir:
            self.close()  # another directory was asked for: load that one instead
        if self.memory is None:
            self._memory_dir = directory
            if self._embedder is None:
                self._embedder = make_embedder(self.config)
            self.memory = open_memory(self.config, self._embedder, directory)
        return self.memory

    def context(self, memory_dir: Path, **overrides: Any) -> AgentContext:
        """The live context a graph run needs (environments, LLM, memory, reflections).

        ``overrides`` change config fields for this context only (e.g. ``frozen=True``).
        """
        cfg = self.config.model_copy(update=overrides)
        memory = self._memory(memory_dir)
        spec = cfg.spec
        setup = ReflectionSetup(memory_dir, cfg, self.llm, lambda: make_env(cfg), self.state_key)
        step_memory = memory.step_memory if memory and cfg.uses_step_memory else None
        if step_memory is not None and cfg.exact_step_lookup:
            from memplay.agents.selfplay import ExactStates

            step_memory = ExactStates(step_memory)  # type: ignore[arg-type]
        ctx = AgentContext(
            envs=[make_env(cfg) for _ in range(min(cfg.parallel_envs, len(cfg.tasks)))],
            llm=self.llm, config=cfg,
            task_memory=memory.task_memory if memory and spec.task_memory != "none" else None,
            step_memory=step_memory,
            reflections=[*(make_reflection(n, setup) for n in spec.reflections),
                         *self.extra_reflections],
            env_factory=lambda: make_env(cfg), state_key=self.state_key,
        )
        self.self_play = None
        if cfg.self_play.enabled:  # the envs' opponent becomes the agent itself
            from memplay.agents.selfplay import SelfPlay

            self.self_play = SelfPlay(cfg, self._run_dir).attach(ctx)
        return ctx

    def run(self, epochs: int | None = None, tasks: Iterable[int] | None = None, *,
            run_dir: str | Path | None = None, memory_dir: str | Path | None = None,
            frozen: bool = False, progress: bool = True, graph: Any = None) -> RunResult:
        """Run ``epochs`` passes over ``tasks`` (seeds); learn unless ``frozen``.

        Results go to ``run_dir`` (default ``runs/<env>-<variant>-<time>``). With
        ``config.train_every=K`` the weights are fine-tuned on the run's own data after every
        K-th epoch (see :mod:`memplay.agents.training`); memory is kept.
        """
        update: dict[str, Any] = {"frozen": frozen}
        if epochs is not None:
            update["epochs"] = epochs
        if tasks is not None:
            update["tasks"] = list(tasks)
        self.config = AgentConfig.from_source({**self.config.model_dump(), **update})
        root = Path(run_dir) if run_dir is not None else Path("runs") / (
            f"{self.config.env_id}-{self.config.variant}-{time.strftime('%Y%m%d-%H%M%S')}")
        mem_dir = Path(memory_dir) if memory_dir is not None else root / "memory"
        RunFiles(root)  # an unwritable run dir fails now, before any model loads
        # the trainer fails (a backend that cannot reload) before memory opens
        trainer = None if frozen else self._epoch_trainer(root, mem_dir)
        self._run_dir = root
        ctx = self.context(mem_dir)
        save = None if frozen or self.memory is None else self._saver(mem_dir)
        if trainer is not None:
            # new weights make the running per-action score means stale: start them afresh
            trainer.on_reload = ctx.llm_bias.clear
            trainer.resume()
        play = self.self_play
        if play is not None and graph is None:
            graph = play.graph(self.config.variant)
        return run_episodes(
            ctx, root, graph=graph, progress=progress,
            on_batch_end=_chain(save, play.flush if play else None),
            on_epoch_end=_chain(trainer.on_epoch_end if trainer else None,
                                play.on_epoch_end if play and not frozen else None))

    def _epoch_trainer(self, root: Path, memory_dir: Path) -> Any:
        """The weight trainer of a run with ``train_every`` (None without). Rounds also train
        on the critique memory's revisions when it has some. It raises ConfigError for a
        backend that cannot reload weights."""
        if self.config.train_every == 0:
            return None
        from memplay.agents.training import EpochTrainer

        revisions = memory_dir / "critiques" / "revisions.jsonl"
        return EpochTrainer(root, self.llm, self.config, data_files=[revisions])

    def _saver(self, directory: Path) -> Any:
        memory = self.memory

        def save() -> None:
            if memory is not None:
                memory.save(directory)
        return save

    def close(self) -> None:
        """Release the memory directory lock (the agent can still be run again)."""
        if self.memory is not None:
            self.memory.close()
            self.memory = None


def _chain(*hooks: Any) -> Any:
    """One hook calling every given hook in order (None when none is given)."""
    given = [h for h in hooks if h is not None]
    if not given:
        return None

    def call(*args: Any) -> None:
        for hook in given:
            hook(*args)
    return call
