"""MemoryConfig: every memory setting of an agent, declared once and validated once.

``AgentConfig.memory`` is this model. Its two sections are the settings objects the memory
classes take as they are: ``retrieval`` is MemRL's
:class:`~memplay.memory.retrieval.RetrievalConfig` (k1, k2, delta, lam, alpha, q_init,
merge_threshold...; k2 <= k1 is checked there) and ``steps`` is
:class:`~memplay.memory.step_memory.StepMemoryConfig` (lookup rule, threshold, neighbours,
kernel, bound). The rest says how an agent uses step memory: whether at all, what
keys it, and the returns its updates credit.

Configs written before memplay 0.3 kept the retrieval and step settings flat
(``memory.k1``, ``memory.step_k``...); they still load, with a DeprecationWarning naming
the new field.

    >>> cfg = MemoryConfig(retrieval={"k1": 8, "k2": 4}, steps={"k_neighbors": 3})
    >>> cfg.retrieval.k2, cfg.steps.k_neighbors, cfg.step_keys
    (4, 3, 'view')
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from memplay.memory.retrieval import RetrievalConfig
from memplay.memory.step_memory import StepMemoryConfig

__all__ = ["MOVED_FIELDS", "MemoryConfig"]

# old flat field -> (section, field) it moved to (memplay 0.3)
MOVED_FIELDS: dict[str, tuple[str, str]] = {
    **{name: ("retrieval", name) for name in
       ("k1", "k2", "delta", "lam", "alpha", "q_init", "merge_threshold")},
    "step_lookup": ("steps", "lookup"), "step_threshold": ("steps", "threshold"),
    "step_k": ("steps", "k_neighbors"), "step_kernel": ("steps", "kernel"),
    "step_max_states": ("steps", "max_states"),
}


class MemoryConfig(BaseModel):
    """How memories are retrieved, valued and written back (MemRL defaults from the paper).

    >>> MemoryConfig(retrieval={"k1": 2, "k2": 3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for MemoryConfig
    retrieval
      Value error, k2=3 is larger than k1=2: ...
    """

    model_config = ConfigDict(extra="forbid")

    retrieval: RetrievalConfig = Field(
        default_factory=RetrievalConfig,
        description="Task memory: MemRL's two-phase retrieval, Q-updates and write-back.")
    steps: StepMemoryConfig = Field(
        default_factory=StepMemoryConfig,
        description="Step memory: how (kind, context) values are looked up and bounded.")
    step_memory: bool = Field(
        default=True, description="Use step-level memory ((kind, context) -> action Q)."
    )
    step_keys: Literal["view", "state"] = Field(
        default="view", description="Key step memory by the environment's portable view "
        "(values carry to other maps; falls back to the state when there is none) or by the "
        "whole state text (memplay < 0.2; what self-play always uses).")
    step_exact: bool = Field(
        default=False,
        description="Only (kind, context) keys step memory stored exactly answer (no value "
        "borrowed from similar contexts); self-play always looks up exactly, so the two seats "
        "of a game never borrow each other's values.",
    )
    gamma: float = Field(
        default=0.95, ge=0.0, le=1.0,
        description="Discount of step returns (outcome and novelty) over earlier steps.",
    )
    novelty: float = Field(
        default=0.3, ge=0.0,
        description="Intrinsic reward for the first visit (per episode) to a rare state.",
    )
    noop_penalty: float = Field(
        default=0.5, ge=0.0, description="Return of a move that left the state unchanged."
    )
    hindsight: bool = Field(
        default=True, description="Learn every goal an episode achieved besides its own as a "
        "success of that goal (hindsight relabelling; environments that report "
        "info['achieved_goals'], such as ALFWorld). Turn it off when memory already holds "
        "demonstrations: on ALFWorld it lowered what 600 walkthroughs had taught "
        "(docs/ALFWORLD.md).")
    embedder: Literal["default", "hash"] = Field(
        default="default", description="'default' is MiniLM; 'hash' is fast, model-free (tests)."
    )

    @model_validator(mode="before")
    @classmethod
    def _move_flat_fields(cls, data: Any) -> Any:
        """Accept the pre-0.3 flat names (``memory.k1``, ``memory.step_k``...), with a
        deprecation warning naming the new field.

        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     MemoryConfig.model_validate({"step_k": 3}).steps.k_neighbors
        3
        >>> str(caught[0].message)
        'config field memory.step_k moved to memory.steps.k_neighbors; update the config'
        """
        if not isinstance(data, Mapping) or not set(data) & set(MOVED_FIELDS):
            return data
        data = dict(data)
        for old in [name for name in data if name in MOVED_FIELDS]:
            section, new = MOVED_FIELDS[old]
            held = data.get(section) or {}
            if not isinstance(held, Mapping):
                continue  # pydantic reports the bad section
            # the old place was written on purpose: it wins over a dumped default
            data[section] = {**held, new: data.pop(old)}
            warnings.warn(f"config field memory.{old} moved to memory.{section}.{new}; "
                          "update the config", DeprecationWarning, stacklevel=2)
        return data

    def retrieval_for(self, ranking: str) -> RetrievalConfig:
        """The retrieval settings of a task memory ranked by MemRL's similarity-then-Q score,
        or by similarity alone (``lam = 0``: plain RAG).

        >>> MemoryConfig().retrieval_for("similarity").lam
        0.0
        """
        if ranking == "similarity":
            return self.retrieval.model_copy(update={"lam": 0.0})
        return self.retrieval
