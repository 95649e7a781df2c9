"""Episodic memory: embedders, the FAISS store, MemRL retrieval, step memory, persistence.

The LangGraph adapter lives in :mod:`memplay.memory.langgraph_store` (``MemplayStore``), so
importing this package does not import LangGraph's store module.

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
    >>> store = FaissMemoryStore(HashEmbedder(32))
    >>> store.add([MemoryItem(intent="reach the goal")]) != []
    True
"""

from memplay.memory.archive import ImportReport, export_archive, import_archive
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
from memplay.memory.retrieval import MemRLRetriever, RetrievalConfig, Retrieved, WriteBack
from memplay.memory.step_memory import ActionValue, StepMemory, StepMemoryConfig
from memplay.memory.store import Hit, MemoryStore

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
    "MemoryItem",
    "MemoryKind",
    "MemoryStore",
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
]
