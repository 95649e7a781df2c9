"""The reflexion method's file in memory archives: ``reflexion/reflections.jsonl`` (appended
on import).

Importing this module registers it with :mod:`memplay.memory.reflection_files`.

    >>> from memplay.memory.reflection_files import REFLECTION_FILES
    >>> REFLECTION_FILES.get("reflections").appended
    True
"""

from __future__ import annotations

import json

from memplay.agents.methods.reflexion.store import Reflection
from memplay.memory.reflection_files import jsonl_rows, register_reflection_file

__all__ = ["check_reflection_row"]


def check_reflection_row(line: str) -> None:
    """Raise when ``line`` is not one stored reflection.

    >>> check_reflection_row('{"text": "t", "goal": "g", "env_id": "e", "source": "llm"}')
    """
    Reflection(**json.loads(line))


register_reflection_file("reflections", "reflexion/reflections.jsonl",
                         jsonl_rows(check_reflection_row), appended=True)
