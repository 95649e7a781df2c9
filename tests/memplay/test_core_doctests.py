"""Every module's docstring examples run and hold (examples that need a model are +SKIP)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import memplay
import memplay.agents
import memplay.app
import memplay.environments
import memplay.llm
import memplay.memory
import memplay.trainers

PACKAGES = (memplay, memplay.environments, memplay.llm, memplay.memory, memplay.trainers,
            memplay.agents, memplay.app)
# __main__ runs the CLI when imported.
MODULES = sorted({p.__name__ for p in PACKAGES} | {
    m.name for p in PACKAGES for m in pkgutil.walk_packages(p.__path__, p.__name__ + ".")
} - {"memplay.__main__"})


def test_every_package_folder_is_covered() -> None:
    assert {"memplay.agents.policy", "memplay.memory.retrieval", "memplay.trainers.loop",
            "memplay.environments.frozenlake.env", "memplay.registry", "memplay.llm.base",
            "memplay.app.report.html", "memplay.environments.sokoban.view"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(importlib.import_module(name), optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring examples failed in {name}"
