"""No file a run writes holds the API key; the OpenAI backend reads key and URL from the
environment; ``--base-url`` / ``--api-key-env`` reach the backend and the saved config."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from memplay.agents import Agent
from memplay.app.cli import main
from memplay.app.commands.agent_options import add_agent_arguments, config_from_args
from memplay.errors import ConfigError
from memplay.llm.openai_backend import OpenAILLM
from memplay.llm.registry import BACKENDS, register_backend

SECRET = "sk-test-SECRET123"


class Server:
    """A mock OpenAI-compatible server: echoes log-probs, answers chats, records the
    Authorization header and host of every request."""

    def __init__(self) -> None:
        self.auth: list[str | None] = []
        self.hosts: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.auth.append(request.headers.get("Authorization"))
        self.hosts.append(request.url.host)
        body = json.loads(request.content)
        if "messages" in body:  # a generation (the reflexion reflection)
            reply = "I fell into a hole. Next time go down first."
            return httpx.Response(200, json={"choices": [{"message": {"content": reply}}]})
        prompt = body["prompt"]
        # one "token" per character, each with log-prob -0.1
        logprobs = {"token_logprobs": [-0.1] * len(prompt),
                    "text_offset": list(range(len(prompt)))}
        return httpx.Response(200, json={"choices": [{"text": "", "logprobs": logprobs}]})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A registered backend ``mock-openai``: the real OpenAILLM on a mock transport."""
    mock = Server()
    register_backend("mock-openai", lambda **kw: OpenAILLM(
        transport=httpx.MockTransport(mock), max_retries=0, **kw))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("MEMPLAY_DEBUG", raising=False)
    yield mock
    BACKENDS.unregister("mock-openai")


def _files_with(root: Path, text: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_no_file_a_run_writes_holds_the_api_key(
        tmp_path: Path, server: Server, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    agent = Agent("FrozenLake-4x4-v0", variant="memrl+reflexion", max_steps=4,
                  config={"llm": "mock-openai", "llm_kwargs": {"api_key": SECRET},
                          "memory": {"embedder": "hash"}})
    with caplog.at_level(logging.WARNING, logger="memplay.agents.runner"):
        agent.run(epochs=1, tasks=[0, 1], run_dir=run, progress=False)
    agent.close()
    assert server.auth and set(server.auth) == {f"Bearer {SECRET}"}  # the key was used
    written = sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())
    assert "config.yaml" in written and "memory/store/items.jsonl" in written
    assert _files_with(run, SECRET) == []
    assert _files_with(run, "SECRET123") == []
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["llm"] == "mock-openai" and saved["llm_kwargs"] == {}
    assert "api_key" in caplog.text and "--api-key-env" in caplog.text
    assert SECRET not in caplog.text

    # the resume takes the key from the environment, as the warning says
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    server.auth.clear()
    assert main(["run", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert server.auth and set(server.auth) == {f"Bearer {SECRET}"}
    assert _files_with(run, SECRET) == []


def test_api_key_env_names_the_variable_and_is_saved_instead_of_the_key(
        tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_KEY", SECRET)
    run = tmp_path / "run"
    assert main(["run", "--env", "FrozenLake-4x4-v0", "--llm", "mock-openai", "--embedder",
                 "hash", "--tasks", "1", "--epochs", "1", "--max-steps", "3",
                 "--api-key-env", "MY_LLM_KEY", "--base-url", "http://llm.example/v1",
                 "--run-dir", str(run), "--no-progress"]) == 0
    assert set(server.auth) == {f"Bearer {SECRET}"} and set(server.hosts) == {"llm.example"}
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["llm_kwargs"] == {"api_key_env": "MY_LLM_KEY",
                                   "base_url": "http://llm.example/v1"}
    assert _files_with(run, SECRET) == []


def test_openai_backend_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    mock = Server()
    transport = httpx.MockTransport(mock)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-default-var")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://from-env.example/v1")
    OpenAILLM(transport=transport).score(["Move?"], [["left"]])
    assert mock.auth[-1] == "Bearer sk-from-default-var" and mock.hosts[-1] == "from-env.example"
    OpenAILLM("http://given.example/v1", api_key="sk-given", transport=transport).score(
        ["Move?"], [["left"]])
    assert mock.auth[-1] == "Bearer sk-given" and mock.hosts[-1] == "given.example"

    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    OpenAILLM(transport=transport).score(["Move?"], [["left"]])
    assert mock.auth[-1] is None and mock.hosts[-1] == "127.0.0.1"  # a local server: no key
    with pytest.raises(ConfigError, match=r"api_key_env='NO_SUCH_KEY_VAR'.*export"):
        OpenAILLM(api_key_env="NO_SUCH_KEY_VAR", transport=transport)


def test_base_url_and_api_key_env_flags_go_into_llm_kwargs() -> None:
    for learning in (True, False):  # run and eval
        parser = argparse.ArgumentParser()
        add_agent_arguments(parser, learning=learning)
        args = parser.parse_args(["--llm", "openai", "--base-url", "http://h:1/v1",
                                  "--api-key-env", "K"])
        assert config_from_args(args).llm_kwargs == {"base_url": "http://h:1/v1",
                                                     "api_key_env": "K"}
