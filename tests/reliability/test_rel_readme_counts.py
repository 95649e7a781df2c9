"""docs/RELIABILITY.md's table counts what the reliability tests run (``rel_counts.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
import rel_counts  # noqa: E402  (tests/ is not a package)


def readme_rows() -> dict[str, str]:
    """check label -> count cell of docs/RELIABILITY.md's table."""
    section = (ROOT / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    rows = [line.strip("|").split(" | ") for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| check |")]
    return {cells[0].strip(): cells[1].strip() for cells in rows}


def test_every_count_in_the_readme_is_what_the_tests_run() -> None:
    shown = readme_rows()
    expected = rel_counts.counts()
    for label, count in expected.items():
        matches = [cell for check, cell in shown.items() if check.startswith(label)]
        assert len(matches) == 1, f"the page has no (or several) rows starting {label!r}"
        assert matches[0] == count, f"row {label!r} says {matches[0]!r}; the tests " \
                                    f"run {count!r}"
    assert len(shown) == len(expected), "a table row is backed by no test in rel_counts.ROWS"


def test_every_reliability_test_backs_a_row() -> None:
    assert rel_counts.unassigned() == [], "add these tests to a row of rel_counts.ROWS"


def test_counts_follow_the_tests() -> None:
    kill = rel_counts.load("test_rel_kill")
    faults = rel_counts.load("test_rel_faults")
    assert rel_counts.cases(faults.test_garbage_or_empty_generations_do_not_break_the_run) == 5
    assert rel_counts.cases(faults.test_llm_fault_total_is_in_metrics) == 1
    assert rel_counts.examples(rel_counts.load("test_rel_config_fuzz")
                               .test_mappings_give_a_model_or_config_error) == 200
    assert rel_counts.examples(faults.test_llm_fault_total_is_in_metrics) == 0
    row = next(r for r in rel_counts.ROWS if r.label == "SIGKILL while saving")
    assert row.count(kill, []) == f"{kill.STORE_KILLS} kills"
