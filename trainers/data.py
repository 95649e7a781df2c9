"""SFT data from a run directory: successful trajectories and revision records.

A run directory (docs/CONTRACTS.md) holds ``trajectories.jsonl`` with one
:class:`memplay.types.Trajectory` per line. Each successful trajectory becomes a
:class:`ChatRecord` whose assistant turns (the actions) all carry loss; revision records
exported by the reflection module (Agent-R) are read as they are, loss only on the turns they
list in ``train_on``.

    >>> from memplay.types import Step, Trajectory
    >>> t = Trajectory(env_id="FrozenLake-4x4-v0", goal="reach G", success=True,
    ...                steps=[Step(observation="at (0,0)", action="down")])
    >>> sft_records([t])[0].train_on
    [2]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pydantic import ValidationError

from memplay.config import format_validation_error
from memplay.errors import DataNotFound, TrainerError
from memplay.run_dir import RunDir
from memplay.trainers.records import ChatRecord, Message, RecordT, parse_row, read_rows
from memplay.trainers.revisions import RevisionTrajectory, revision_preference, revision_record
from memplay.types import Trajectory

__all__ = [
    "PromptFn",
    "collect_examples",
    "collect_sft",
    "load_trajectories",
    "read_training_file",
    "sft_records",
]

#: ``prompt_fn(trajectory, i)`` -> the chat messages the agent saw before acting at step i.
PromptFn = Callable[[Trajectory, int], list[Message]]


def load_trajectories(run_dir: str | Path) -> list[Trajectory]:
    """Read every trajectory of a run directory, in file order.

    >>> load_trajectories("/nonexistent")
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/trajectories.jsonl not found; ...
    """
    path = RunDir(run_dir).trajectories
    if not path.is_file():
        raise DataNotFound(
            f"{path} not found; train from a run directory written by the runner "
            "(`memplay run ...`), which stores one trajectory per episode there"
        )
    trajectories = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            trajectories.append(Trajectory.model_validate_json(line))
        except ValidationError as exc:
            raise TrainerError(
                f"{path}:{number} is not a Trajectory: {format_validation_error(exc)}"
            ) from None
    return trajectories


def _step_examples(traj: Trajectory, prompt_fn: PromptFn) -> list[ChatRecord]:
    records = []
    for i, step in enumerate(traj.steps):
        messages = [*prompt_fn(traj, i), {"role": "assistant", "content": step.action}]
        records.append(ChatRecord(messages=messages, train_on=[len(messages) - 1]))
    return records


def _transcript_example(traj: Trajectory, system: str | None) -> ChatRecord:
    messages = traj.to_messages(system)
    train_on = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    return ChatRecord(messages=messages, train_on=train_on, source="success")


def sft_records(
    trajectories: Iterable[Trajectory],
    system: str | None = None,
    dedupe: bool = True,
    prompt_fn: PromptFn | None = None,
) -> list[ChatRecord]:
    """SFT records from the successful trajectories, loss on every action taken.

    Without ``prompt_fn`` each success is one transcript (``Trajectory.to_messages``); with
    it, each step is one record: ``prompt_fn(traj, i)`` and the action as the answer. With
    ``dedupe`` a record already made (same messages) is skipped, so a route the agent
    repeats every epoch does not outweigh the rest of the data.

    >>> from memplay.types import Step, Trajectory
    >>> ok = Trajectory(env_id="e", goal="g", success=True,
    ...                 steps=[Step(observation="o", action="a")])
    >>> len(sft_records([ok, ok])), len(sft_records([ok, ok], dedupe=False))
    (1, 2)
    """
    records: list[ChatRecord] = []
    seen: set[str] = set()
    for traj in trajectories:
        if not traj.success or not traj.steps:
            continue
        made = _step_examples(traj, prompt_fn) if prompt_fn else [_transcript_example(traj, system)]
        for record in made:
            key = json.dumps(record.messages, sort_keys=True)
            if not (dedupe and key in seen):
                seen.add(key)
                records.append(record)
    return records


def read_training_file(path: str | Path, kind: type[RecordT]) -> list[RecordT]:
    """Records of ``kind`` from a JSONL file, where a line may also be an Agent-R revision
    trajectory (a row of ``<memory>/critiques/revisions.jsonl``): it becomes its chat record
    (loss on the revision turn and the good continuation) or, for pairs, its preference pair
    at the branching state. Bad lines raise TrainerError naming ``file:line``.

    >>> import tempfile, pathlib
    >>> from memplay.trainers.revisions import RevisionTrajectory, Turn
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "revisions.jsonl"
    >>> r = RevisionTrajectory(goal="g", start_obs="s", thought="t",
    ...                        bad_steps=[Turn(action="a", obs="x")],
    ...                        good_steps=[Turn(action="b", obs="won")])
    >>> _ = path.write_text(r.model_dump_json() + "\\n")
    >>> read_training_file(path, ChatRecord)[0].source
    'revision'
    """
    convert = revision_record if kind is ChatRecord else revision_preference
    records: list[RecordT] = []
    for number, row in read_rows(path):
        if isinstance(row, dict) and "bad_steps" in row:  # a stored revision trajectory
            revision = parse_row(row, RevisionTrajectory, f"{path}:{number}")
            row = convert(revision)
        records.append(parse_row(row, kind, f"{path}:{number}"))
    return records


def collect_examples(run_dir: str | Path, files: Sequence[str | Path], kind: type[RecordT],
                     mine: Callable[[list[Trajectory]], list[RecordT]],
                     nothing: Callable[[list[Trajectory]], str]) -> list[RecordT]:
    """A run's examples: mined from its trajectories, plus those in ``files``
    (:func:`read_training_file`). Raises TrainerError with ``nothing(trajectories)`` when
    there are none.

    >>> collect_examples("/nonexistent", [], ChatRecord, list, str)
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/trajectories.jsonl not found; ...
    """
    trajectories = load_trajectories(run_dir)
    records = mine(trajectories)
    for path in files:
        records.extend(read_training_file(path, kind))
    if not records:
        raise TrainerError(nothing(trajectories))
    return records


def collect_sft(
    run_dir: str | Path,
    revision_files: Sequence[str | Path] = (),
    system: str | None = None,
    dedupe: bool = True,
    prompt_fn: PromptFn | None = None,
) -> list[ChatRecord]:
    """All SFT records of a run: its successful trajectories plus the given files (chat
    records, or revision trajectories such as ``<memory>/critiques/revisions.jsonl``).

    Raises :class:`TrainerError` when nothing is left to train on, saying what to do.

    >>> collect_sft("/nonexistent")
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/trajectories.jsonl not found; ...
    """
    def nothing(trajectories: list[Trajectory]) -> str:
        wins = sum(t.success for t in trajectories)
        return (f"no successful trajectories in {run_dir} ({len(trajectories)} episodes, {wins} "
                f"successes) and {len(revision_files)} revision files; run more episodes (or an "
                "easier task set) until some succeed, or add the critique memory's revisions "
                "(memplay train --data <memory>/critiques/revisions.jsonl)")

    return collect_examples(
        run_dir, revision_files, ChatRecord,
        lambda ts: sft_records(ts, system=system, dedupe=dedupe, prompt_fn=prompt_fn), nothing)
