"""Sokoban level files: the bundled set, JSON collections and standard XSB collections.

    >>> len(load_levels()) >= 10
    True
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from memplay.environments.sokoban.level import SokobanLevel
from memplay.environments.sokoban.xsb import read_xsb
from memplay.errors import ConfigError, DataNotFound

__all__ = ["load_levels"]


def load_levels(path: str | Path | None = None) -> list[SokobanLevel]:
    """Load levels from a JSON file ``{"levels": [{"name":..., "rows": [...]}, ...]}`` or, for
    any other suffix (``.xsb``, ``.txt``, ``.sok``), a standard XSB collection (see
    :mod:`memplay.environments.sokoban.xsb`).

    Without a path, the bundled easy set
    (``memplay/environments/sokoban/data/sokoban_levels.json``).

        >>> len(load_levels()) >= 10
        True
    """
    if path is None:
        text = resources.files("memplay.environments.sokoban.data").joinpath(
            "sokoban_levels.json").read_text(encoding="utf-8")
        return _json_levels(text, "bundled")
    if not Path(path).is_file():
        raise DataNotFound(f"Sokoban levels file {str(path)!r} does not exist; pass an XSB "
                           "collection (.xsb/.txt) or a JSON file with {'levels': [{'name': ..., "
                           "'rows': [...]}]}, or None for the bundled levels")
    if Path(path).suffix.lower() == ".json":
        return _json_levels(Path(path).read_text(encoding="utf-8"), str(path))
    return read_xsb(path)


def _json_levels(text: str, source: str) -> list[SokobanLevel]:
    try:
        entries = json.loads(text)["levels"]
        return [SokobanLevel.from_rows(e["rows"], e.get("name", str(i)))
                for i, e in enumerate(entries)]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"Sokoban levels file {source}: malformed ({exc}); "
                          "expected {'levels': [{'name': str, 'rows': [str, ...]}]}") from exc
