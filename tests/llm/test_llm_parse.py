"""Turning free model output into an admissible action."""

from __future__ import annotations

import pytest

from memplay.errors import ConfigError
from memplay.llm.parse import first_line, parse_action


def test_parse_rules_in_order() -> None:
    acts = ["go to desk 1", "go to desk", "open drawer 2"]
    assert parse_action("go to desk", acts).how == "exact"
    assert parse_action("GO TO DESK 1", acts).action == "go to desk 1"
    contained = parse_action("I think I should go to desk 1 now", acts)
    assert (contained.action, contained.how) == ("go to desk 1", "contains")
    fuzzy = parse_action("opne drawer 2", acts)
    assert fuzzy.action == "open drawer 2" and 0.6 <= fuzzy.ratio < 1.0
    assert parse_action("fly to the moon", acts).action is None
    assert parse_action("left", []).how == "none"


def test_first_line_strips_labels_and_blank_lines() -> None:
    assert first_line("\n\n  Answer: 'up'!\nnext") == "up"
    assert first_line("  \n \t") == ""


def test_parse_rejects_bad_cutoff() -> None:
    with pytest.raises(ConfigError, match="cutoff=0"):
        parse_action("x", ["x"], cutoff=0)
