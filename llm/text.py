"""Prompt rendering and output trimming shared by the backends.

    >>> cut_at_stop("left\\nObservation: ...", ("\\n",))
    'left'
    >>> render_chatml([{"role": "user", "content": "hi"}])
    '<|im_start|>user\\nhi<|im_end|>\\n<|im_start|>assistant\\n'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memplay.errors import ConfigError
from memplay.llm.base import Message, Prompt

__all__ = ["check_messages", "cut_at_stop", "render_chatml", "render_prompt"]


def check_messages(prompt: Prompt) -> None:
    """Raise ConfigError unless ``prompt`` is a string or a list of role/content messages.

    >>> try:
    ...     check_messages([{"role": "user"}])
    ... except ConfigError as exc:
    ...     print(exc)
    message 0 is {'role': 'user'}; each message needs string 'role' and 'content'
    """
    if isinstance(prompt, str):
        return
    if not isinstance(prompt, list) or not prompt:
        raise ConfigError(f"prompt {prompt!r} must be a string or a non-empty list of messages")
    for i, m in enumerate(prompt):
        if not (isinstance(m, dict) and isinstance(m.get("role"), str)
                and isinstance(m.get("content"), str)):
            raise ConfigError(
                f"message {i} is {m!r}; each message needs string 'role' and 'content'"
            )


def render_prompt(tokenizer: Any, prompt: Prompt) -> str:
    """Text of a prompt: strings verbatim, messages through the tokenizer's chat template.

    The template is asked for the generation prompt, so a scored candidate is the start of
    the assistant's turn.
    """
    check_messages(prompt)
    if isinstance(prompt, str):
        return prompt
    return str(tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True))


def render_chatml(messages: Sequence[Message]) -> str:
    """ChatML rendering (SmolLM2, Qwen, ...) for servers whose template is not known locally."""
    check_messages(list(messages))
    body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return body + "<|im_start|>assistant\n"


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut ``text`` at the first occurrence of any stop string (stop strings excluded).

    >>> cut_at_stop("a. b. c", (". ", "c"))
    'a'
    """
    cut = len(text)
    for s in stop:
        if s:
            at = text.find(s)
            if at != -1:
                cut = min(cut, at)
    return text[:cut]
