"""The examples in the trainers' docstrings run and hold (model-free ones; others are +SKIP)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import memplay.trainers

MODULES = sorted(m.name for m in pkgutil.iter_modules(memplay.trainers.__path__,
                                                      "memplay.trainers."))


@pytest.mark.parametrize("name", ["memplay.trainers", *MODULES])
def test_docstring_examples(name: str) -> None:
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(importlib.import_module(name), optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring examples failed in {name}"
