"""The expel method's files in memory archives: ``insights/<family>.json``.

Importing this module registers them with :mod:`memplay.memory.reflection_files`, which
checks every archived one as a list of :class:`~.store.Insight`.

    >>> from memplay.memory.reflection_files import REFLECTION_FILES
    >>> REFLECTION_FILES.get("insights").matches("insights/../x.json")
    False
"""

from __future__ import annotations

import json

from memplay.agents.methods.expel.store import Insight
from memplay.memory.reflection_files import register_reflection_file

__all__ = ["check_insights_file"]


def check_insights_file(text: str) -> None:
    """Raise when ``text`` is not a stored insight list.

    >>> check_insights_file('{"insights": []}')
    """
    for row in json.loads(text)["insights"]:
        Insight.model_validate(row)


register_reflection_file("insights", "insights/*.json", check_insights_file)
