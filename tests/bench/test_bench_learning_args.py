"""bench_learning.py runs the variants named with --variants on every env asked, and says
which variants an env's default set leaves out (no model: ``run_variant`` is stood in for)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import bench_learning  # noqa: E402  (bench/ is not a package)


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(env id, variant) of every run the suite starts; each returns a dummy metrics row."""
    calls: list[tuple[str, str]] = []

    def stand_in(variant: str, base: Any, llm: Any, embedder: Any, run_dir: Path
                 ) -> dict[str, Any]:
        calls.append((base.env_id, variant))
        return {"success_per_epoch": [0.0] * base.epochs}

    monkeypatch.setattr(bench_learning, "run_variant", stand_in)
    return calls


def _suites(argv: list[str], out: Path) -> dict[str, Any]:
    args = bench_learning.parse_args(argv)
    return {name: bench_learning.run_suite(name, args.variants, args.quick, None, None, out,
                                           args.explicit_variants) for name in args.envs}


def test_named_variants_run_on_every_env_asked(tmp_path: Path, ran: list[tuple[str, str]],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # the command bench/README.md gives for a cell the default matrix skips
    results = _suites(["--quick", "--envs", "Sokoban-easy", "FrozenLake-8x8", "--variants",
                       "memrl+playbook", "memrl+train"], tmp_path)
    assert ran == [("Sokoban-v0", "memrl+playbook"), ("Sokoban-v0", "memrl+train"),
                   ("FrozenLake-8x8-v0", "memrl+playbook"), ("FrozenLake-8x8-v0", "memrl+train")]
    assert set(results["Sokoban-easy"]["variants"]) == {"memrl+playbook", "memrl+train"}
    assert "skipped" not in capsys.readouterr().out


def test_default_sets_skip_variants_and_say_so(tmp_path: Path, ran: list[tuple[str, str]],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = bench_learning.parse_args(["--quick", "--envs", "FrozenLake-8x8"])
    assert not args.explicit_variants
    results = bench_learning.run_suite("FrozenLake-8x8", ["rag", "memrl"], True, None, None,
                                       tmp_path, explicit=False)
    assert ran == [("FrozenLake-8x8-v0", "memrl")]
    assert list(results["variants"]) == ["memrl"] and "rag" in results["not_run"]
    assert ("FrozenLake-8x8: rag skipped: not in this env's default set (name it with "
            "--variants to run it)") in capsys.readouterr().out


def test_unknown_variant_is_refused_with_the_closest_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_learning.parse_args(["--variants", "memrl+plabook"])
    assert exc.value.code == 2
    assert "did you mean 'playbook'" in capsys.readouterr().err
