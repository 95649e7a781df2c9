"""One registry of LLM backends, so configs name a backend by string.

Entries are ``"module:attribute"`` strings imported on first use: asking for the OpenAI
backend never imports torch, and vLLM is only imported when someone asks for it.

    >>> llm = make_llm("scripted", responses=["left"])
    >>> llm.generate(["Move?"])
    ['left']
    >>> sorted(BACKENDS)[:2]
    ['openai', 'scripted']
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Any

from memplay.agents.llm.base import LLM
from memplay.errors import ConfigError

__all__ = ["BACKENDS", "make_llm", "register_backend"]

BACKENDS: dict[str, str | Callable[..., LLM]] = {
    "transformers": "memplay.agents.llm.transformers_backend:TransformersLLM",
    "vllm": "memplay.agents.llm.vllm_backend:VLLMBackend",
    "openai": "memplay.agents.llm.openai_backend:OpenAILLM",
    "scripted": "memplay.agents.llm.fake:ScriptedLLM",
}


def register_backend(name: str, factory: str | Callable[..., LLM]) -> None:
    """Add a backend: a ``"module:attribute"`` string (imported lazily) or a callable.

    >>> register_backend("echo", "memplay.agents.llm.fake:ScriptedLLM")
    >>> make_llm("echo").name
    'scripted'
    >>> del BACKENDS["echo"]
    """
    if not name:
        raise ConfigError("backend name is empty; pass a short name such as 'mybackend'")
    BACKENDS[name] = factory


def make_llm(backend: str = "transformers", **kwargs: Any) -> LLM:
    """Build the backend registered under ``backend`` with ``kwargs``.

    >>> try:
    ...     make_llm("transformer")
    ... except ConfigError as exc:
    ...     print(str(exc)[:63])
    unknown LLM backend 'transformer'; did you mean 'transformers'?
    """
    factory = BACKENDS.get(backend)
    if factory is None:
        close = difflib.get_close_matches(backend, list(BACKENDS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"unknown LLM backend {backend!r}; {hint}(known: {known})")
    if isinstance(factory, str):
        factory = _import(factory)
    llm: LLM = factory(**kwargs)
    return llm


def _import(target: str) -> Callable[..., LLM]:
    module, _, attr = target.partition(":")
    loaded: Callable[..., LLM] = getattr(importlib.import_module(module), attr)
    return loaded
