"""The mccfr variant: a strategy memory learned from sampled self-play games, judged by
OpenSpiel; the LLM a prior that settled states no longer ask; files, archive and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.mccfr import average_policy, infostate_of
from memplay.agents.selfplay_measure import measure
from memplay.agents.state import Slot
from memplay.app.cli import main
from memplay.environments import make
from memplay.environments.two_player.game_tree import GameTree, tree_game
from memplay.environments.two_player.kuhn_exploitability import INFOSETS
from memplay.environments.two_player.kuhn_exploitability import nash_conv as kuhn_nash_conv
from memplay.environments.two_player.tictactoe import SYMMETRIES
from memplay.llm.fake import ScriptedLLM
from memplay.memory.strategy_memory import StrategyMemory

pytest.importorskip("pyspiel")


def _agent(env_id: str = "KuhnPoker-v0", llm: Any = None, **overrides: Any) -> Agent:
    settings = {"self_play": True, "parallel_envs": 16, "seed": 0, "trajectory_every": 0,
                **overrides}
    return Agent(env_id, variant="mccfr", llm=llm or ScriptedLLM(), **settings)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def kuhn_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 self-play hands of Kuhn poker with memory alone (flat scripted LLM)."""
    root = tmp_path_factory.mktemp("kuhn")
    agent = _agent(self_play={"enabled": True, "measure_every": 1000}, parallel_envs=32)
    agent.run(epochs=1, tasks=range(2000), run_dir=root, progress=False)
    agent.close()
    return root


def test_self_play_hands_bring_kuhn_nash_conv_down(kuhn_run: Path) -> None:
    rows = _rows(kuhn_run / "selfplay" / "measures.jsonl")
    assert [r["games"] for r in rows] == [1024, 2000]
    assert rows[-1]["nash_conv"] < 0.3 < 0.917  # uniform play is 0.917
    assert rows[-1]["learned_games"] == 2000 and rows[-1]["infostates"] == 12
    assert 2 * 2000 <= rows[-1]["decisions"] <= 3 * 2000  # a hand is 2 or 3 moves
    assert rows[-1]["model_prompts"] < rows[-1]["decisions"] / 10


def test_openspiel_and_both_own_judges_agree_on_the_agent_s_strategy(kuhn_run: Path) -> None:
    memory = StrategyMemory.load(kuhn_run / "memory" / "strategy")
    policy = average_policy(memory)
    tree = GameTree(tree_game("KuhnPoker-v0").root())
    aggressive = {}
    for key, (seat, actions, state) in tree.infostates.items():
        probs = dict(zip(actions, policy(key, actions)))
        card = "JQK"[state.cards[seat]]
        aggressive[(card, state.history)] = probs.get("bet", probs.get("call"))
    assert set(aggressive) == set(INFOSETS)
    row = _rows(kuhn_run / "selfplay" / "measures.jsonl")[-1]
    assert row["nash_conv_openspiel"] == pytest.approx(kuhn_nash_conv(aggressive), abs=1e-6)
    assert row["nash_conv"] == pytest.approx(kuhn_nash_conv(aggressive), abs=1e-6)


def test_the_memory_loads_back_and_travels_in_the_archive(kuhn_run: Path,
                                                          tmp_path: Path) -> None:
    saved = StrategyMemory.load(kuhn_run / "memory" / "strategy")
    archive = tmp_path / "kuhn.tar.gz"
    assert main(["export", str(kuhn_run), str(archive)]) == 0
    assert main(["import", str(archive), str(tmp_path / "copy")]) == 0
    assert main(["report", str(kuhn_run), "--out", str(tmp_path / "report.html")]) == 0
    copied = StrategyMemory.load(tmp_path / "copy" / "strategy")
    assert copied.to_rows() == saved.to_rows() and copied.counts == saved.counts
    cfg = AgentConfig(env_id="KuhnPoker-v0", variant="mccfr", self_play=True)
    again = measure(AgentContext(envs=[], llm=ScriptedLLM(), config=cfg,
                                 strategy_memory=copied))
    assert again["nash_conv"] == _rows(kuhn_run / "selfplay" / "measures.jsonl")[-1]["nash_conv"]


def test_settled_states_never_ask_the_llm(tmp_path: Path) -> None:
    llm = ScriptedLLM(scores={"bet": -0.2, "call": -0.2})
    agent = _agent(llm=llm, strategy={"prior_weight": 2.0, "settle_visits": 5})
    agent.run(epochs=1, tasks=range(200), run_dir=tmp_path, progress=False)
    asked = sum(len(prompts) for _, prompts in llm.calls)
    memory = agent.strategy_memory
    assert asked == memory.counts["model_prompts"] > 0
    assert all(row.visits >= 5 for row in memory.table.values())  # every state settled
    assert all(row.prior_count <= 5 + 16 for row in memory.table.values())  # one batch late
    agent.run(epochs=2, tasks=range(200), run_dir=tmp_path, progress=False)
    assert sum(len(prompts) for _, prompts in llm.calls) == asked  # the second epoch: none
    assert memory.counts["decisions"] > 2 * memory.counts["model_prompts"]
    agent.close()
    quiet = ScriptedLLM()
    alone = _agent(llm=quiet, strategy={"prior_weight": 0.0})
    alone.run(epochs=1, tasks=range(50), run_dir=tmp_path / "alone", progress=False)
    alone.close()
    assert quiet.calls == []  # weight 0: the model is never asked


