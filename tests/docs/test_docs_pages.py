"""The README stays short and every page it and docs/ link to exists; nothing points to a
document outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_readme_is_at_most_300_lines() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 300


def test_the_readme_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {Path(target.split("#")[0]).name for target in LINK.findall(readme)}
    assert {p.name for p in (ROOT / "docs").glob("*.md")} <= linked


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading.

    >>> _anchor("Scale: environments on Ray")
    'scale-environments-on-ray'
    """
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^(https?:|mailto:)", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.MULTILINE)
            if anchor not in {_anchor(h) for h in headings}:
                broken.append(target)
    assert not broken, broken


def test_no_reference_to_a_document_outside_the_repository() -> None:
    folders = ["memplay", "environments", "llm", "memory", "trainers", "agents", "app", "tests",
               "bench", "examples"]
    sources = [*PAGES, *(p for f in folders for p in (ROOT / f).rglob("*.py"))]
    outside = [str(p.relative_to(ROOT)) for p in sources
               if re.search(r"DESIGN\.md|/work/shared", p.read_text(encoding="utf-8"))]
    assert outside == [str(Path(__file__).relative_to(ROOT))]  # this test names them
