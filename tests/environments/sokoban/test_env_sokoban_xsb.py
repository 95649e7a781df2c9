"""Sokoban XSB collections: load, save, load again gives the same levels; bad files name the
line and the fault; levels_file= takes XSB next to JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from memplay.environments import make
from memplay.environments.sokoban.env import SokobanEnv
from memplay.environments.sokoban.files import load_levels
from memplay.environments.sokoban.xsb import parse_xsb, read_xsb, to_xsb, write_xsb
from memplay.errors import ConfigError

# A collection in the layout of the public sets: a header, a numbered comment before each
# level, leading spaces outside the walls, '-'/'_' floor, a Title: after one level's rows,
# a plain title line before another, and an Author: line that names nothing.
COLLECTION = """\
; Three small levels
; written for this test

; 1

  #####
###   #
#.@$  #
### $.#
#.##$ #
# # . ##
#$ *$$.#
#   .  #
########

Author: memplay tests
#####
#@$.#
#####
Title: Corridor

Push Around
 ######
 #-+__#
 #-$$-#
 #_.--#
 ######
"""


def test_a_collection_loads_with_names_and_cells() -> None:
    levels = parse_xsb(COLLECTION, "three.xsb")
    assert [lv.name for lv in levels] == ["1", "Corridor", "Push Around"]
    first = levels[0]
    assert first.player == (2, 2)
    assert len(first.boxes) == len(first.targets) == 7
    assert (6, 3) in first.boxes and (6, 3) in first.targets  # '*': box on a goal
    assert levels[2].player == (1, 3) and (1, 3) in levels[2].targets  # '+': player on a goal
    assert (levels[2].height, levels[2].width) == (5, 7)


def test_load_save_load_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "three.xsb"
    source.write_text(COLLECTION, encoding="utf-8")
    loaded = load_levels(source)
    saved = write_xsb(loaded, tmp_path / "copy.xsb")
    again = load_levels(saved)
    assert again == loaded
    assert [lv.render() for lv in again] == [lv.render() for lv in loaded]
    # the written file is plain XSB: spaces for floor, one '; name' comment per level
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("; 1\n  #####\n###   #\n")
    assert "-" not in text.replace("; ", "") and "_" not in text
    assert text.count("\n\n") == 2  # three levels, blank lines between them


def test_bundled_json_levels_convert_to_xsb_and_back(tmp_path: Path) -> None:
    bundled = load_levels()
    path = write_xsb(bundled, tmp_path / "bundled.xsb")
    assert load_levels(path) == bundled
    assert read_xsb(path)[0].name == bundled[0].name


def test_levels_file_plays_an_xsb_collection(tmp_path: Path) -> None:
    path = tmp_path / "mine.xsb"
    path.write_text(";corridor\n#####\n#@$.#\n#####\n", encoding="utf-8")
    env = make("Sokoban-v0", levels_file=str(path))
    obs, info = env.reset(seed=0)
    assert info["level"] == "corridor" and "#@$.#" in obs
    _, reward, terminated, _, info = env.step("right")
    assert terminated and info["success"] and reward == 1.0
    assert SokobanEnv(levels_file=path).levels[0].name == "corridor"


@pytest.mark.parametrize(("text", "expected"), [
    ("; a\n#####\n#@$x#\n#####\n", r"bad\.xsb: line 3, column 4: unknown character 'x'"),
    ("#####\n#@$.#\n#####\n\n\n\t####\n", r"bad\.xsb: line 6, column 1: unknown character '\\t'"),
    ("; a\n#####\n#@$.#\n#####\n\n; b\n#####\n# $.#\n#####\n",
     r"bad\.xsb: lines 7-9 \(level 'b'\): .*exactly one player"),
    ("#####\n#@$ #\n#####\n", r"bad\.xsb: lines 1-3 \(level .1.\): .*1 boxes and 0 targets"),
    ("; open\n#####\n#@$. \n#####\n", r"bad\.xsb: lines 2-4 \(level 'open'\): .*not enclosed"),
    ("; only comments\nTitle: nothing here\n", r"bad\.xsb: no Sokoban level found"),
])
def test_bad_xsb_names_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.xsb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_levels(path)


def test_writing_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least one level"):
        write_xsb([], tmp_path / "empty.xsb")
    assert not (tmp_path / "empty.xsb").exists()


def test_latin1_titles_still_load(tmp_path: Path) -> None:
    path = tmp_path / "old.xsb"
    path.write_bytes(to_xsb(parse_xsb("; Niveau été\n#####\n#@$.#\n#####\n")).encode("latin-1"))
    assert read_xsb(path)[0].name == "Niveau été"
