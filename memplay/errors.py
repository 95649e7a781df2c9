"""The memplay error hierarchy.

Every error memplay raises on purpose derives from :class:`MemplayError`, so callers can
catch one type. Subclasses also derive from the matching built-in (``ValueError``,
``LookupError``, ``RuntimeError``, ``OSError``) so generic handlers keep working.

Messages name the bad value and say how to fix it::

    >>> from memplay.errors import ConfigError
    >>> raise ConfigError("memory.retrieval.k2=0 must be >= 1; set it to 3")
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: memory.retrieval.k2=0 must be >= 1; set it to 3
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "ConfigError",
    "DataNotFound",
    "EmbedderMismatch",
    "EnvironmentFault",
    "EnvironmentNotFound",
    "LLMConnectionError",
    "LLMError",
    "LLMOutputError",
    "MemoryStoreError",
    "MemplayError",
    "StoreLockedError",
    "TrainerError",
]


class MemplayError(Exception):
    """Base class of every error memplay raises on purpose."""


class ConfigError(MemplayError, ValueError):
    """A configuration value or argument is invalid; the message names it and the fix."""


class EnvironmentNotFound(MemplayError, LookupError):
    """``make(id)`` was given an id that is not registered; the message suggests close ids."""

    def __str__(self) -> str:  # LookupError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class EnvironmentFault(MemplayError, RuntimeError):
    """An environment raised or broke its contract during ``reset`` or ``step``."""


class DataNotFound(MemplayError, FileNotFoundError):
    """Data an environment or model needs is missing; the message says how to get it."""


class LLMError(MemplayError, RuntimeError):
    """An LLM backend failed."""


class LLMConnectionError(LLMError, ConnectionError):
    """An LLM server could not be reached or kept timing out."""


class LLMOutputError(LLMError):
    """An LLM answered with something malformed or unusable."""


class MemoryStoreError(MemplayError, RuntimeError):
    """A memory store could not complete an operation."""


class StoreLockedError(MemoryStoreError):
    """Another process holds the write lock of a memory directory."""


class ArchiveError(MemoryStoreError, ValueError):
    """A memory archive or run directory failed validation (checksum, version, paths)."""


class EmbedderMismatch(MemoryStoreError, ValueError):
    """A memory directory was written with a different embedder (name or dimension)."""


class TrainerError(MemplayError, RuntimeError):
    """A trainer could not run: bad data, bad config or missing hardware."""
