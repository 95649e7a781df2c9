"""Every group that ``bench/run_full.sh --group`` knows has a row in docs/speed.md's group
table (its time, or "not measured"), and the table names no group the script lacks: a group
added or renamed in one place and not the other fails here (no benchmark runs)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "run_full.sh"


def script_groups(text: str) -> set[str]:
    """The labels of the ``case "$group" in`` block, the fallback ``*`` left out.

    >>> sorted(script_groups('case "$group" in\\n  a) x;;\\n  b-2) y;;\\n  *) z;;\\nesac\\n'))
    ['a', 'b-2']
    """
    block = text.split('case "$group" in', 1)[1].split("esac", 1)[0]
    return set(re.findall(r"^\s*([a-z][a-z0-9-]*)\)", block, flags=re.MULTILINE))


def table_groups(text: str) -> set[str]:
    """The groups in the first column of docs/speed.md's group table; "`distill-3`, `-5`"
    stands for distill-3 and distill-5.

    >>> sorted(table_groups("| `core` | x |\\n| `d-3`, `-5` | y |\\n| other | z |"))
    ['core', 'd-3', 'd-5']
    """
    names: set[str] = set()
    for first in re.findall(r"^\| (`[^|]*`) \|", text, flags=re.MULTILINE):
        labels = re.findall(r"`([^`]+)`", first)
        stem = labels[0].rsplit("-", 1)[0]
        names.update(stem + label if label.startswith("-") else label for label in labels)
    return names


def test_every_script_group_is_in_the_speed_table() -> None:
    groups = script_groups(SCRIPT.read_text())
    speed = (ROOT / "docs" / "speed.md").read_text()
    table = table_groups(speed.split("## Benchmark groups", 1)[1])  # not the options table
    assert "core" in groups and "distill-5" in groups  # the parser still reads the script
    assert groups - table == set(), "groups without a row in docs/speed.md's table"
    assert table - groups == set(), "rows in docs/speed.md's table that run_full.sh lacks"


def test_an_unknown_group_is_refused_with_the_names() -> None:
    done = subprocess.run(["bash", str(SCRIPT), "--group", "transfer-99"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "unknown group transfer-99" in done.stderr and "transfer-1 to -11" in done.stderr
