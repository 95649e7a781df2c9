"""Fixtures shared across test folders: a real llama.cpp server serving the embedded GGUF, and
where the offline ALFWorld games are.

The server is llama-cpp-python's OpenAI-compatible ``llama_cpp.server`` on a free 127.0.0.1
port, started once for the whole session by the first test that asks for it and stopped at
the end (the LLM backend suite and the ALFWorld ``--llm openai`` smoke run both use it).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_REPO_DATA = Path(__file__).resolve().parents[1] / ".cache" / "alfworld"


@pytest.fixture(scope="session")
def alfworld_data() -> str:
    """The ALFWorld data folder; skips the test where alfworld or its data is missing."""
    # find_spec, not importorskip: importing alfworld without ALFWORLD_DATA writes ~/.cache
    if importlib.util.find_spec("alfworld") is None:
        pytest.skip("alfworld is not installed (pip install alfworld==0.4.2 pyyaml)")
    if os.environ.get("ALFWORLD_DATA"):
        return os.environ["ALFWORLD_DATA"]
    if (_REPO_DATA / "json_2.1.1").is_dir():
        return str(_REPO_DATA)
    pytest.skip("ALFWORLD_DATA is not set (CI sets it; `make data` unpacks it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def llamacpp_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a llama.cpp server of the embedded model."""
    pytest.importorskip("llama_cpp.server", reason="pip install 'llama-cpp-python[server]'")
    from memplay.llm.embedded import embedded_gguf_file

    port = _free_port()
    # One thread: like torch, llama.cpp's threads spin and crawl on a shared 2-core machine.
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf_file()),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1",
           "--verbose", "false"]
    # The server logs every request; a file (not a pipe nobody drains) can never block it.
    log = tmp_path_factory.mktemp("llamacpp") / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(proc, url, log)
        _check_completion(proc, url, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, limit: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = log.read_text(errors="replace")[-500:]
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {err}")
        try:
            if httpx.get(url + "/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not answer on {url} within {limit} s")


# Why a server that answered /models dies on its first completion, and what fixes it.
_CRASH_HINT = ("llama-cpp-python was probably compiled for another CPU: a native build on a CPU "
               "with AMX puts AMX tile code into libggml-cpu.so, which faults where AMX is "
               "off. Rebuild it portably: rm .venv/.memplay-llamacpp && make setup-test "
               "(the Makefile's LLAMA_CMAKE_ARGS)")


def _exit_reason(code: int | None) -> str:
    """``exit code 1`` or ``killed by SIGSEGV`` (Popen reports a signal as -N)."""
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _check_completion(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Ask for one token before any test does: a server that answers /models can still die
    on the first completion (a llama.cpp build for another CPU), and six tests would then
    each report only "Connection refused"."""
    import httpx

    try:
        reply = httpx.post(url + "/completions", timeout=120,
                           json={"prompt": "The capital of France is", "max_tokens": 1})
        if reply.status_code == 200:
            return
        problem = f"HTTP {reply.status_code}: {reply.text[:200]}"
    except httpx.HTTPError as exc:
        problem = f"{type(exc).__name__}: {exc}"
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    state = "still running" if proc.poll() is None else _exit_reason(proc.returncode)
    tail = log.read_text(errors="replace")[-800:]
    pytest.fail(f"llama_cpp.server answered /models but not a one-token completion "
                f"({problem}; server {state}). {_CRASH_HINT}. Server log tail:\n{tail}")
