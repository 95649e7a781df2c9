"""One decision's path, as docs/ARCHITECTURE.md lists it, is short and reads top to bottom.

The section "One decision, file by file" numbers the files one decision goes through. This
test extracts them (the first backticked ``.py`` path of each numbered item) and checks: at
most 8 distinct files, each exists, no file imports a file listed above it (no call back up
the path), and the list goes down the layers of tests/memplay/test_core_layers.py (the
folder map it reads from pyproject.toml), never up.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.memplay.test_core_layers import LAYERS, ROOT, _imports, _modules

PAGE = ROOT / "docs" / "ARCHITECTURE.md"
HEADING = "## One decision, file by file"
MAX_FILES = 8
ITEM = re.compile(r"^(\d+)\. [^`\n]*`([\w/]+\.py)", re.MULTILINE)


def path_section(page: str) -> str:
    """The text of the section under :data:`HEADING`, up to the next ``## `` heading.

    >>> path_section("# A\\n## One decision, file by file\\n1. `x.py`\\n## Next\\n2. `y.py`")
    '\\n1. `x.py`\\n'
    """
    start = page.index(HEADING) + len(HEADING)
    end = page.find("\n## ", start)
    return page[start:] if end < 0 else page[start:end + 1]


def path_files(section: str) -> list[str]:
    """The file each numbered item names first, in the list's order (numbered 1, 2, 3...).

    >>> path_files("1. **observe** `agents/nodes.py`: `x.py`\\n2. `llm/base.py`: the LLM")
    ['agents/nodes.py', 'llm/base.py']
    """
    items = ITEM.findall(section)
    numbers = [int(n) for n, _ in items]
    assert numbers == list(range(1, len(items) + 1)), f"items numbered {numbers}"
    return [file for _, file in items]


def path_faults(files: list[str], modules: dict[str, tuple[Path, str]]) -> list[str]:
    """Why ``files`` (in order) is not a path that reads top to bottom: too many files,
    missing ones, imports back up the list, a step up the layers. Empty when it is one."""
    faults = [f"{len(set(files))} files, at most {MAX_FILES}"] if len(set(files)) > MAX_FILES \
        else []
    by_file = {path.relative_to(ROOT).as_posix(): (module, layer)
               for module, (path, layer) in modules.items()}
    missing = [f for f in files if f not in by_file]
    faults += [f"{f} is not a module of the package" for f in missing]
    if missing:
        return faults
    known = set(modules)
    for i, file in enumerate(files):
        module, layer = by_file[file]
        above = {by_file[f][0]: f for f in files[:i]}
        faults += [f"{file} imports {above[m]}, listed above it"
                   for m in sorted(_imports(ROOT / file, module, known) & set(above))]
        if i and LAYERS.index(layer) > LAYERS.index(by_file[files[i - 1]][1]):
            faults.append(f"{file} ({layer}/) comes after {files[i - 1]}: a step up the layers")
    return faults


@pytest.fixture(scope="module")
def modules() -> dict[str, tuple[Path, str]]:
    return _modules()


@pytest.fixture(scope="module")
def files() -> list[str]:
    return path_files(path_section(PAGE.read_text(encoding="utf-8")))


def test_the_path_names_at_most_8_files_that_exist(files: list[str]) -> None:
    assert files, f"no numbered files under {HEADING!r} in {PAGE.name}"
    assert len(files) == len(set(files)), f"a file is listed twice: {files}"
    assert len(files) <= MAX_FILES, files
    assert all((ROOT / f).is_file() for f in files), [f for f in files if not (ROOT / f).is_file()]


def test_the_path_reads_top_to_bottom(files: list[str],
                                      modules: dict[str, tuple[Path, str]]) -> None:
    assert not path_faults(files, modules), "\n".join(path_faults(files, modules))


def test_the_check_finds_a_call_back_up_and_a_step_up_the_layers(
        modules: dict[str, tuple[Path, str]]) -> None:
    # the policy does not import the nodes, the nodes import the policy: listed the wrong way
    # round, nodes.py calls back up the path; llm/ above agents/ is a step up the layers
    faults = path_faults(["agents/policy.py", "agents/nodes.py"], modules)
    assert faults == ["agents/nodes.py imports agents/policy.py, listed above it"]
    assert path_faults(["llm/base.py", "agents/learning.py"], modules) == [
        "agents/learning.py (agents/) comes after llm/base.py: a step up the layers"]


def test_the_check_counts_files(modules: dict[str, tuple[Path, str]]) -> None:
    many = [f"memplay/{name}.py" for name in ("errors", "types", "config", "registry",
                                              "_lazy", "_atomic", "demos", "run_dir",
                                              "_version")]
    assert path_faults(many, modules)[0] == "9 files, at most 8"
    assert path_faults(["agents/nowhere.py"], modules) == [
        "agents/nowhere.py is not a module of the package"]
