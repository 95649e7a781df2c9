"""`memplay --help`, `--version`, and one-line errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memplay import __version__
from memplay.app.cli import COMMANDS, main
from memplay.errors import ConfigError


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "memplay", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_version_prints_the_package_version() -> None:
    proc = _run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"memplay {__version__}"


def test_help_lists_every_installed_command() -> None:
    proc = _run("--help")
    assert proc.returncode == 0
    assert "envs" in proc.stdout
    assert "usage: memplay" in proc.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("memplay")
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_unknown_command_exits_non_zero() -> None:
    proc = _run("no-such-command")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def test_memplay_errors_become_one_line(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from memplay.app.commands.envs import EnvsCommand

    def boom(self: object, args: object) -> int:
        raise ConfigError("seed=-1 must be >= 0; pass --seed 0")

    monkeypatch.setattr(EnvsCommand, "run", boom)
    monkeypatch.delenv("MEMPLAY_DEBUG", raising=False)
    assert main(["envs"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "memplay envs: error: seed=-1 must be >= 0; pass --seed 0"


def test_command_registry_uses_string_entry_points() -> None:
    for name, target in COMMANDS.items():
        module, _, cls = target.partition(":")
        assert module.startswith("memplay.app.commands.") and cls, name
