"""The OpenAI-compatible backend against dead and misbehaving local servers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from memplay.errors import LLMConnectionError, LLMError, LLMOutputError
from memplay.llm.base import SamplingParams
from memplay.llm.openai_backend import OpenAILLM

Reply = Callable[[str, dict], tuple[int, str]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], str]]:
    """Start a tiny HTTP server answering with ``reply(path, json_body)``; yield its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(reply: Reply) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, text = reply(self.path, body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_dead_server_raises_connection_error_after_retries() -> None:
    waits: list[float] = []
    llm = OpenAILLM(f"http://127.0.0.1:{_free_port()}/v1", max_retries=3, backoff=0.5)
    llm.client._sleep = waits.append  # record the backoff instead of waiting
    with pytest.raises(LLMConnectionError, match="after 4 tries"):
        llm.generate(["hi"])
    assert waits == [0.5, 1.0, 2.0]


def test_garbage_body_raises_output_error(serve: Callable[[Reply], str]) -> None:
    url = serve(lambda path, body: (200, "<html>not json</html>"))
    with pytest.raises(LLMOutputError, match="not JSON"):
        OpenAILLM(url, max_retries=0).generate(["hi"])


def test_missing_fields_raise_output_error_naming_the_path(serve: Callable[[Reply], str]) -> None:
    url = serve(lambda path, body: (200, json.dumps({"choices": []})))
    with pytest.raises(LLMOutputError, match=r"reply\['choices'\]\[0\]"):
        OpenAILLM(url, max_retries=0).generate([[{"role": "user", "content": "hi"}]])


def test_server_errors_are_retried_then_succeed(serve: Callable[[Reply], str]) -> None:
    calls: list[str] = []

    def flaky(path: str, body: dict) -> tuple[int, str]:
        calls.append(path)
        if len(calls) < 3:
            return 503, "busy"
        return 200, json.dumps({"choices": [{"text": "ok. more"}]})

    llm = OpenAILLM(serve(flaky), max_retries=3, backoff=0.0)
    assert llm.generate(["hi"], SamplingParams(stop=(".",))) == ["ok"]
    assert calls == ["/v1/completions"] * 3


def test_client_error_is_not_retried(serve: Callable[[Reply], str]) -> None:
    calls: list[str] = []

    def reject(path: str, body: dict) -> tuple[int, str]:
        calls.append(path)
        return 400, "unknown model"

    with pytest.raises(LLMError, match="HTTP 400: unknown model"):
        OpenAILLM(serve(reject), max_retries=3, backoff=0.0).generate(["hi"])
    assert len(calls) == 1


def test_timeout_becomes_connection_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    llm = OpenAILLM(max_retries=1, backoff=0.0, transport=httpx.MockTransport(slow))
    with pytest.raises(LLMConnectionError, match="ReadTimeout"):
        llm.generate(["hi"])


def test_score_falls_back_to_generation_when_logprobs_unsupported(
    serve: Callable[[Reply], str],
) -> None:
    def no_logprobs(path: str, body: dict) -> tuple[int, str]:
        if body.get("echo"):
            return 400, "echo is not supported"
        return 200, json.dumps({"choices": [{"message": {"content": "Right."}}]})

    llm = OpenAILLM(serve(no_logprobs), max_retries=0)
    prompt = [{"role": "user", "content": "Move?"}]
    scores = llm.score([prompt], [["left", "right"]])[0]
    assert llm.score_mode == "generate"
    assert scores[1].logprob_sum == 0.0 and scores[0].logprob_sum < scores[1].logprob_sum


def test_logprobs_mode_does_not_fall_back(serve: Callable[[Reply], str]) -> None:
    url = serve(lambda path, body: (200, json.dumps({"choices": [{"text": "x"}]})))
    with pytest.raises(LLMOutputError, match="logprobs"):
        OpenAILLM(url, max_retries=0, score_mode="logprobs").score(["p"], [["a"]])


def test_echo_logprobs_pick_candidate_tokens_by_offset(serve: Callable[[Reply], str]) -> None:
    def echo(path: str, body: dict) -> tuple[int, str]:
        # "Move: " + "go north" echoed as 4 tokens plus 1 generated token.
        logprobs = {"tokens": ["Move:", " go", " north", "!"],
                    "token_logprobs": [None, -1.5, -0.5, -9.0], "text_offset": [0, 5, 8, 14]}
        return 200, json.dumps({"choices": [{"text": body["prompt"] + "!", "logprobs": logprobs}]})

    score = OpenAILLM(serve(echo), max_retries=0).score(["Move:"], [[" go north"]])[0][0]
    assert (score.logprob_sum, score.num_tokens) == (-2.0, 2)


def test_concurrent_requests_keep_prompt_order(serve: Callable[[Reply], str]) -> None:
    seen: list[str] = []

    def echo(path: str, body: dict) -> tuple[int, str]:
        seen.append(body["prompt"])
        return 200, json.dumps({"choices": [{"text": body["prompt"].upper()}]})

    prompts = [f"p{i}" for i in range(12)]
    out = OpenAILLM(serve(echo), max_retries=0, concurrency=4).generate(prompts)
    assert out == [p.upper() for p in prompts] and sorted(seen) == sorted(prompts)
