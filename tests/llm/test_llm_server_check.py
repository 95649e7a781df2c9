"""The llama.cpp fixture's early check: a server that answers /models but dies on its first
completion fails once, naming how it died, the likely cause and the fix."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import _check_completion, _free_port, _wait_ready

# Answers GET /v1/models, then dies by SIGSEGV on the first POST (as an AMX build does).
DYING_SERVER = textwrap.dedent("""
    import http.server, os, signal, sys
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(b'{"data": []}')
        def do_POST(self):
            print("loading tiles", flush=True); os.kill(os.getpid(), signal.SIGSEGV)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
""")


def test_a_server_that_dies_on_its_first_completion_fails_early(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-c", DYING_SERVER, str(port)],
                                stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(proc, url, log, limit=30)
        with pytest.raises(pytest.fail.Exception) as failed:
            _check_completion(proc, url, log)
    finally:
        proc.kill()
        proc.wait()
    message = str(failed.value)
    assert "killed by SIGSEGV" in message and "AMX" in message
    assert "make setup-test" in message and "loading tiles" in message
