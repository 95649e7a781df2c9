"""Distillation recipes on hand-built run directories: which examples each one yields.

No model loads: memory is a step memory with a hash embedder whose values the tests set, the
"model" of SPIN-style recipes is a scripted picker, and the FrozenLake steps come from the
real environment (so they carry its state and portable view, as the runner stores them).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from memplay.agents.config import AgentConfig
from memplay.agents.distill.memory_recipes import greedy_action, visited_situations
from memplay.agents.distill.recipe import RECIPES, get_recipe, recipe_for, register_recipe
from memplay.agents.distill.round import open_source
from memplay.agents.state import action_keys
from memplay.demos import DemoEpisode, write_demos
from memplay.environments.demos import play
from memplay.environments.registry import make
from memplay.errors import ConfigError, TrainerError
from memplay.memory import HashEmbedder
from memplay.memory.step_memory import ActionValue, StepMemory
from memplay.types import Trajectory

ENV = "FrozenLake-4x4-v0"  # S F F F / F H F H / F F F H / H F F G


def episode(actions: list[str], seed: int = 0) -> Trajectory:
    return play(make(ENV), ENV, seed, lambda i, info: actions[i] if i < len(actions) else None)


def write_run(run: Path, trajectories: list[Trajectory]) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    (run / "trajectories.jsonl").write_text("".join(t.model_dump_json() + "\n"
                                                    for t in trajectories))
    return run


def memory_with(values: dict[tuple[str, str], float]) -> StepMemory:
    """A step memory where each (kind, context) key holds the given Q (one visit)."""
    memory = StepMemory(HashEmbedder(64))
    for (kind, context), q in values.items():
        memory.update([context], [kind], [q], alpha=1.0)
    return memory


def keys_at(trajectory: Trajectory, i: int) -> dict[str, tuple[str, str]]:
    step = trajectory.steps[i]
    return action_keys(step.info["state"], step.info["view"], step.admissible_actions)


def source(run: Path, recipe: str, **kwargs: Any) -> Any:
    return open_source(run, get_recipe(recipe), AgentConfig(env_id=ENV), **kwargs)


def test_memory_greedy_takes_memorys_best_valued_move_in_each_visited_situation(
        tmp_path: Path) -> None:
    lost = episode(["right", "down"])  # steps from S, then from (0,1) into the hole at (1,1)
    run = write_run(tmp_path, [lost, lost])  # the same situations twice: one example each
    first, second = keys_at(lost, 0), keys_at(lost, 1)
    memory = memory_with({first["down"]: 0.8, first["right"]: 0.3,  # S: down is best
                          second["down"]: -1.0})  # (0,1): memory knows only a bad move
    records = get_recipe("memory-greedy").examples(source(run, "memory-greedy",
                                                          step_memory=memory))
    assert [r.messages[-1]["content"] for r in records] == ["down"]
    prompt = records[0].messages[1]["content"]
    # the portable view, not the map: what each move leads to, no past moves, no memory text
    assert "Situation: window ###|#AF|#FH; goal 3+ down, 3+ right" in prompt
    assert "down: down to ice" in prompt and "left: left to edge" in prompt
    assert "0 S A F F" not in prompt and "Your last moves" not in prompt
    assert records[0].source == "memory-greedy" and records[0].train_on == [2]


def test_greedy_action_weighs_borrowed_values_by_similarity_and_needs_a_positive_one() -> None:
    exact = {"up": ActionValue(0.5, 1, 1.0), "down": ActionValue(0.9, 0, 0.5, 2.0)}
    assert greedy_action(exact) == "up"  # 0.5 * 1.0 beats 0.9 * 0.5
    assert greedy_action({"up": ActionValue(0.2, 0, 0.0)}) is None  # no evidence at all
    assert greedy_action({"up": ActionValue(0.2, 1, 1.0)}, min_value=0.5) is None


def test_memory_vs_model_pairs_memorys_move_against_the_models_own_pick(tmp_path: Path) -> None:
    won = episode(["down", "down", "right"])
    run = write_run(tmp_path, [won])
    values = {keys_at(won, i)[a]: 1.0 for i, a in enumerate(["down", "down", "right"])}
    asked: list[list[str]] = []

    def model(prompts: Any, admissible: Any) -> list[str]:
        asked.extend(list(a) for a in admissible)
        return ["down", "left", "left"]  # agrees at S only

    pairs = get_recipe("memory-vs-model").examples(
        source(run, "memory-vs-model", step_memory=memory_with(values), model=model))
    assert [(p.chosen, p.rejected) for p in pairs] == [("down", "left"), ("right", "left")]
    assert len(asked) == 3 and pairs[0].source == "memory-vs-model"
    assert "Situation:" in pairs[0].prompt[-1]["content"]


def test_memory_vs_model_without_a_model_says_so(tmp_path: Path) -> None:
    run = write_run(tmp_path, [episode(["down"])])
    with pytest.raises(TrainerError, match="no model was given"):
        get_recipe("memory-vs-model").examples(
            source(run, "memory-vs-model", step_memory=memory_with({})))


def test_memory_recipes_read_the_saved_memory_and_say_when_there_is_none(tmp_path: Path) -> None:
    won = episode(["down"])
    run = write_run(tmp_path / "run", [won])
    with pytest.raises(TrainerError, match="holds no step memory"):
        get_recipe("memory-greedy").examples(source(run, "memory-greedy"))
    memory_with({keys_at(won, 0)["down"]: 1.0}).save(run / "memory" / "steps")
    records = get_recipe("memory-greedy").examples(
        source(run, "memory-greedy", embedder=HashEmbedder(64)))
    assert [r.messages[-1]["content"] for r in records] == ["down"]


def test_visited_situations_are_distinct_prompts_with_the_runs_memory_keys(
        tmp_path: Path) -> None:
    run = write_run(tmp_path, [episode(["down", "down"]), episode(["down", "down", "right"])])
    situations = visited_situations(source(run, "memory-greedy"))
    assert len(situations) == 3  # S and (1,0) in both episodes, (2,0) in the second
    assert situations[0].keys["down"] == ("down to ice",
                                          "window ###|#AF|#FH; goal 3+ down, 3+ right")


def test_demos_are_tagged_with_their_provenance_and_failed_ones_teach_nothing(
        tmp_path: Path) -> None:
    from memplay.environments.demos import solver_demo_episodes

    solved = solver_demo_episodes(ENV, [0])
    failed = DemoEpisode(trajectory=episode(["right", "down"]), provenance="import",
                         source="run-7")
    path = tmp_path / "demos.jsonl"
    write_demos(path, [*solved, failed, *solved])
    records = get_recipe("demos").examples(source(tmp_path, "demos", files=[path]))
    assert len(records) == 6  # the solver's 6 steps, once: the repeat is deduplicated
    assert Counter(r.source for r in records) == {
        "demo:bfs-shortest-path on FrozenLake-4x4-v0": 6}
    with pytest.raises(TrainerError, match="reads demo files"):
        get_recipe("demos").examples(source(tmp_path, "demos"))


def test_average_strategy_turns_probabilities_into_proportional_answers(tmp_path: Path) -> None:
    table = tmp_path / "strategy.json"
    table.write_text(json.dumps({"states": {"J:": 0.25, "K:b": {"call": 1.0, "fold": 0.0}}}))
    config = AgentConfig(env_id="KuhnPoker-v0")
    src = open_source(tmp_path, get_recipe("average-strategy"), config, files=[table])
    records = get_recipe("average-strategy").examples(src)
    answers = Counter((r.messages[1]["content"].split("Situation: ")[1].split(";")[0],
                       r.messages[-1]["content"]) for r in records)
    assert answers == {("card J, first to act", "bet"): 5, ("card J, first to act", "check"): 15,
                       ("card K, second to act", "call"): 20}
    assert get_recipe("average-strategy").play["policy"]["temperature"] == 1.0


@pytest.mark.parametrize(("rows", "message"), [
    ({"J:": {"raise": 1.0}}, "must map the state's actions"),
    ({"J:": {"bet": 0.0, "check": 0.0}}, "not all 0"),
    ({"X:zz": 0.5}, "not one the agent meets"),
])
def test_bad_strategy_rows_name_the_row_and_the_fix(tmp_path: Path, rows: dict[str, Any],
                                                    message: str) -> None:
    table = tmp_path / "strategy.json"
    table.write_text(json.dumps(rows))
    src = open_source(tmp_path, get_recipe("average-strategy"),
                      AgentConfig(env_id="KuhnPoker-v0"), files=[table])
    with pytest.raises(TrainerError, match=message):
        get_recipe("average-strategy").examples(src)


def test_a_recipe_with_nothing_to_teach_says_what_it_takes(tmp_path: Path) -> None:
    run = write_run(tmp_path, [episode(["right", "down"])])  # lost: no successes
    with pytest.raises(TrainerError, match=r"'successes' found no examples .*1 episodes, "
                                           r"0 successes.*until some succeed"):
        get_recipe("successes").examples(source(run, "successes"))


def test_recipes_are_found_by_name_and_decide_the_method() -> None:
    assert recipe_for(None, None).name == "successes"
    assert recipe_for("memory-vs-model", "dpo").method == "dpo"
    with pytest.raises(ConfigError, match="feeds sft, not method 'dpo'"):
        recipe_for("demos", "dpo")
    with pytest.raises(ConfigError, match="did you mean 'memory-greedy'"):
        get_recipe("memory-greed")
    with pytest.raises(ConfigError, match="did you mean 'memory-greedy'"):
        AgentConfig.from_source({"train": {"recipe": "memory-greed"}})
    register_recipe(get_recipe("demos"), "my-demos")
    try:
        assert AgentConfig(train={"recipe": "my-demos"}).train.recipe == "my-demos"
    finally:
        RECIPES.unregister("my-demos")


def test_a_round_by_hand_is_a_row_of_rounds_jsonl(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from memplay.agents.distill.round import distil_round
    from memplay.trainers import loop
    from memplay.trainers.result import TrainResult
    from memplay.trainers.rounds import describe_rounds, read_rounds
    from memplay.trainers.version import ModelVersion

    class Trainer:
        def __init__(self, start: Any, config: Any) -> None:
            self.data: list[Any] = []

        def train(self, data: list[Any]) -> TrainResult:
            self.data = data
            return TrainResult(losses=[2.0, 1.0], steps=2, seconds=0.0)

        def save(self, out: Path, version: int | None = None, run_dir: Any = None,
                 **fields: Any) -> ModelVersion:
            return ModelVersion(path=str(out), method="sft", base_model="b", version=version,
                                losses=[2.0, 1.0], steps=2, examples=len(self.data), **fields)

    monkeypatch.setattr(loop, "_make_trainer", Trainer)
    won = episode(["down"])
    run = write_run(tmp_path, [won])
    memory = memory_with({keys_at(won, 0)["down"]: 1.0})
    distil_round(run, "memory-greedy", config=AgentConfig(env_id=ENV), step_memory=memory)
    (row,) = read_rounds(run)
    assert (row.after_epoch, row.recipe, row.examples, row.losses) == (
        None, "memory-greedy", 1, [2.0, 1.0])
    assert describe_rounds(run)[0].startswith("by hand: models/v1, 1 examples (memory-greedy)")


def test_average_strategy_without_a_table_reads_the_run_s_self_play_memory(
        tmp_path: Path) -> None:
    from memplay.environments.two_player.game_tree import GameTree, tree_game
    from memplay.memory.strategy_memory import StrategyMemory

    tree = GameTree(tree_game("KuhnPoker-v0").root())
    first, second = list(tree.infostates)[:2]  # seat 0 and seat 1 states
    memory = StrategyMemory()
    memory.entry(first, tree.infostates[first][1]).average[:] = [3.0, 1.0]
    memory.entry(second, tree.infostates[second][1])  # visited, never averaged
    memory.save(tmp_path / "memory" / "strategy")
    config = AgentConfig(env_id="KuhnPoker-v0", variant="mccfr", self_play=True)
    records = get_recipe("average-strategy").examples(
        open_source(tmp_path, get_recipe("average-strategy"), config))
    answers = Counter(r.messages[-1]["content"] for r in records)
    actions = tree.infostates[first][1]
    assert answers == {actions[0]: 15, actions[1]: 5}  # 3:1 of 20 copies; the other: none
    situation = first.split(": ", 1)[1]
    assert all(situation in r.messages[1]["content"] for r in records)


def test_average_strategy_says_what_it_needs_when_there_is_no_strategy(tmp_path: Path) -> None:
    with pytest.raises(TrainerError, match=r"no strategy memory in .*--data strategy\.json"):
        get_recipe("average-strategy").examples(
            open_source(tmp_path, get_recipe("average-strategy"),
                        AgentConfig(env_id="KuhnPoker-v0")))
    save_one_strategy_row(tmp_path)  # a strategy now, but a game with no tree to list
    with pytest.raises(TrainerError, match="registers no game tree"):
        get_recipe("average-strategy").examples(
            open_source(tmp_path, get_recipe("average-strategy"),
                        AgentConfig(env_id="TicTacToe-v0")))


def save_one_strategy_row(run: Path) -> None:
    from memplay.memory.strategy_memory import StrategyMemory

    memory = StrategyMemory()
    memory.entry("player 0: s", ["a", "b"]).average[:] = [1.0, 1.0]
    memory.save(run / "memory" / "strategy")
