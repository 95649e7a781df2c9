"""Strategy memory: per information state, cumulative regrets and the average strategy.

The memory of regret-minimising self-play (counterfactual regret minimisation, Zinkevich et
al. 2007, in its sampled form, Lanctot et al. 2009). An *information state* is what the
player to act knows, written as a key that names its seat; per key and per action it keeps:

- the **cumulative regret**: how much better the action would have done than the strategy
  played. Its positive part, normalised, is the strategy to play next (regret matching,
  Hart and Mas-Colell 2000; uniform while no regret is positive);
- the **average-strategy weight**: the strategies played, summed with the weight of their
  reach. Normalised it is the *average strategy*, the one that converges to a Nash
  equilibrium in two-player zero-sum games while the current one may cycle; it is what is
  evaluated and exported;
- a **baseline**: a running estimate of the action's value for the seat to act, the control
  variate of the sampled update (VR-MCCFR, Schmid et al. 2019);
- the **LLM's prior**: the sum of the distributions the model gave over the actions and how
  many answers it holds (their mean is the prior).

plus how often the state was met. :mod:`memplay.memory.outcome_sampling` updates it from
sampled games. Saved as ``infostates.jsonl`` (one row per key) and ``manifest.json`` (its
counts: games, decisions, model prompts), atomically, like the other stores.

    >>> mem = StrategyMemory()
    >>> row = mem.entry("card K, first to act", ["check", "bet"])
    >>> row.regrets[:] = [-1.0, 3.0]
    >>> mem.current_strategy("card K, first to act", ["check", "bet"])
    [0.0, 1.0]
    >>> mem.average_strategy("card K, first to act", ["check", "bet"])  # nothing averaged yet
    [0.5, 0.5]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from memplay.errors import MemoryStoreError
from memplay.memory.persistence import (
    WriterLock,
    commit_directory,
    read_manifest,
    validate_manifest,
)

__all__ = ["STRATEGY_KIND", "Infostate", "InfostateRow", "StrategyMemory", "normalised",
           "read_infostate_rows", "regret_matching"]

STRATEGY_KIND = "memplay-strategy-memory"
ROWS = "infostates.jsonl"
COUNTERS = ("games", "decisions", "model_prompts")


def regret_matching(regrets: Sequence[float]) -> list[float]:
    """The strategy regret matching plays: positive regrets normalised, else uniform.

    >>> regret_matching([2.0, -1.0, 6.0])
    [0.25, 0.0, 0.75]
    >>> regret_matching([0.0, -3.0])
    [0.5, 0.5]
    """
    positive = [max(r, 0.0) for r in regrets]
    total = sum(positive)
    if total <= 0.0:
        return [1.0 / len(regrets)] * len(regrets)
    return [p / total for p in positive]


def normalised(weights: Sequence[float]) -> list[float]:
    """``weights`` scaled to sum to 1 (uniform when they sum to 0).

    >>> normalised([1.0, 3.0]), normalised([0.0, 0.0])
    ([0.25, 0.75], [0.5, 0.5])
    """
    total = sum(weights)
    if total <= 0.0:
        return [1.0 / len(weights)] * len(weights)
    return [w / total for w in weights]


@dataclass
class Infostate:
    """What memory keeps about one information state (see the module docstring).

    >>> row = Infostate(["fold", "call"])
    >>> row.regrets, row.visits, row.prior()
    ([0.0, 0.0], 0, None)
    """

    actions: list[str]
    regrets: list[float] = field(default_factory=list)
    average: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    prior_sum: list[float] = field(default_factory=list)
    prior_count: int = 0
    visits: int = 0

    def __post_init__(self) -> None:
        zeros = [0.0] * len(self.actions)
        for name in ("regrets", "average", "baseline", "prior_sum"):
            if not getattr(self, name):
                setattr(self, name, list(zeros))

    def prior(self) -> list[float] | None:
        """The mean of the LLM's distributions over the actions, None before any answer.

        >>> Infostate(["a", "b"], prior_sum=[1.5, 0.5], prior_count=2).prior()
        [0.75, 0.25]
        """
        if self.prior_count == 0:
            return None
        return [p / self.prior_count for p in self.prior_sum]


class InfostateRow(BaseModel):
    """One row of ``infostates.jsonl`` (checked on load and on archive import).

    >>> InfostateRow.model_validate({"key": "k", "actions": ["a"], "regrets": [1.0],
    ...     "average": [0.0], "baseline": [0.0], "prior_sum": [0.0]}).visits
    0
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    key: str
    actions: list[str] = Field(min_length=1)
    regrets: list[float]
    average: list[float]
    baseline: list[float]
    prior_sum: list[float]
    prior_count: int = Field(default=0, ge=0)
    visits: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_value_per_action(self) -> InfostateRow:
        n = len(self.actions)
        if len(set(self.actions)) != n:
            raise ValueError(f"actions {self.actions} repeat an action")
        for name in ("regrets", "average", "baseline", "prior_sum"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} values for {n} "
                                 "actions")
        if min(self.average) < 0.0:
            raise ValueError("average-strategy weights must be >= 0")
        return self


