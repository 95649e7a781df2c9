"""The distribution installs one import package, `memplay`, and nothing at top level."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
FOLDERS = {folder: package for package, folder in SETUPTOOLS["package-dir"].items()}


def _declared_packages() -> set[str]:
    return set(SETUPTOOLS["packages"])


def _package_folders() -> set[str]:
    found = set()
    for folder, prefix in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((prefix, *rel)))
    return found


def test_every_package_folder_is_declared_in_pyproject() -> None:
    missing = _package_folders() - _declared_packages()
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_the_console_script_is_the_app_cli() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"] == {"memplay": "memplay.app.cli:main"}


@pytest.mark.parametrize("name", sorted(set(FOLDERS) - {"memplay"}))
def test_top_level_folder_names_are_not_importable(name: str, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "ModuleNotFoundError" in proc.stderr


def test_subpackages_import_under_memplay(tmp_path: Path) -> None:
    code = ("import memplay.memory, memplay.llm.base, memplay.environments, memplay.app.cli; "
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.slow
def test_built_wheel_contains_only_memplay_paths(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("memplay-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    outside = [n for n in names if not n.startswith(("memplay/", "memplay-"))]
    assert outside == []
    assert "memplay/llm/base.py" in names and "memplay/app/cli.py" in names
    assert "memplay/environments/sokoban/data/sokoban_levels.json" in names
    assert "memplay/memory/__init__.py" in names
