"""MemoryConfig: memory settings declared once (retrieval and step sections), validated once,
and configs written with the old flat names still load, saying where each field went."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from memplay.agents.components import open_memory
from memplay.agents.config import AgentConfig
from memplay.agents.runner import dump_run_config
from memplay.errors import ConfigError
from memplay.memory import HashEmbedder
from memplay.memory.config import MOVED_FIELDS, MemoryConfig
from memplay.run_dir import RunDir

OLD_MEMORY = {"k1": 7, "k2": 2, "delta": 0.4, "lam": 0.7, "alpha": 0.2, "q_init": 0.1,
              "merge_threshold": 0.8, "step_lookup": "state", "step_threshold": 0.95,
              "step_k": 3, "step_kernel": "similarity", "step_max_states": 100,
              "step_keys": "state", "gamma": 0.9}


def test_an_old_config_file_loads_with_a_warning_naming_each_new_field(tmp_path: Path) -> None:
    path = RunDir(tmp_path).config
    path.write_text(yaml.safe_dump({"env_id": "FrozenLake-4x4-v0", "memory": OLD_MEMORY}),
                    encoding="utf-8")
    with pytest.warns(DeprecationWarning) as caught:
        cfg = AgentConfig.from_source(path)
    retrieval, steps = cfg.memory.retrieval, cfg.memory.steps
    assert (retrieval.k1, retrieval.k2, retrieval.delta, retrieval.lam, retrieval.alpha,
            retrieval.q_init, retrieval.merge_threshold) == (7, 2, 0.4, 0.7, 0.2, 0.1, 0.8)
    assert (steps.lookup, steps.threshold, steps.k_neighbors, steps.kernel, steps.max_states) \
        == ("state", 0.95, 3, "similarity", 100)
    assert (cfg.memory.step_keys, cfg.memory.gamma) == ("state", 0.9)  # not moved
    messages = {str(w.message) for w in caught}
    assert "config field memory.step_k moved to memory.steps.k_neighbors; update the config" \
        in messages
    assert len(messages) == len(MOVED_FIELDS) == 12
    assert all(f"memory.{s}.{n}" in " ".join(messages) for s, n in MOVED_FIELDS.values())


def test_a_saved_config_round_trips_without_warnings(tmp_path: Path,
                                                     recwarn: pytest.WarningsRecorder) -> None:
    cfg = AgentConfig(memory={"retrieval": {"k1": 6}, "steps": {"threshold": 1.0}})
    dump_run_config(cfg, RunDir(tmp_path).config)
    assert AgentConfig.from_source(RunDir(tmp_path).config) == cfg
    assert not [w for w in recwarn if w.category is DeprecationWarning]


@pytest.mark.parametrize("memory", [{"retrieval": {"k1": 2, "k2": 3}}, {"k1": 2, "k2": 3}])
def test_k2_above_k1_is_refused_whatever_the_spelling(memory: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the old spelling warns first
        with pytest.raises(ConfigError, match=r"memory\.retrieval.*k2=3 is larger than k1=2"):
            AgentConfig.from_source({"memory": memory})


def test_one_bound_for_merge_threshold() -> None:
    assert MemoryConfig(retrieval={"merge_threshold": -0.5}).retrieval.merge_threshold == -0.5
    with pytest.raises(ConfigError, match="merge_threshold"):
        AgentConfig.from_source({"memory": {"retrieval": {"merge_threshold": 1.5}}})


@pytest.mark.parametrize(("variant", "lam"), [("memrl", 0.7), ("rag", 0.0)])
def test_open_memory_uses_the_sections_as_they_are(tmp_path: Path, variant: str,
                                                   lam: float) -> None:
    cfg = AgentConfig(variant=variant, memory={"retrieval": {"lam": 0.7, "k1": 9},
                                               "steps": {"k_neighbors": 2, "threshold": 0.5}})
    bundle = open_memory(cfg, HashEmbedder(32), tmp_path)
    assert bundle.task_memory.config.k1 == 9 and bundle.task_memory.config.lam == lam
    assert bundle.step_memory.config == cfg.memory.steps
    bundle.step_memory.update(["at A"], ["right"], [1.0])
    bundle.save(tmp_path)
    bundle.close()
    again = AgentConfig(memory={"steps": {"k_neighbors": 4, "q_init": 0.5}})
    reloaded = open_memory(again, HashEmbedder(32), tmp_path)
    # the run picks how values are looked up; the saved memory keeps what it was built with
    assert reloaded.step_memory.config.k_neighbors == 4
    assert reloaded.step_memory.config.q_init == 0.0
    reloaded.close()
