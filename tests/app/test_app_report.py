"""`memplay report`: the HTML page of small real runs (scripted LLM, hash embedder) has every
section, with data where the run has it and an honest note where it does not; it loads in
headless Chromium with no console errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from memplay.agents.agent import Agent
from memplay.agents.methods.playbook.documents import RollbackPolicy
from memplay.agents.methods.playbook.store import PlaybookStore
from memplay.app.cli import main
from memplay.app.report.build import SECTIONS, build_report
from memplay.app.report.html import fmt
from memplay.llm.fake import ScriptedLLM
from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
from memplay.run_dir import RunDir
from memplay.trainers.rounds import RoundRecord
from memplay.trainers.version import ModelVersion

EPOCHS, TASKS = 3, [0, 1, 2]
WITH_DATA = ("summary", "success", "q-values", "retrieval", "memories", "step-memory",
             "provenance", "critiques")


def _run(variant: str, root: Path, **overrides: Any) -> Path:
    """A tiny real run: FrozenLake maps, a scripted LLM preferring down/right, hash memory."""
    llm = ScriptedLLM(responses=["- Holes end the game.", "- Go down, then right."],
                      scores={"down": -0.4, "right": -0.6})
    agent = Agent("FrozenLake-random-v0", variant=variant, llm=llm, embedder=HashEmbedder(64),
                  max_steps=10, parallel_envs=3, memory={"retrieval": {"merge_threshold": 0.999}},
                  reflection={"critique_iterations": 30}, **overrides)
    agent.run(epochs=EPOCHS, tasks=TASKS, run_dir=root, progress=False)
    agent.close()
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    return {"critique": _run("memrl+critique", base / "critique"),
            "none": _run("none", base / "none")}


class _Page(HTMLParser):
    """Section ids with their text, every tag, and every URL the page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.tags: list[str] = []
        self.urls: list[str] = []
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "section":
            self._current = values.get("id") or ""
            self.sections[self._current] = ""
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        if self._current is not None:
            self.sections[self._current] += f"<{tag}>"

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.sections[self._current] += data


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_report_of_a_real_run_shows_every_section_with_its_data(runs: dict[str, Path]) -> None:
    out = build_report(runs["critique"], compare=[runs["none"]])
    assert out == runs["critique"] / "report.html"
    page = _parse(out)
    assert list(page.sections) == list(SECTIONS)
    for section in WITH_DATA:
        assert "nothing recorded" not in page.sections[section], section
    for section in ("playbooks", "models"):  # this run has neither
        assert "nothing recorded" in page.sections[section]
    # self-contained: no script, nothing fetched (only in-page anchors and an empty data icon)
    assert "script" not in page.tags
    assert all(u.startswith("#") or u == "data:," for u in page.urls), page.urls
    # success per epoch compares both runs; the heat map has one column of 20 bins per epoch
    success = page.sections["success"]
    assert "critique" in success and "none" in success and "<svg>" in success
    assert page.sections["q-values"].count("<rect>") >= EPOCHS * 20
    trees = sorted((runs["critique"] / "memory" / "critiques" / "trees").glob("*.json"))
    assert trees and page.sections["critiques"].count("<figure>") == min(len(trees), 6)
    assert page.sections["critiques"].count("<circle>") >= len(trees)


def test_report_numbers_match_the_run_files(runs: dict[str, Path]) -> None:
    out = build_report(runs["critique"], out=runs["critique"] / "alone.html")
    page, text = _parse(out), out.read_text()
    metrics = json.loads((runs["critique"] / "metrics.json").read_text())
    items = [json.loads(line)["item"] for line in
             (runs["critique"] / "memory" / "store" / "items.jsonl").read_text().splitlines()]
    assert f"<td>{EPOCHS} of {EPOCHS}</td><td>{len(TASKS) * EPOCHS}</td>" in text
    assert f"Now: {len(items)} task memories" in page.sections["q-values"]
    used = {m for line in (runs["critique"] / "episodes.jsonl").read_text().splitlines()
            for m in json.loads(line)["memories_used"]}
    never = sum(i["id"] not in used for i in items)
    assert f"Memories never retrieved ({never} of {len(items)})" in page.sections["retrieval"]
    row = "".join(f"<td>{fmt(v, 2)}</td>" for v in metrics["success_per_epoch"])
    assert f"<tr><td>critique</td>{row}</tr>" in text
    # every decision asked the model (gate off): the summary says how many, as metrics.json
    steps = sum(json.loads(line)["steps"] for line in
                (runs["critique"] / "episodes.jsonl").read_text().splitlines())
    assert metrics["decision_stats"]["decisions"] == steps > 0
    assert metrics["model_call_fraction"] == 1.0
    assert f"model called in {steps} of {steps} decisions (100%)" in page.sections["summary"]


def test_every_section_renders_a_note_for_a_run_without_memory(runs: dict[str, Path]) -> None:
    page = _parse(build_report(runs["none"]))
    assert list(page.sections) == list(SECTIONS)
    for section in ("q-values", "retrieval", "memories", "step-memory", "provenance",
                    "playbooks", "critiques", "models"):
        assert "nothing recorded" in page.sections[section], section
    assert "nothing recorded" not in page.sections["success"]


