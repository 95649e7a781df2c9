"""Fixtures shared across test folders: a real llama.cpp server serving the embedded GGUF.

The server is llama-cpp-python's OpenAI-compatible ``llama_cpp.server`` on a free 127.0.0.1
port, started once for the whole session by the first test that asks for it and stopped at
the end (the LLM backend suite and the ALFWorld ``--llm openai`` smoke run both use it).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def llamacpp_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a llama.cpp server of the embedded model."""
    pytest.importorskip("llama_cpp.server", reason="pip install 'llama-cpp-python[server]'")
    from memplay.agents.llm.embedded import embedded_gguf_file

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
