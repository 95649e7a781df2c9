"""bench_learning.py records, per row, what the run's own files say about the model as a
writer and a learner: the playbook's refused rewrites and each weight round's loss (files
written by memplay's own classes here, so a change of their format shows)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import bench_learning  # noqa: E402  (bench/ is not a package)

from memplay.agents.methods.playbook.store import PlaybookStore  # noqa: E402
from memplay.trainers.rounds import RoundRecord, append_round  # noqa: E402


def test_playbook_rejections_are_recorded(tmp_path: Path) -> None:
    store = PlaybookStore(tmp_path / "memory" / "playbooks")
    rules = store.history("FrozenLake", "rules")
    for reason in ("repeats_prompt", "repeats_prompt", "too_short"):
        rules.reject(reason)
    store.save("FrozenLake")
    stats = bench_learning.writer_stats(tmp_path / "memory")["playbooks"]["FrozenLake"]
    assert stats["rules"] == {"versions": 1, "active_chars": 0, "rollbacks": 0,
                              "rejections": {"repeats_prompt": 2, "too_short": 1}}
    assert stats["playbook"]["rejections"] == {}


def test_training_rounds_are_recorded_without_the_loss_curve(tmp_path: Path) -> None:
    append_round(tmp_path, RoundRecord(after_epoch=4, status="trained", version=1, examples=11,
                                       first_loss=4.5, final_loss=0.5, losses=[4.5, 2.0, 0.5],
                                       seconds=87.0))
    append_round(tmp_path, RoundRecord(after_epoch=6, status="skipped", reason="no successes"))
    rounds = bench_learning.training_stats(tmp_path)["train_rounds"]
    assert [r["status"] for r in rounds] == ["trained", "skipped"]
    assert rounds[0] == {"after_epoch": 4, "status": "trained", "version": 1, "examples": 11,
                         "reason": None, "first_loss": 4.5, "final_loss": 0.5, "seconds": 87.0}
    assert rounds[1]["reason"] == "no successes"
