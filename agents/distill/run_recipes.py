"""Recipes over a run's own episodes and its critique memory: successes, pairs, revisions.

- ``successes`` (SFT): every step of every successful episode, in the play prompt, plus the
  critique memory's Agent-R revision records (``<memory>/critiques/revisions.jsonl``) and any
  ``files`` of chat records or revisions. What ``memplay train --method sft`` always did.
- ``pairs`` (DPO): a success and a failure on the same task that part ways give a pair at
  their first different step; plus revision pairs and pair ``files``.
- ``revisions`` (SFT): only the revision trajectories (loss on the revision turn and the good
  continuation, never on the bad prefix).

    >>> from memplay.agents.distill.recipe import DistillSource
    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.types import Step, Trajectory
    >>> source = DistillSource(Path("/no/run"), AgentConfig())
    >>> source.__dict__["trajectories"] = [Trajectory(env_id="e", goal="g", success=True,
    ...     steps=[Step(observation="o", action="up", admissible_actions=["up", "down"])])]
    >>> [r.messages[-1]["content"] for r in SUCCESSES.examples(source)]
    ['up']
"""

from __future__ import annotations

from pathlib import Path

from memplay.agents.distill.recipe import DistillSource, Recipe
from memplay.trainers.data import read_training_file, sft_records
from memplay.trainers.pairs import preference_pairs
from memplay.trainers.records import ChatRecord, PreferencePair

__all__ = ["PAIRS", "REVISIONS", "SUCCESSES", "revision_files"]


def revision_files(source: DistillSource) -> list[Path]:
    """The critique memory's revisions file (when it exists) and the source's files."""
    stored = source.memory_dir / "critiques" / "revisions.jsonl"
    return [*([stored] if stored.is_file() else []), *source.files]


def _successes(source: DistillSource) -> list[ChatRecord]:
    records = sft_records(source.trajectories, dedupe=source.dedupe, prompt_fn=source.prompt_fn)
    for path in revision_files(source):
        records.extend(read_training_file(path, ChatRecord))
    return records


def _pairs(source: DistillSource) -> list[PreferencePair]:
    max_pairs = 8
    pairs = preference_pairs(source.trajectories, source.prompt.system, max_pairs,
                             prompt_fn=source.prompt_fn)
    for path in revision_files(source):
        pairs.extend(read_training_file(path, PreferencePair))
    return pairs


def _revisions(source: DistillSource) -> list[ChatRecord]:
    return [r for path in revision_files(source) for r in read_training_file(path, ChatRecord)]


SUCCESSES = Recipe(
    "successes", "sft",
    "every step of the run's successful episodes (plus critique revisions and chat-record "
    "files); play more episodes until some succeed", _successes)
PAIRS = Recipe(
    "pairs", "dpo",
    "success/failure pairs at the first step where two episodes of one task part ways (plus "
    "revision pairs and pair files); replay each task more than once", _pairs)
REVISIONS = Recipe(
    "revisions", "sft",
    "Agent-R revision trajectories from <memory>/critiques/revisions.jsonl and the given "
    "files; run the critique variant first", _revisions)