def _add_training_round(run: Path) -> None:
    version = ModelVersion(path=str(run / "models" / "v1"), method="sft", base_model="base",
                           version=1, after_epoch=1, examples=5, steps=3,
                           losses=[3.5, 1.25, 0.5], success_per_epoch={2: 0.75})
    Path(version.path).mkdir(parents=True)
    version.save()
    record = RoundRecord(after_epoch=1, status="trained", version=1, examples=5,
                         first_loss=3.5, final_loss=0.5, seconds=12.0)
    RunDir(run).rounds.write_text(record.model_dump_json() + "\n")


def _add_rolled_back_playbook(run: Path) -> None:
    book = PlaybookStore(run / "memory" / "playbooks",
                         RollbackPolicy(min_episodes=1, margin=0.1))
    book.seed("FrozenLake", "rules", "- Holes end the game.")
    book.record_episode("FrozenLake", success=True)
    book.history("FrozenLake", "rules").propose("- Holes are safe.")
    book.record_episode("FrozenLake", success=False)  # worse than its parent: rolled back
    book.save("FrozenLake")


def _add_imported_memories(run: Path) -> None:
    store = FaissMemoryStore.load(run / "memory" / "store", HashEmbedder(64))
    store.add([MemoryItem(intent="a demo", experience="demo path", q=0.75,
                          metadata={"provenance": "demo"}),
               MemoryItem(intent="an import", experience="imported", q=-0.25,
                          metadata={"provenance": "import"})])
    store.save(run / "memory" / "store")
    store.close()


def test_models_rollbacks_and_provenance_show_when_recorded(runs: dict[str, Path],
                                                            tmp_path: Path) -> None:
    run = Path(shutil.copytree(runs["critique"], tmp_path / "run"))
    _add_training_round(run)
    _add_rolled_back_playbook(run)
    _add_imported_memories(run)
    page = _parse(build_report(run))
    models = page.sections["models"]
    assert "v1" in models and "sft" in models and "3.5" in models and "0.5" in models
    assert "optimiser step" in models  # the loss curve
    playbooks = page.sections["playbooks"]
    assert "rules v0 -> v1 (rolled back)" in playbooks and "1 rollbacks" in playbooks
    assert "+- Holes are safe." in playbooks and "-- Holes end the game." in playbooks
    provenance = page.sections["provenance"]
    assert all(name in provenance for name in ("demo", "import", "self"))
    assert "demo path" in page.sections["retrieval"]  # never retrieved, so listed there


def test_a_run_from_before_the_new_files_still_renders(runs: dict[str, Path],
                                                       tmp_path: Path) -> None:
    run = Path(shutil.copytree(runs["critique"], tmp_path / "old"))
    (run / "memory_stats.jsonl").unlink()
    rows = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    for row in rows:
        for key in ("llm_seconds", "env_seconds", "memory_sims"):
            del row[key]
    (run / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    page = _parse(build_report(run))
    assert "No per-epoch snapshots" in page.sections["q-values"]
    assert "Now:" in page.sections["q-values"]
    assert "nothing recorded" not in page.sections["memories"]


def test_cli_writes_the_report_and_refuses_a_non_run(runs: dict[str, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(runs["critique"]), "--compare", str(runs["none"]),
                 "--out", str(out)]) == 0
    assert f"report: {out}" in capsys.readouterr().out
    assert out.stat().st_size > 10_000 and out.stat().st_mode & 0o044
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "memplay report: error:" in err and "no episodes.jsonl" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--help"])
    assert exit_info.value.code == 0
    assert "--compare" in capsys.readouterr().out


def test_package_exports_resolve() -> None:
    import memplay.app.report as report

    assert all(getattr(report, name) is not None for name in report.__all__)


# ----------------------------------------------------------------- headless Chromium

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run"]


def _browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    binary = _chromium()
    assert binary is not None
    return subprocess.run([binary, *_FLAGS, f"--user-data-dir={profile}", *extra,
                           page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=180)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.skipif(_chromium() is None, reason="no chromium binary on PATH: the report's "
                    "browser test needs Debian's chromium package (.ci/run installs it)")
def test_report_loads_in_headless_chromium(runs: dict[str, Path], tmp_path: Path) -> None:
    page = build_report(runs["critique"], compare=[runs["none"]], out=tmp_path / "report.html")
    # the console check can fail: a page that logs errors is caught
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>console.error('boom'); nope();</script></body>")
    caught = _browse(broken, tmp_path / "p0", "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert any("boom" in line for line in _console_lines(caught.stderr)), caught.stderr[-2000:]

    dom = _browse(page, tmp_path / "p1", "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console_lines(dom.stderr) == []
    for section_id in SECTIONS:
        assert f'<section id="{section_id}">' in dom.stdout, section_id
    assert "Success per epoch" in dom.stdout and "Critique trees" in dom.stdout

    shot = tmp_path / "shot.png"
    done = _browse(page, tmp_path / "p2", f"--screenshot={shot}", "--window-size=1200,3000")
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1200, 3000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, charts and trees, not a blank page
