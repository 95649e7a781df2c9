"""The packages' lazy re-exports resolve every advertised name, once, and refuse others."""

from __future__ import annotations

import doctest
import importlib

import pytest

import memplay._lazy

PACKAGES = ("memplay", "memplay.agents", "memplay.trainers", "memplay.agents.methods.playbook",
            "memplay.agents.methods.critique", "memplay.agents.methods.reflexion",
            "memplay.agents.methods.expel")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_and_is_cached(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert value is not None and vars(module)[name] is value  # cached after first access
    assert sorted(dir(module)) == sorted(module.__all__)


@pytest.mark.parametrize("package", PACKAGES)
def test_unknown_name_is_an_attribute_error_naming_the_package(package: str) -> None:
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'Nope'"):
        module.Nope  # noqa: B018
    assert not hasattr(module, "Nope")


def test_docstring_example() -> None:
    assert doctest.testmod(memplay._lazy).failed == 0
