"""Episodic memory: embedders, the FAISS store, MemRL retrieval, step memory, persistence.

The LangGraph store :class:`MemplayStore` (:mod:`memplay.memory.langgraph_store`) and its
``ItemStats`` load on first access, so importing this package does not import LangGraph's store.

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
    >>> store = FaissMemoryStore(HashEmbedder(32))
    >>> store.add([MemoryItem(intent="reach the goal")]) != []
    True
"""

from memplay._lazy import lazy_exports
from memplay.memory.archive import ImportReport, export_archive, import_archive
from memplay.memory.config import MemoryConfig
from memplay.memory.embedders import (
    CachingEmbedder,
    Embedder,
    HashEmbedder,
    SentenceTransformerEmbedder,
    default_embedder,
)
from memplay.memory.faiss_index import IndexConfig, VectorIndex
from memplay.memory.faiss_store import FaissMemoryStore
from memplay.memory.item import MemoryItem, MemoryKind
from memplay.memory.multi_vector import MultiVectorStore
from memplay.memory.retrieval import MemRLRetriever, RetrievalConfig, Retrieved, WriteBack
from memplay.memory.step_memory import ActionValue, StepMemory, StepMemoryConfig
from memplay.memory.store import Hit, MemoryStore

# name -> "module:attribute", resolved on first access (PEP 562).
_LAZY: dict[str, str] = {
    "ItemStats": "memplay.memory.langgraph_items:ItemStats",
    "MemplayStore": "memplay.memory.langgraph_store:MemplayStore",
}

__all__ = [
    "ActionValue",
    "CachingEmbedder",
    "Embedder",
    "FaissMemoryStore",
    "HashEmbedder",
    "Hit",
    "ImportReport",
    "IndexConfig",
    "MemRLRetriever",
    "MemoryConfig",
    "MemoryItem",
    "MemoryKind",
    "MemoryStore",
    "MultiVectorStore",
    "RetrievalConfig",
    "Retrieved",
    "SentenceTransformerEmbedder",
    "StepMemory",
    "StepMemoryConfig",
    "VectorIndex",
    "WriteBack",
    "default_embedder",
    "export_archive",
    "import_archive",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports("memplay.memory", _LAZY, globals(), __all__)
