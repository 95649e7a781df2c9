"""memrl+playbook end to end with the real embedded SmolLM2-135M: short episodes, one rewrite
per batch, documents on disk and shown by ``memplay inspect``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from memplay.agents import Agent
from memplay.app.cli import main


@pytest.mark.embedded
def test_playbook_variant_with_the_embedded_model_keeps_documents_on_disk(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # 2 batches of 2 episodes of at most 4 steps, then one rewrite (rewrite_every=4) of 32
    # new tokens: about a minute on an idle 2-core CPU. The hashing embedder spares the
    # MiniLM load: this test is about the LLM's documents.
    agent = Agent("FrozenLake-4x4-v0", variant="memrl+playbook", max_steps=4, parallel_envs=2,
                  memory={"embedder": "hash"},
                  reflection={"rewrite_every": 4, "playbook_tokens": 32})
    agent.run(epochs=2, tasks=[0, 1], run_dir=tmp_path, progress=False)
    agent.close()
    books = tmp_path / "memory" / "playbooks"
    page = (books / "FrozenLake.md").read_text()
    assert page.startswith("# FrozenLake") and "## rules" in page and "## playbook" in page
    documents = json.loads((books / "FrozenLake.json").read_text())["documents"]
    for name in ("rules", "playbook"):
        history = documents[name]
        accepted = len(history["versions"]) - 1  # a rollback keeps the version it undoes
        # The one rewrite was either accepted (a new, non-empty version) or rejected with a
        # counted reason (a 135M model often echoes the prompt), never silently dropped.
        assert accepted + sum(history["rejections"].values()) == 1, history
        assert history["versions"][0]["episodes"] == 4  # every episode was credited first
        assert all(v["text"].strip() for v in history["versions"][1:])
    capsys.readouterr()
    assert main(["inspect", str(tmp_path)]) == 0
    assert "rules and playbook: FrozenLake" in capsys.readouterr().out
