"""Self-play: one policy in both seats (the runner moves for the seat to play), both seats
learn, values stay with their role, runs on worker processes like local ones, exact measures
of the policy."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.selfplay import ExactStates, SelfPlay, payoff_returns
from memplay.agents.selfplay_measure import infostate_slot, measure, policy_table
from memplay.agents.state import AgentState, Slot
from memplay.app.cli import main
from memplay.environments.two_player.game_tree import GameTree, tree_game
from memplay.environments.two_player.kuhn_tree import KuhnState
from memplay.errors import ConfigError, LLMError
from memplay.llm.fake import ScriptedLLM
from memplay.memory import HashEmbedder, StepMemory


def _agent(env_id: str, **overrides: Any) -> Agent:
    settings = {"self_play": True, "memory": {"embedder": "hash"}, "parallel_envs": 4,
                "seed": 0, **overrides}
    return Agent(env_id, variant="memrl", llm=ScriptedLLM(), **settings)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _states(run: Path) -> list[dict[str, Any]]:
    return _rows(run / "memory" / "steps" / "states.jsonl")


def test_both_seats_of_every_game_are_recorded_and_learned(tmp_path: Path) -> None:
    agent = _agent("TicTacToe-v0")
    agent.run(epochs=2, tasks=range(8), run_dir=tmp_path, progress=False)
    agent.close()
    episodes = _rows(tmp_path / "episodes.jsonl")
    games = _rows(tmp_path / "selfplay" / "games.jsonl")
    assert [g["episode"] for g in games] == [e["episode"] for e in episodes]
    assert {g["agent_seat"] for g in games} == {0, 1}  # the agent's seat is drawn per game
    for game, episode in zip(games, episodes):
        assert game["other_payoff"] == -episode["reward"]  # zero-sum, seen from both seats
        assert game["other_seat"] == 1 - game["agent_seat"]
        marks = "OX"[game["agent_seat"]]  # the other seat plays the other mark
        assert all(f"You play {marks}" in s["observation"]
                   for s in game["trajectory"]["steps"])
    learned = {row["state"].splitlines()[-1].split(".")[0] for row in _states(tmp_path)}
    assert learned == {"You play X", "You play O"}
    moves = sum(len(g["trajectory"]["steps"]) for g in games) + sum(e["steps"] for e in episodes)
    visits = sum(a["visits"] for row in _states(tmp_path) for a in row["actions"].values())
    assert visits == moves  # every move of both seats taught step memory once


def test_each_move_learns_its_own_seat_s_payoff(tmp_path: Path) -> None:
    agent = _agent("KuhnPoker-v0", policy={"temperature": 0.0})
    agent.run(epochs=1, tasks=range(6), run_dir=tmp_path, progress=False)
    agent.close()
    seats = [(t, t["total_reward"]) for t in _rows(tmp_path / "trajectories.jsonl")]
    seats += [(g["trajectory"], g["other_payoff"])
              for g in _rows(tmp_path / "selfplay" / "games.jsonl")]
    taught: dict[tuple[str, str], list[float]] = {}  # (state, action) -> payoffs of its seat
    for trajectory, payoff in seats:
        for step in trajectory["steps"]:
            taught.setdefault((step["info"]["state"], step["action"]), []).append(payoff)
    learned = {(row["state"], a): v for row in _states(tmp_path)
               for a, v in row["actions"].items()}
    assert set(learned) == set(taught)
    for key, payoffs in taught.items():  # a running mean of the seat's chips won
        assert learned[key]["visits"] == len(payoffs)
        assert learned[key]["q"] == pytest.approx(sum(payoffs) / len(payoffs))
    assert {abs(p) for _, p in seats} <= {1.0, 2.0}
    assert payoff_returns(2, 2.0, 1.0) == [2.0, 2.0]


def test_role_conditioned_values_never_mix() -> None:
    inner = StepMemory(HashEmbedder(64))  # similar states borrow values by default
    x_state = "  0 1 2\n0 . . .\n1 . X .\n2 . . .\nYou play X. It is your turn."
    o_state = x_state.replace("You play X", "You play O")
    inner.update([x_state], ["mark 0 0"], [1.0])
    o_key = [{"mark 0 0": ("mark 0 0", o_state)}]
    borrowed = inner.estimate(o_key)[0]["mark 0 0"]
    exact = ExactStates(inner).estimate(o_key)[0]["mark 0 0"]
    assert borrowed.q == 1.0 and borrowed.borrowed == 1.0  # plain lookup: O borrows X's value
    assert exact.q == 0.0 and exact.visits == 0 and exact.borrowed == 0.0  # self-play: not
    x_key = [{"mark 0 0": ("mark 0 0", x_state)}]
    assert ExactStates(inner).estimate(x_key)[0]["mark 0 0"].q == 1.0


def test_self_play_keys_step_memory_by_the_whole_state() -> None:
    assert AgentConfig(env_id="TicTacToe-v0", self_play=True).memory.step_keys == "state"
    assert AgentConfig(env_id="TicTacToe-v0").memory.step_keys == "view"
    forced = AgentConfig.from_source({"env_id": "TicTacToe-v0", "self_play": True,
                                      "memory": {"step_keys": "view"}})
    assert forced.memory.step_keys == "state"
    # the env never moves by itself: the runner plays both seats, so any executor will do
    remote = AgentConfig.from_source({"env_id": "TicTacToe-v0", "self_play": True,
                                      "env_workers": "process"})
    assert remote.env_kwargs == {"opponent": "self"}


def test_the_opponent_is_the_agent_s_own_policy(tmp_path: Path) -> None:
    # scores say "bet"/"call": both seats follow the same LLM, so every hand is bet-call
    llm = ScriptedLLM(scores={"bet": -0.1, "call": -0.1})
    agent = Agent("KuhnPoker-v0", variant="none", llm=llm, self_play=True, parallel_envs=2,
                  policy={"temperature": 0.0, "calibrate": False})
    agent.run(epochs=1, tasks=range(6), run_dir=tmp_path, progress=False)
    agent.close()
    for game, episode in zip(_rows(tmp_path / "selfplay" / "games.jsonl"),
                             _rows(tmp_path / "trajectories.jsonl")):
        other = [s["action"] for s in game["trajectory"]["steps"]]
        mine = [s["action"] for s in episode["steps"]]
        assert sorted([*mine, *other]) == ["bet", "call"]  # one move each, bet then call
        assert abs(game["agent_payoff"]) == 2.0 == abs(game["other_payoff"])
        assert [s["info"]["seat"] for s in episode["steps"]] == [game["agent_seat"]]


def test_self_play_on_worker_processes_writes_what_a_local_run_writes(tmp_path: Path) -> None:
    files = {}
    for where in ("local", "process"):
        agent = _agent("TicTacToe-v0", env_workers=where, parallel_envs=2)
        agent.run(epochs=2, tasks=range(4), run_dir=tmp_path / where, progress=False)
        agent.close()
        files[where] = [(tmp_path / where / name).read_text().splitlines()
                        for name in ("selfplay/games.jsonl", "memory/steps/states.jsonl")]
    assert files["process"] == files["local"]
    assert len(files["local"][0]) == 8  # one row per game


def test_an_llm_fault_in_the_opponent_errors_the_episode_not_the_run(tmp_path: Path) -> None:
    def scores(prompt: Any, text: str) -> float:
        if "You are player 1" in str(prompt):  # only the opponent's seat: the agent is 0
            raise LLMError("server down")
        return -1.0

    agent = Agent("KuhnPoker-v0", variant="memrl", llm=ScriptedLLM(scores=scores),
                  self_play=True, env_kwargs={"player": 0}, memory={"embedder": "hash"},
                  parallel_envs=2)
    result = agent.run(epochs=1, tasks=range(4), run_dir=tmp_path, progress=False)
    agent.close()
    assert result.metrics["errored"] == 4
    errors = [row["error"] for row in _rows(tmp_path / "episodes.jsonl")]
    assert all("LLM failed" in e and "server down" in e for e in errors)
    assert not (tmp_path / "memory" / "steps" / "states.jsonl").read_text().strip()
    (measure_row,) = _rows(tmp_path / "selfplay" / "measures.jsonl")
    assert "server down" in measure_row["error"]  # the measure failed too, the run did not


def test_snapshots_form_an_opponent_pool(tmp_path: Path) -> None:
    agent = _agent("TicTacToe-v0", self_play={"enabled": True, "pool_every": 1,
                                              "pool_share": 1.0, "pool_size": 2})
    agent.run(epochs=3, tasks=range(4), run_dir=tmp_path, progress=False)
    play = agent.self_play
    pool = sorted(p.name for p in (tmp_path / "selfplay" / "pool").iterdir())
    assert pool == ["epoch-0001.jsonl", "epoch-0002.jsonl", "epoch-0003.jsonl"]
    assert [p.name for p in play.pool()] == pool[-2:]
    rows = _rows(tmp_path / "selfplay" / "pool" / "epoch-0001.jsonl")
    assert rows and all("actions" in r for r in rows)
    # pool_share 1: in a new game the other seat reads a snapshot, the agent's seat memory
    row = _rows(play.pool()[-1])[0]
    other = play.agent_seat(Slot(0, episode=99)) ^ 1
    slots = [Slot(0, episode=99, started=True, state=row["state"], seat=seat,
                  admissible=list(row["actions"])) for seat in (other, other ^ 1)]
    ctx = play.live()
    ctx.step_memory.update([row["state"]] * 8, [next(iter(row["actions"]))] * 8, [5.0] * 8)
    theirs, mine = (play.retrieve(AgentState(slots=[s]), _runtime(ctx))["slots"][0]
                    for s in slots)
    keys = [{a: (a, row["state"]) for a in row["actions"]}]
    snapshots = [{a: v.q for a, v in play.snapshot_values(path).estimate(keys)[0].items()}
                 for path in play.pool()]
    assert {a: v.q for a, v in theirs.recall.values.items()} in snapshots
    assert max(v.q for v in mine.recall.values.values()) > 1.0  # the live memory's 5s
    with pytest.raises(Exception, match="read-only"):
        play.snapshot_values(play.pool()[0]).update(["s"], ["a"], [1.0])
    agent.close()


def _runtime(ctx: AgentContext) -> Any:
    from langgraph.runtime import Runtime

    return Runtime(context=ctx)


def test_kuhn_exploitability_is_recorded_per_epoch_once(tmp_path: Path) -> None:
    agent = _agent("KuhnPoker-v0")
    agent.run(epochs=2, tasks=range(4), run_dir=tmp_path, progress=False)
    agent.run(epochs=3, tasks=range(4), run_dir=tmp_path, progress=False)  # resume
    agent.close()
    rows = _rows(tmp_path / "selfplay" / "measures.jsonl")
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    for row in rows:
        assert len(row["strategy"]) == 12 and row["nash_conv"] >= 0
        assert row["exploitability"] == pytest.approx(row["nash_conv"] / 2)


def test_the_measured_strategy_is_the_policy_s_softmax() -> None:
    cfg = AgentConfig(env_id="KuhnPoker-v0", variant="none",
                      policy={"temperature": 1.0, "calibrate": False, "llm_weight": 1.0})
    llm = ScriptedLLM(scores={"bet": -1.0, "check": -2.0, "call": -3.0, "fold": -1.0})
    tree = GameTree(tree_game("KuhnPoker-v0").root())
    table = policy_table(AgentContext(envs=[], llm=llm, config=cfg), tree)

    def sigmoid(x: float) -> float:
        return 1 / (1 + math.exp(-x))

    for key, (_, actions, _) in tree.infostates.items():  # P(bet) = s(-1 - -2), P(call) = ...
        probs = dict(zip(actions, table[key]))
        assert probs.get("bet", probs.get("call")) == pytest.approx(
            sigmoid(1.0) if "bet" in probs else sigmoid(-2.0))
    assert len(table) == 12
    row = measure(AgentContext(envs=[], llm=llm, config=cfg))
    assert row["nash_conv"] == pytest.approx(tree.nash_conv(lambda k, a: table[k]))
    assert row["nash_conv_openspiel"] == pytest.approx(row["nash_conv"], abs=1e-9)


def test_infoset_prompts_are_what_the_agent_meets_in_a_game() -> None:
    config = AgentConfig(env_id="KuhnPoker-v0", variant="none")
    slot = infostate_slot(config, KuhnState((0, 1), "b"))
    assert "Your card: Q" in slot.observation and "Player 0 played bet" in slot.observation
    assert slot.admissible == ["call", "fold"] and "second to act" in slot.state
    assert slot.seat == 1 and not slot.steps
    first = infostate_slot(config, KuhnState((2, 0), "pb"))
    assert [s.action for s in first.steps] == ["check"] and "first to act" in first.state
    assert first.view["state"] == "card K, first to act; so far: you checked, opponent bet"


def test_bad_self_play_settings_are_refused(tmp_path: Path) -> None:
    agent = Agent("FrozenLake-4x4-v0", variant="none", llm=ScriptedLLM(), self_play=True)
    with pytest.raises(ConfigError, match="two-player"):
        agent.context(tmp_path)
    with pytest.raises(ConfigError, match=r"env_kwargs\.opponent"):
        Agent("TicTacToe-v0", variant="none", llm=ScriptedLLM(), self_play=True,
              env_kwargs={"opponent": "random"})
    with pytest.raises(ConfigError, match="pool_every"):
        AgentConfig.from_source({"self_play": {"enabled": True, "pool_every": -1}})


def test_cli_self_play_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["run", "--env", "KuhnPoker-v0", "--self-play", "--self-play-pool", "1",
                 "--llm", "scripted", "--embedder", "hash", "--epochs", "2", "--tasks", "4",
                 "--run-dir", str(run), "--no-progress"]) == 0
    saved = (run / "config.yaml").read_text()
    assert "enabled: true" in saved and "pool_every: 1" in saved
    assert (run / "selfplay" / "measures.jsonl").read_text().count("\n") == 2
    assert "nash_conv" in capsys.readouterr().out


def test_self_play_setup_without_a_run_dir_keeps_nothing_on_disk() -> None:
    cfg = AgentConfig(env_id="KuhnPoker-v0", variant="none", self_play=True)
    ctx = AgentContext(envs=[None, None], llm=ScriptedLLM(), config=cfg)
    play = SelfPlay(cfg, None).attach(ctx)
    assert play.snapshot(0) is None and play.measure(epoch=0) is None and play.pool() == []


def test_exact_lookups_are_a_memory_setting_outside_self_play_too(tmp_path: Path) -> None:
    agent = Agent("TicTacToe-v0", variant="memrl", llm=ScriptedLLM(),
                  memory={"embedder": "hash", "step_exact": True})
    assert isinstance(agent.context(tmp_path).step_memory, ExactStates)
    agent.close()
    plain = Agent("TicTacToe-v0", variant="memrl", llm=ScriptedLLM(), memory={"embedder": "hash"})
    assert not isinstance(plain.context(tmp_path / "p").step_memory, ExactStates)
    plain.close()
