"""Building the live parts of an agent from an AgentConfig: LLM, embedder, memory, envs.

Heavy libraries load only here and only when asked for, so configs and graphs stay cheap.

    >>> from memplay.agents.config import AgentConfig
    >>> make_embedder(AgentConfig(memory={"embedder": "hash"})).name.startswith("hash")
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memplay.agents.config import AgentConfig
from memplay.agents.context import Env, StepMemoryLike, TaskMemory
from memplay.llm.base import LLM

__all__ = ["MemoryBundle", "make_embedder", "make_env", "make_llm", "make_workers",
           "open_memory"]

HASH_DIM = 256


def make_llm(config: AgentConfig) -> LLM:
    """The configured backend from the LLM registry; ``transformers`` with ``model=None``
    is the embedded SmolLM2-135M.

    >>> make_llm(AgentConfig(llm="scripted")).name
    'scripted'
    """
    from memplay.llm.registry import make_llm as make_backend

    kwargs = dict(config.llm_kwargs)
    if config.model is not None:
        kwargs.setdefault("model", config.model)
    return make_backend(config.llm, **kwargs)


def make_embedder(config: AgentConfig) -> Any:
    """MiniLM (``default``) or the model-free hashing embedder (``hash``)."""
    from memplay.memory.embedders import HashEmbedder, default_embedder

    return HashEmbedder(HASH_DIM) if config.memory.embedder == "hash" else default_embedder()


def make_workers(config: AgentConfig, count: int) -> Any:
    """``count`` environments of the configured id, in this process, in worker processes or
    in Ray actors (``config.env_workers``); see :mod:`memplay.environments.executors.workers`.

    >>> make_workers(AgentConfig(), 2).num_envs
    2
    """
    return _EXECUTORS[config.env_workers](config, count)


def _local_envs(config: AgentConfig, count: int) -> Any:
    from memplay.environments.executors.workers import LocalEnvs

    return LocalEnvs.from_envs([make_env(config) for _ in range(count)],
                               lambda: make_env(config))


def _process_envs(config: AgentConfig, count: int) -> Any:
    from memplay.environments.executors.workers import EnvRecipe, ProcessEnvs

    return ProcessEnvs(EnvRecipe(config.env_id, dict(config.env_kwargs)), count)


def _ray_envs(config: AgentConfig, count: int) -> Any:
    from memplay.environments.executors.ray_workers import RayEnvs
    from memplay.environments.executors.workers import EnvRecipe

    return RayEnvs(EnvRecipe(config.env_id, dict(config.env_kwargs)), count,
                   envs_per_actor=config.ray_envs_per_actor, address=config.ray_address)


# config.env_workers -> how that executor builds its environments
_EXECUTORS = {"local": _local_envs, "process": _process_envs, "ray": _ray_envs}


def make_env(config: AgentConfig) -> Env:
    """One environment of the configured id (unknown ids raise EnvironmentNotFound)."""
    from memplay.environments import make

    return make(config.env_id, **config.env_kwargs)


@dataclass
class MemoryBundle:
    """The store, its MemRL retriever and the step memory, saved and loaded together."""

    store: Any
    task_memory: TaskMemory
    step_memory: StepMemoryLike

    def save(self, directory: str | Path) -> None:
        """Write both memories under ``directory`` (``store/`` and ``steps/``)."""
        root = Path(directory)
        self.store.save(root / "store")
        self.step_memory.save(root / "steps")  # type: ignore[attr-defined]

    def close(self) -> None:
        """Release the directory locks of the store and of the step memory."""
        self.store.close()
        self.step_memory.close()  # type: ignore[attr-defined]


def load_step_memory(config: AgentConfig, embedder: Any, directory: str | Path) -> Any:
    """The step memory saved in ``<directory>/steps``, looked up as ``config`` says."""
    from memplay.memory.step_memory import StepMemory

    steps = StepMemory.load(Path(directory) / "steps", embedder)
    # how values are looked up is the run's choice, whatever the memory was saved with
    steps.config = steps.config.looked_up_as(config.memory.steps)
    return steps


def open_memory(config: AgentConfig, embedder: Any, directory: str | Path | None) -> MemoryBundle:
    """Load memory from ``directory`` when it holds one, else start empty.

    The retriever ranks by MemRL's similarity-then-Q score, or by similarity alone
    (``lambda = 0``) for variants whose task memory is plain RAG. A directory written with
    another embedder raises EmbedderMismatch (from the store).
    """
    from memplay.memory import FaissMemoryStore
    from memplay.memory.retrieval import MemRLRetriever
    from memplay.memory.step_memory import StepMemory

    root = Path(directory) if directory is not None else None
    if root is not None and (root / "store").is_dir():
        store = FaissMemoryStore.load(root / "store", embedder)
        steps = load_step_memory(config, embedder, root)
    else:
        store = FaissMemoryStore(embedder)
        steps = StepMemory(embedder, config.memory.steps)
    retrieval = config.memory.retrieval_for(config.spec.task_memory)
    return MemoryBundle(store, MemRLRetriever(store, retrieval), steps)
