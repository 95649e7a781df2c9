"""Data building without a model: records, SFT examples, preference pairs, empty-data errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memplay.agents.config import PromptConfig
from memplay.agents.training import agent_prompt_fn
from memplay.errors import DataNotFound, TrainerError
from memplay.trainers.data import collect_sft, load_trajectories, sft_records
from memplay.trainers.pairs import collect_pairs, diverging_pair, preference_pairs
from memplay.trainers.records import (
    ChatRecord,
    PreferencePair,
    as_records,
    read_jsonl,
    to_dataset,
    write_jsonl,
)
from memplay.types import Step, Trajectory

# the agent's play prompt, which step-wise training examples use
step_prompt = agent_prompt_fn(PromptConfig())


def lake(actions: list[str], success: bool, seed: int = 0, goal: str = "reach G") -> Trajectory:
    """A FrozenLake-like episode: the observation names the cell reached so far."""
    steps, row, col = [], 0, 0
    for action in actions:
        steps.append(Step(observation=f"at row {row} col {col}", action=action,
                          admissible_actions=["left", "down", "right", "up"]))
        row += {"down": 1, "up": -1}.get(action, 0)
        col += {"right": 1, "left": -1}.get(action, 0)
    return Trajectory(env_id="FrozenLake-4x4-v0", goal=goal, seed=seed, steps=steps,
                      success=success, total_reward=float(success))


def write_run(run: Path, trajectories: list[Trajectory]) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    lines = [t.model_dump_json() for t in trajectories]
    (run / "trajectories.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run


def test_sft_records_keep_successes_and_train_on_every_action() -> None:
    ok, bad = lake(["down", "right"], True), lake(["left"], False)
    records = sft_records([ok, bad])
    assert len(records) == 1
    msgs = records[0].messages
    assert [msgs[i]["content"] for i in records[0].train_on] == ["down", "right"]
    assert all(msgs[i]["role"] == "assistant" for i in records[0].train_on)


def test_sft_records_dedupe_repeated_routes_but_not_distinct_ones() -> None:
    a, b = lake(["down", "right"], True), lake(["right", "down"], True)
    assert len(sft_records([a, a, b])) == 2
    assert len(sft_records([a, a, b], dedupe=False)) == 3


def test_system_prompt_goes_first() -> None:
    record = sft_records([lake(["down"], True)], system="play well")[0]
    assert record.messages[0] == {"role": "system", "content": "play well"}


def test_step_records_use_the_prompt_function_one_per_step() -> None:
    traj = lake(["down", "down", "right"], True)
    records = sft_records([traj], prompt_fn=step_prompt)
    assert [r.messages[-1]["content"] for r in records] == traj.actions
    assert all(r.train_on == [len(r.messages) - 1] for r in records)
    last_prompt = records[2].messages[1]["content"]
    assert "at row 2 col 0" in last_prompt and "Your last moves: down, down" in last_prompt
    assert "Allowed actions: left, down, right, up" in last_prompt


def test_chat_record_rejects_train_on_user_turn() -> None:
    with pytest.raises(ValueError, match=r"not an assistant message"):
        ChatRecord(messages=[{"role": "user", "content": "x"}], train_on=[0])


def test_pair_at_first_diverging_step() -> None:
    win = lake(["down", "down", "right"], True)
    loss = lake(["down", "right", "right"], False)
    pair = diverging_pair(win, loss)
    assert pair is not None
    assert (pair.chosen, pair.rejected) == ("down", "right")
    # the prompt is the shared prefix: goal, step 0 and the observation of step 1
    assert pair.prompt[-1] == {"role": "user", "content": "at row 1 col 0"}
    assert pair.prompt[-2] == {"role": "assistant", "content": "down"}


def test_no_pair_when_observations_differ_before_actions() -> None:
    win = lake(["down"], True)
    other = win.model_copy(deep=True)
    other.steps[0].observation, other.steps[0].action, other.success = "elsewhere", "up", False
    assert diverging_pair(win, other) is None


def test_pairs_only_within_the_same_task_and_capped() -> None:
    trajs = [lake(["down"], True, seed=0), lake(["left"], False, seed=1)]
    assert preference_pairs(trajs) == []
    many = [lake(["down"], True)] + [lake([a], False) for a in ("left", "right", "up")]
    assert len(preference_pairs(many)) == 3
    assert len(preference_pairs(many, max_pairs_per_task=2)) == 2


def test_pairs_with_prompt_function() -> None:
    pairs = preference_pairs([lake(["down"], True), lake(["up"], False)], prompt_fn=step_prompt)
    assert pairs[0].prompt[-1]["content"].endswith("Your action:")


def test_collect_sft_reads_run_and_revision_files(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [lake(["down"], True), lake(["up"], False)])
    revision = ChatRecord(messages=[{"role": "user", "content": "o"},
                                    {"role": "assistant", "content": "bad"},
                                    {"role": "user", "content": "o2"},
                                    {"role": "assistant", "content": "good"}],
                          train_on=[3], source="revision")
    extra = tmp_path / "revisions.jsonl"
    write_jsonl([revision], extra)
    records = collect_sft(run, [extra])
    assert sorted(r.source for r in records) == ["revision", "success"]


def test_critique_revisions_train_as_they_are_stored(tmp_path: Path) -> None:
    # <memory>/critiques/revisions.jsonl rows are RevisionTrajectory records, not chat records
    from memplay.agents.methods.critique.store import CritiqueStore
    from memplay.trainers.revisions import RevisionTrajectory, Turn

    CritiqueStore(tmp_path / "critiques").add_revisions([RevisionTrajectory(
        goal="reach G", start_obs="at S", thought="I realise 'up' was a mistake.",
        bad_steps=[Turn(action="up", obs="wall")],
        good_steps=[Turn(action="down", obs="row 1"), Turn(action="right", obs="G")])])
    revisions = tmp_path / "critiques" / "revisions.jsonl"
    run = write_run(tmp_path / "run", [lake(["up"], False)])  # no success of its own
    (record,) = collect_sft(run, [revisions])
    assert record.source == "revision"
    assert [record.messages[i]["content"] for i in record.train_on] == [
        "I realise 'up' was a mistake.\ndown", "right"]
    (pair,) = collect_pairs(run, [revisions])
    assert (pair.chosen, pair.rejected) == ("down", "up")
    revisions.write_text('{"bad_steps": [], "thought": 3}\n')
    with pytest.raises(TrainerError, match=r"revisions.jsonl:1 is not a valid RevisionTraj"):
        collect_sft(run, [revisions])


def test_collect_sft_without_successes_says_what_to_do(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [lake(["up"], False)])
    with pytest.raises(TrainerError, match=r"no successful trajectories.*1 episodes, 0 successes"):
        collect_sft(run)


def test_collect_pairs_without_pairs_says_what_to_do(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [lake(["down"], True)])
    with pytest.raises(TrainerError, match=r"no preference pairs"):
        collect_pairs(run)


def test_missing_run_dir_is_data_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFound, match=r"trajectories.jsonl not found"):
        load_trajectories(tmp_path)


def test_bad_trajectory_line_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "trajectories.jsonl").write_text('{"env_id": "x"}\n{"steps": 3}\n')
    with pytest.raises(TrainerError, match=r"trajectories.jsonl:2"):
        load_trajectories(tmp_path)


def test_jsonl_round_trip_and_bad_line(tmp_path: Path) -> None:
    pair = PreferencePair(prompt=[{"role": "user", "content": "q"}], chosen="a", rejected="b")
    path = tmp_path / "pairs.jsonl"
    assert write_jsonl([pair, pair], path) == 2
    assert read_jsonl(path, PreferencePair) == [pair, pair]
    path.write_text(path.read_text() + json.dumps({"prompt": [], "chosen": "a"}) + "\n")
    with pytest.raises(TrainerError, match=r"pairs.jsonl:3 is not a valid PreferencePair"):
        read_jsonl(path, PreferencePair)


def test_dataset_export_round_trips_through_as_records() -> None:
    records = sft_records([lake(["down", "right"], True)])
    dataset = to_dataset(records)
    assert dataset.num_rows == 1 and "train_on" in dataset.column_names
    assert as_records(dataset, ChatRecord) == records


def test_empty_dataset_export_errors() -> None:
    with pytest.raises(TrainerError, match=r"0 records"):
        to_dataset([])


def test_as_records_rejects_foreign_rows() -> None:
    with pytest.raises(TrainerError, match=r"row 0 is a str"):
        as_records(["hello"], ChatRecord)