def test_the_llm_prior_shapes_the_first_strategy(tmp_path: Path) -> None:
    # the model always prefers bet/call: before regrets build up, the strategy leans there
    llm = ScriptedLLM(scores={"bet": -0.01, "call": -0.01}, default_score=-6.0)
    agent = _agent(llm=llm, strategy={"prior_weight": 50.0, "settle_visits": 1000})
    agent.run(epochs=1, tasks=range(16), run_dir=tmp_path, progress=False)
    rows = agent.strategy_memory.table.values()
    agent.close()
    leaning = [r.average[r.actions.index("bet" if "bet" in r.actions else "call")] /
               sum(r.average) for r in rows if sum(r.average) > 0]
    assert leaning and min(leaning) > 0.8


def test_frozen_runs_play_the_average_strategy(tmp_path: Path) -> None:
    memory = StrategyMemory()
    tree = GameTree(tree_game("KuhnPoker-v0").root())
    for key, (_, actions, _) in tree.infostates.items():  # always fold or check
        memory.entry(key, sorted(actions)).average[:] = \
            [float(a in ("check", "fold")) for a in sorted(actions)]
    memory.save(tmp_path / "memory" / "strategy")
    memory.close()
    agent = Agent("KuhnPoker-v0", variant="mccfr", llm=ScriptedLLM(), parallel_envs=8,
                  env_kwargs={"opponent": "random", "player": 0}, policy={"temperature": 0})
    agent.run(epochs=1, tasks=range(20), run_dir=tmp_path / "eval",
              memory_dir=tmp_path / "memory", frozen=True, progress=False)
    agent.close()
    moves = {s["action"] for t in _rows(tmp_path / "eval" / "trajectories.jsonl")
             for s in t["steps"]}
    assert moves <= {"check", "fold"} and moves


def test_tictactoe_states_fold_the_eight_symmetries_and_name_the_seat() -> None:
    board = "X.O.X...."
    keys, kinds = set(), []
    for table in SYMMETRIES:
        image = ["."] * 9
        for old, new in enumerate(table):
            image[new] = board[old]
        env = make("TicTacToe-v0", opponent="self")
        _, info = env.reset(seed=0)
        for mark in ("X", "O", "X"):  # replay the image's three marks, X first
            cell = next(i for i, c in enumerate(image) if c == mark and
                        info["admissible_actions"].count(f"mark {i // 3} {i % 3}"))
            image[cell] = "."
            _, _, _, _, info = env.step(f"mark {cell // 3} {cell % 3}")
        point = infostate_of(Slot(0, view=info["view"], admissible=info["admissible_actions"],
                                  seat=info["to_play"]))
        keys.add(point.key)
        kinds.append(point.kinds)
    assert len(keys) == 1 and next(iter(keys)).startswith("player 1: ")
    assert "O to play" in next(iter(keys)) and len(set(kinds)) == 1


def _losses_to_random(memory_dir: Path, run_dir: Path) -> int:
    """Losses in 40 greedy games per seat against the uniform random player."""
    losses = 0
    for seat in (0, 1):
        evaluate = Agent("TicTacToe-v0", variant="mccfr", llm=ScriptedLLM(), parallel_envs=20,
                         env_kwargs={"opponent": "random", "player": seat},
                         policy={"temperature": 0})
        evaluate.run(epochs=1, tasks=range(5000, 5040), run_dir=run_dir / f"seat{seat}",
                     memory_dir=memory_dir, frozen=True, progress=False)
        evaluate.close()
        losses += sum(r["reward"] < 0 for r in _rows(run_dir / f"seat{seat}" / "episodes.jsonl"))
    return losses


def test_tictactoe_memory_alone_stops_losing_to_random(tmp_path: Path) -> None:
    untrained = _losses_to_random(tmp_path / "empty", tmp_path / "before")
    agent = _agent("TicTacToe-v0", parallel_envs=128)
    agent.run(epochs=1, tasks=range(2000), run_dir=tmp_path / "train", progress=False)
    agent.close()
    memory = StrategyMemory.load(tmp_path / "train" / "memory" / "strategy")
    assert 400 < len(memory) <= 765  # TicTacToe has 765 positions up to symmetry
    trained = _losses_to_random(tmp_path / "train" / "memory", tmp_path / "after")
    assert untrained >= 20 and trained <= 8  # of 80 games


def test_cli_runs_the_variant_in_self_play(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["run", "--env", "LeducPoker-v0", "--self-play", "--variant", "mccfr",
                 "--llm", "scripted", "--epochs", "2", "--tasks", "40", "--run-dir", str(run),
                 "--no-progress"]) == 0
    assert "nash_conv" in capsys.readouterr().out
    rows = _rows(run / "selfplay" / "measures.jsonl")
    assert [r["epoch"] for r in rows] == [0, 1]
    assert rows[-1]["nash_conv"] == pytest.approx(rows[-1]["nash_conv_openspiel"], abs=1e-9)
    assert (run / "memory" / "strategy" / "infostates.jsonl").is_file()


def test_self_play_on_worker_processes_learns_what_a_local_run_learns(tmp_path: Path) -> None:
    files = {}
    for where in ("local", "process"):
        agent = _agent(env_workers=where, parallel_envs=2)
        agent.run(epochs=2, tasks=range(6), run_dir=tmp_path / where, progress=False)
        agent.close()
        files[where] = (tmp_path / where / "memory" / "strategy" / "infostates.jsonl").read_text()
    assert files["process"] == files["local"] and files["local"]
