"""ExpeL: insights the LLM adds, votes up or down and edits by comparing episodes; shown to
every task.

==============  ===================================================================
what            where
==============  ===================================================================
writes          :mod:`.learn`: :class:`ExpelReflection` asks for operations
                (``ADD``/``EDIT``/``AGREE``/``REMOVE``) and applies the valid ones
stores          :mod:`.store` (:class:`InsightBook`, ``<memory>/insights/<family>.json``)
shows           :meth:`InsightBook.render_for_prompt`: the ``<insights>`` block
exports         :mod:`.files`: the insight files in memory archives
==============  ===================================================================

    >>> from memplay.agents.methods.expel import InsightBook
    >>> InsightBook().insights
    []
"""

from __future__ import annotations

from memplay._lazy import lazy_exports
from memplay.agents.methods.expel import files as files  # registers the archive files
from memplay.agents.methods.expel.store import Insight, InsightBook, Operation

_LAZY: dict[str, str] = {
    "ExpelReflection": "memplay.agents.methods.expel.learn:ExpelReflection",
    "build_expel": "memplay.agents.methods.expel.learn:build_expel",
    "parse_operations": "memplay.agents.methods.expel.learn:parse_operations",
}

__all__ = ["ExpelReflection", "Insight", "InsightBook", "Operation", "build_expel",
           "parse_operations"]

__getattr__, __dir__ = lazy_exports("memplay.agents.methods.expel", _LAZY, globals(), __all__)
