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
from memplay.trainers.records import ChatRecord, Message, read_jsonl
from memplay.types import Trajectory

__all__ = [
    "TRAJECTORIES_FILE",
    "PromptFn",
    "collect_sft",
    "load_trajectories",
    "sft_records",
    "step_prompt",
]

TRAJECTORIES_FILE = "trajectories.jsonl"

#: ``prompt_fn(trajectory, i)`` -> the chat messages the agent saw before acting at step i.
PromptFn = Callable[[Trajectory, int], list[Message]]


def step_prompt(
    traj: Trajectory, i: int, system: str | None = None, recent: int = 3
) -> list[Message]:
    """A one-turn prompt for step ``i`` shaped like the agent's play prompt (no memories).

    Training on the prompt the agent plays with, rather than on whole transcripts, lets the
    tuned weights act on what the agent really shows them.

    >>> from memplay.types import Step, Trajectory
    >>> t = Trajectory(env_id="e", goal="reach G", steps=[
    ...     Step(observation="S.", action="right", admissible_actions=["left", "right"])])
    >>> step_prompt(t, 0)[0]["content"].splitlines()[0]
    'Goal: reach G'
    """
    step = traj.steps[i]
    moves = traj.actions[max(0, i - recent) : i] if recent else []
    parts = [
        f"Goal: {traj.goal}",
        "Your last moves: " + ", ".join(moves) if moves else "",
        f"Observation:\n{step.observation}",
        "Allowed actions: " + ", ".join(step.admissible_actions) if step.admissible_actions else "",
        "Your action:",
    ]
    user = {"role": "user", "content": "\n".join(p for p in parts if p)}
    return [{"role": "system", "content": system}, user] if system else [user]


def load_trajectories(run_dir: str | Path) -> list[Trajectory]:
    """Read every trajectory of a run directory, in file order.

    >>> load_trajectories("/nonexistent")
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/trajectories.jsonl not found; ...
    """
    path = Path(run_dir) / TRAJECTORIES_FILE
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


def collect_sft(
    run_dir: str | Path,
    revision_files: Sequence[str | Path] = (),
    system: str | None = None,
    dedupe: bool = True,
    prompt_fn: PromptFn | None = None,
) -> list[ChatRecord]:
    """All SFT records of a run: its successful trajectories plus the given revision files.

    Raises :class:`TrainerError` when nothing is left to train on, saying what to do.

    >>> collect_sft("/nonexistent")
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/trajectories.jsonl not found; ...
    """
    trajectories = load_trajectories(run_dir)
    records = sft_records(trajectories, system=system, dedupe=dedupe, prompt_fn=prompt_fn)
    for path in revision_files:
        records.extend(read_jsonl(path, ChatRecord))
    if not records:
        wins = sum(t.success for t in trajectories)
        raise TrainerError(
            f"no successful trajectories in {run_dir} ({len(trajectories)} episodes, {wins} "
            f"successes) and {len(revision_files)} revision files; run more episodes (or an "
            "easier task set) until some succeed, or add revision records exported from the "
            "critique trees (train_round(data_files=...), memplay train --data FILE)"
        )
    return records
