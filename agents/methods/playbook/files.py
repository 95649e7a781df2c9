"""The playbook method's files in memory archives: ``playbooks/<family>.json``.

Importing this module registers them with :mod:`memplay.memory.reflection_files`, which
checks every archived one as a :class:`~.documents.DocumentHistory` per document.

    >>> from memplay.memory.reflection_files import REFLECTION_FILES
    >>> REFLECTION_FILES.get("playbook").matches("playbooks/FrozenLake.json")
    True
"""

from __future__ import annotations

import json

from memplay.agents.methods.playbook.documents import DocumentHistory
from memplay.memory.reflection_files import register_reflection_file

__all__ = ["check_playbook_file"]


def check_playbook_file(text: str) -> None:
    """Raise when ``text`` is not a stored playbook family (its document histories).

    >>> check_playbook_file('{"documents": {}}')
    """
    for history in json.loads(text)["documents"].values():
        DocumentHistory.model_validate(history)


register_reflection_file("playbook", "playbooks/*.json", check_playbook_file)
