"""CEL playbooks: per game family, a ``rules`` and a ``playbook`` document the LLM rewrites.

==============  ===================================================================
what            where
==============  ===================================================================
writes          :mod:`.learn`: :class:`PlaybookWriter` rewrites a document from a failure
                next to a success; rejected rewrites are counted (``PlaybookReflection``)
stores          :mod:`.store` (``<memory>/playbooks/<family>.json`` + ``.md``) on
                :mod:`.documents` (versions, per-version success, rollback)
shows           :meth:`PlaybookStore.render_for_prompt`: the ``<playbook>`` block
exports         :mod:`.files`: the playbook files in memory archives
==============  ===================================================================

    >>> from memplay.agents.methods.playbook import PlaybookStore
    >>> PlaybookStore().render_for_prompt("FrozenLake")
    ''
"""

from __future__ import annotations

from memplay._lazy import lazy_exports
from memplay.agents.methods.playbook import files as files  # registers the archive files
from memplay.agents.methods.playbook.documents import Document, DocumentHistory, RollbackPolicy
from memplay.agents.methods.playbook.store import DOCUMENT_NAMES, PlaybookStore

_LAZY: dict[str, str] = {
    "PlaybookConfig": "memplay.agents.methods.playbook.learn:PlaybookConfig",
    "PlaybookReflection": "memplay.agents.methods.playbook.learn:PlaybookReflection",
    "PlaybookWriter": "memplay.agents.methods.playbook.learn:PlaybookWriter",
    "build_playbook": "memplay.agents.methods.playbook.learn:build_playbook",
}

__all__ = ["DOCUMENT_NAMES", "Document", "DocumentHistory", "PlaybookConfig",
           "PlaybookReflection", "PlaybookStore", "PlaybookWriter", "RollbackPolicy",
           "build_playbook"]

__getattr__, __dir__ = lazy_exports("memplay.agents.methods.playbook", _LAZY, globals(), __all__)
