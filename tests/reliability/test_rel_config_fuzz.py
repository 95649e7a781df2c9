"""Config parsing of untrusted input: every outcome is a model or a ConfigError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from memplay.agents.config import AgentConfig
from memplay.config import load_config
from memplay.errors import ConfigError
from memplay.memory.retrieval import RetrievalConfig

MODELS = [AgentConfig, RetrievalConfig]
FIELDS = sorted({*AgentConfig.model_fields, *RetrievalConfig.model_fields,
                 "memory", "prompt", "k1", "bogus"})
LEAF = (st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() |
        st.text(max_size=12))
VALUE = st.recursive(LEAF, lambda kids: st.lists(kids, max_size=3) |
                     st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), kids,
                                     max_size=3), max_leaves=10)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(source: Any, model: type[BaseModel]) -> str:
    try:
        parsed = load_config(source, model)
    except ConfigError as exc:
        assert str(exc).startswith(("invalid config", "config file")), str(exc)
        return "refused"
    assert isinstance(parsed, model)
    # Anything accepted must survive a dump/validate round trip unchanged.
    assert model.model_validate(parsed.model_dump()) == parsed
    return "ok"


@FUZZ
@given(data=st.dictionaries(st.sampled_from(FIELDS), VALUE, max_size=5),
       which=st.sampled_from(MODELS))
def test_mappings_give_a_model_or_config_error(data: dict[str, Any],
                                                which: type[BaseModel]) -> None:
    _outcome(data, which)


@FUZZ
@given(text=st.text(max_size=200) | st.sampled_from(
    ["epochs: -1", "tasks: [a]", "memory: {k1: 0}", "!!python/object:os.system ls",
     "- 1\n- 2", "a: &x [*x]", "k1: 1e400", "variant: memrl\nvariant: none"]),
       which=st.sampled_from(MODELS))
def test_yaml_text_gives_a_model_or_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                  text: str, which: type[BaseModel]) -> None:
    path = Path(tmp_path_factory.mktemp("cfg")) / "c.yaml"
    path.write_text(text, encoding="utf-8")
    _outcome(path, which)


def test_python_tags_are_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "c.yaml"
    path.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n")
    assert _outcome(path, AgentConfig) == "refused"
    assert not marker.exists()


def test_known_bad_values_are_refused_with_the_field_name() -> None:
    with pytest.raises(ConfigError, match="epochs"):
        load_config({"epochs": 0}, AgentConfig)
    with pytest.raises(ConfigError, match="k2"):
        load_config({"k1": 2, "k2": 3}, RetrievalConfig)
