"""HTML building blocks of the report and the page around its sections (inline CSS, no
scripts, nothing fetched from the network).

    >>> table(["Q", "text"], [["0.5", "<b>"]])
    '<table><thead><tr><th>Q</th><th>text</th></tr></thead><tbody><tr><td>0.5</td><td>&lt;b&gt;</td></tr></tbody></table>'
    >>> page("r", "", [Section("a", "A", "<p>x</p>")]).count('<section id="a">')
    1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["NO_TASK_MEMORY", "Raw", "Section", "fmt", "note", "nothing_recorded", "page", "table"]

NO_TASK_MEMORY = "this run has no task memory (variant none, or no memory/ folder)"


class Raw(str):
    """A table cell that is already HTML (an SVG, a link); plain ``str`` cells are escaped."""


@dataclass(frozen=True)
class Section:
    """One report section: its anchor id, heading and body HTML."""

    id: str
    title: str
    body: str


def fmt(value: float | int | None, digits: int = 3) -> str:
    """A number for a table cell; '-' for a missing one.

    >>> fmt(None), fmt(0.123456), fmt(3)
    ('-', '0.123', '3')
    """
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"


def note(text: str) -> str:
    """A muted paragraph, e.g. why a section is empty.

    >>> note("nothing recorded")
    '<p class="note">nothing recorded</p>'
    """
    return f'<p class="note">{escape(text)}</p>'


def nothing_recorded(section_id: str, title: str, why: str) -> Section:
    """A section for a run without this data: it still renders, and says why it is empty.

    >>> nothing_recorded("models", "Model versions", "no training round").body
    '<p class="note">nothing recorded: no training round</p>'
    """
    return Section(section_id, title, note(f"nothing recorded: {why}"))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """A table; cells are escaped unless they are :class:`Raw`."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if isinstance(c, Raw) else escape(c)}</td>" for c in row)
        + "</tr>" for row in rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#263238;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#cfd8dc}
nav{padding:8px 32px;background:#eceff1;border-bottom:1px solid #cfd8dc}
nav a{margin-right:14px;color:#1f4e79;text-decoration:none}
main{padding:8px 32px 40px;max-width:1200px}
section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:4px 20px 16px;
margin:18px 0}
h2{font-size:18px;border-bottom:1px solid #eee;padding-bottom:6px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #e0e0e0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}
td.num,th.num{text-align:right}
.note{color:#666;font-style:italic}
.chart,.tree{max-width:100%;height:auto;display:block;margin:6px 0}
.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}.legend{font-size:12px;fill:#222}
.edge{font-size:9px;fill:#666}
.grid{stroke:#eee}.axis{stroke:#999}
pre.diff{background:#f7f7f7;border:1px solid #e0e0e0;padding:6px 10px;overflow-x:auto;
font-size:12px;white-space:pre-wrap}
pre.diff .add{color:#1b5e20;background:#e8f5e9}pre.diff .del{color:#b71c1c;background:#ffebee}
.tag{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e3f2fd}
.tag.bad{background:#ffebee}.tag.good{background:#e8f5e9}
.trees{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.trees figure{margin:0;flex:0 1 auto;max-width:100%;overflow-x:auto}.trees .tree{max-width:none}
pre.state{margin:0;font-size:11px;line-height:1.2}
figcaption{font-size:12px;color:#444}
"""


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole HTML document: header, a link per section, then the sections."""
    links = "".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{s.id}"><h2>{escape(s.title)}</h2>{s.body}</section>'
                   for s in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,">'  # no favicon request
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
            f"<nav>{links}</nav><main>{body}</main></body></html>\n")