def read_infostate_rows(lines: Iterable[str], where: object) -> Iterator[InfostateRow]:
    """Parse JSONL rows; MemoryStoreError names ``where`` and the line of a bad one.

    >>> list(read_infostate_rows(['{"key": "k"}'], "x.jsonl"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.MemoryStoreError: x.jsonl line 1 is not an information state row ...
    """
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield InfostateRow.model_validate_json(line)
        except ValidationError as exc:
            raise MemoryStoreError(f"{where} line {number} is not an information state row "
                                   f"({exc.errors()[0]['msg']}); restore the file from a "
                                   "backup or an exported archive") from None


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="allow")
    counts: dict[str, int] = Field(default_factory=dict)


class StrategyMemory(WriterLock):
    """Information state key -> :class:`Infostate`, with counters of what taught it.

    ``counts``: ``games`` learned from, ``decisions`` taken and ``model_prompts`` (decisions
    whose prior came from an LLM answer). The module docstring has an example.
    """

    def __init__(self) -> None:
        self.table: dict[str, Infostate] = {}
        self.counts: dict[str, int] = dict.fromkeys(COUNTERS, 0)

    def __len__(self) -> int:
        return len(self.table)

    def get(self, key: str) -> Infostate | None:
        """The information state stored under ``key``, or None."""
        return self.table.get(key)

    def entry(self, key: str, actions: Sequence[str]) -> Infostate:
        """The row of ``key``, made on first use; its actions must stay the same.

        >>> mem = StrategyMemory(); _ = mem.entry("k", ["a", "b"])
        >>> mem.entry("k", ["a"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        memplay.errors.MemoryStoreError: information state 'k' was stored with actions ...
        """
        row = self.table.get(key)
        if row is None:
            row = self.table[key] = Infostate(list(actions))
        elif row.actions != list(actions):
            raise MemoryStoreError(
                f"information state {key!r} was stored with actions {row.actions}, now met with "
                f"{list(actions)}: a key must name everything that decides the legal actions "
                "(use the game's portable view, or a state text that names them)")
        return row

    def current_strategy(self, key: str, actions: Sequence[str]) -> list[float]:
        """Regret matching at ``key`` (uniform for an unknown key)."""
        row = self.table.get(key)
        return regret_matching(row.regrets) if row is not None else \
            [1.0 / len(actions)] * len(actions)

    def average_strategy(self, key: str, actions: Sequence[str]) -> list[float]:
        """The average strategy at ``key`` (uniform for an unknown or never averaged key)."""
        row = self.table.get(key)
        return normalised(row.average) if row is not None else \
            [1.0 / len(actions)] * len(actions)

    # ------------------------------------------------------------------ files
    def to_rows(self) -> list[dict[str, Any]]:
        """Every information state as a JSON-ready row, by key."""
        return [{"key": key, "actions": row.actions, "regrets": row.regrets,
                 "average": row.average, "baseline": row.baseline, "prior_sum": row.prior_sum,
                 "prior_count": row.prior_count, "visits": row.visits}
                for key, row in sorted(self.table.items())]

    def save(self, directory: str | Path) -> Path:
        """Write ``infostates.jsonl`` and ``manifest.json`` atomically; keeps a write lock.

        >>> import tempfile, pathlib
        >>> mem = StrategyMemory(); mem.entry("k", ["a", "b"]).average[:] = [1.0, 3.0]
        >>> path = mem.save(pathlib.Path(tempfile.mkdtemp()) / "strategy"); mem.close()
        >>> StrategyMemory.load(path).average_strategy("k", ["a", "b"])
        [0.25, 0.75]
        """
        self.take_lock(directory)
        manifest = {"kind": STRATEGY_KIND, "counts": {"infostates": len(self), **self.counts}}
        return commit_directory(directory, self._write_rows, manifest)

    def _write_rows(self, tmp: Path) -> None:
        with (tmp / ROWS).open("w", encoding="utf-8") as fh:
            for row in self.to_rows():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> StrategyMemory:
        """Read a directory written by :meth:`save` (its checksums are verified)."""
        manifest = read_manifest(directory, kind=STRATEGY_KIND)
        shape = validate_manifest(manifest, _Manifest, Path(directory) / "manifest.json")
        mem = cls()
        mem.counts.update({k: v for k, v in shape.counts.items() if k in COUNTERS})
        path = Path(directory) / ROWS
        with path.open(encoding="utf-8") as fh:
            for row in read_infostate_rows(fh, path):
                mem.table[row.key] = Infostate(
                    row.actions, row.regrets, row.average, row.baseline, row.prior_sum,
                    row.prior_count, row.visits)
        return mem

    @classmethod
    def open(cls, directory: str | Path) -> StrategyMemory:
        """The memory saved in ``directory``, or an empty one when there is none yet.

        >>> import tempfile, pathlib
        >>> len(StrategyMemory.open(pathlib.Path(tempfile.mkdtemp()) / "none"))
        0
        """
        if (Path(directory) / "manifest.json").is_file():
            return cls.load(directory)
        return cls()
