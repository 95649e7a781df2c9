"""One registry of LLM backends, so configs name a backend by string.

Entries are ``"module:attribute"`` strings imported on first use: asking for the OpenAI
backend never imports torch, and vLLM is only imported when someone asks for it. Register
your own with :func:`register_backend`; ``AgentConfig(llm="mine")`` then builds it.

    >>> llm = make_llm("scripted", responses=["left"])
    >>> llm.generate(["Move?"])
    ['left']
    >>> list(BACKENDS)[:2]
    ['openai', 'scripted']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memplay.llm.base import LLM
from memplay.registry import Registry

__all__ = ["BACKENDS", "make_llm", "register_backend"]

BACKENDS: Registry[Callable[..., LLM]] = Registry("LLM backend")
BACKENDS.register("transformers", "memplay.llm.transformers_backend:TransformersLLM")
BACKENDS.register("vllm", "memplay.llm.vllm_backend:VLLMBackend")
BACKENDS.register("openai", "memplay.llm.openai_backend:OpenAILLM")
BACKENDS.register("scripted", "memplay.llm.fake:ScriptedLLM")


def register_backend(name: str, factory: str | Callable[..., LLM]) -> None:
    """Add a backend: a ``"module:attribute"`` string (imported lazily) or a callable.

    >>> register_backend("echo", "memplay.llm.fake:ScriptedLLM")
    >>> make_llm("echo").name
    'scripted'
    >>> BACKENDS.unregister("echo")
    """
    BACKENDS.register(name, factory)


def make_llm(backend: str = "transformers", **kwargs: Any) -> LLM:
    """Build the backend registered under ``backend`` with ``kwargs``.

    >>> make_llm("transformer")
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: unknown LLM backend 'transformer'; did you mean 'transformers'? ...
    """
    llm: LLM = BACKENDS.get(backend)(**kwargs)
    return llm
