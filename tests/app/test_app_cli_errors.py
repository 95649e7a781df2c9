"""Errors a user can see: a run whose LLM never answers stops, errored episodes are
reported, MEMPLAY_DEBUG follows the usual convention, and every ``--help`` renders as
written."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memplay.app.cli import build_parser, debug_enabled, main
from memplay.llm.fake import ScriptedLLM
from memplay.llm.registry import BACKENDS, register_backend

DEAD_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens, connects are refused


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMPLAY_DEBUG", raising=False)


def _run_args(run_dir: Path, llm: str, *extra: str) -> list[str]:
    return ["run", "--env", "FrozenLake-4x4-v0", "--llm", llm, "--embedder", "hash",
            "--epochs", "1", "--max-steps", "4", "--run-dir", str(run_dir), "--no-progress",
            *extra]


def test_an_unreachable_server_is_a_run_error_and_the_run_resumes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    status = main(_run_args(run, "openai", "--base-url", DEAD_URL, "--tasks", "2"))
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "\n" not in err and "Traceback" not in err
    assert DEAD_URL in err and "start the server or fix base_url" in err
    assert "--resume" in err
    episodes = run / "episodes.jsonl"
    assert not episodes.exists() or not episodes.read_text().strip()  # nothing recorded
    # the run directory stays resumable: with a backend that answers, it plays every episode
    assert main(["run", "--resume", str(run), "--llm", "scripted", "--no-progress"]) == 0
    assert json.loads((run / "metrics.json").read_text())["episodes"] == 2


@pytest.fixture
def flaky_backend() -> Iterator[str]:
    """A backend that fails on its 2nd call only: it has answered before, so runs go on."""
    register_backend("scripted-flaky", lambda **kw: ScriptedLLM(fail_on=1))
    yield "scripted-flaky"
    BACKENDS.unregister("scripted-flaky")


def test_some_errored_episodes_are_counted_and_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flaky_backend: str) -> None:
    run = tmp_path / "run"
    assert main(_run_args(run, flaky_backend, "--tasks", "1", "--variant", "none")) == 0
    out = capsys.readouterr().out
    assert "1 of 1 episodes errored" in out
    assert "1x LLM failed: scripted failure on call 1" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["error_messages"] == [["LLM failed: scripted failure on call 1", 1]]

    capsys.readouterr()
    assert main(["inspect", str(run)]) == 0
    assert "1x LLM failed: scripted failure on call 1" in capsys.readouterr().out


def test_run_result_carries_the_error_counts(tmp_path: Path) -> None:
    from memplay.agents import Agent

    agent = Agent("FrozenLake-4x4-v0", variant="none", llm=ScriptedLLM(fail_on=3),
                  max_steps=6)
    result = agent.run(epochs=1, tasks=[0], run_dir=tmp_path, progress=False)
    assert result.errored == 1
    assert result.errors == [("LLM failed: scripted failure on call 3", 1)]


@pytest.mark.parametrize("value", ["", "0", "false", "No", "OFF"])
def test_debug_switch_off_values_print_no_traceback(value: str) -> None:
    env = {**os.environ, "MEMPLAY_DEBUG": value}
    proc = subprocess.run([sys.executable, "-m", "memplay", "run", "--env", "FrozenLak-4x4-v0"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "FrozenLake-4x4-v0" in proc.stderr  # the one-line error with "did you mean"


@pytest.mark.parametrize("value,on", [("1", True), ("yes", True), ("true", True),
                                      ("0", False), ("", False), ("off", False)])
def test_debug_switch_values(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv("MEMPLAY_DEBUG", value)
    assert debug_enabled() is on


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser, _ = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"": parser, **actions[0].choices}


@pytest.mark.parametrize("name", list(_subparsers()))
def test_every_help_renders_as_written(name: str) -> None:
    sub = _subparsers()[name]
    # argparse wraps lines, at spaces and after hyphens: compare without whitespace
    text = "".join(sub.format_help().split())
    assert "option_strings" not in text and "<function" not in text
    for action in sub._actions:
        if not action.help or action.help == argparse.SUPPRESS or "%(" in action.help:
            continue
        written = "".join(action.help.replace("%%", "%").split())
        assert written in text, f"{name} {action.option_strings}: help not shown as written"
