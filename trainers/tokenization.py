"""Chat records to token ids and loss labels, through the model's own chat template.

Labels are ``-100`` (ignored by the loss) everywhere except the tokens of the assistant
messages a record trains on. Many chat templates (SmolLM2's among them) have no
``{% generation %}`` markers, so the assistant spans are found by rendering the conversation
prefix by prefix: the text added by assistant message *i* runs from the end of
``messages[:i]`` rendered with a generation prompt to the end of ``messages[:i+1]``. The
template's end-of-turn token falls inside that span, so the model also learns to stop.

    >>> from transformers import AutoTokenizer                        # doctest: +SKIP
    >>> tok = AutoTokenizer.from_pretrained(embedded_model_path())   # doctest: +SKIP
    >>> ex = tokenize_chat(tok, record, max_length=512)              # doctest: +SKIP
    >>> ex.num_trained > 0                                           # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memplay.errors import TrainerError
from memplay.trainers.records import ChatRecord, Message, PreferencePair

__all__ = [
    "IGNORE_INDEX",
    "TokenizedExample",
    "assistant_spans",
    "check_chat_template",
    "tokenize_chat",
    "tokenize_pair",
]

IGNORE_INDEX = -100  # the label value torch's cross-entropy skips


@dataclass(frozen=True)
class TokenizedExample:
    """Token ids of one transcript and its labels (``IGNORE_INDEX`` where no loss).

    >>> TokenizedExample(input_ids=[5, 6, 7], labels=[-100, 6, 7]).num_trained
    2
    """

    input_ids: list[int]
    labels: list[int]

    @property
    def num_trained(self) -> int:
        """How many tokens carry loss."""
        return sum(label != IGNORE_INDEX for label in self.labels)


def check_chat_template(tokenizer: Any) -> None:
    """Raise :class:`TrainerError` unless the tokenizer has a chat template and offsets.

    >>> class NoTemplate:
    ...     chat_template, is_fast, name_or_path = None, True, "gpt2"
    >>> check_chat_template(NoTemplate())
    Traceback (most recent call last):
    ...
    memplay.errors.TrainerError: tokenizer of 'gpt2' has no chat template; ...
    """
    name = tokenizer.name_or_path
    if not tokenizer.chat_template:
        raise TrainerError(
            f"tokenizer of {name!r} has no chat template; train an instruct/chat model "
            "(the default embedded SmolLM2-135M-Instruct has one) or set "
            "tokenizer.chat_template to a Jinja template before training"
        )
    if not tokenizer.is_fast:
        raise TrainerError(
            f"tokenizer of {name!r} is a slow (Python) tokenizer; memplay needs character "
            "offsets to find the assistant tokens: load it with AutoTokenizer(use_fast=True)"
        )


def _render(tokenizer: Any, messages: list[Message], generation_prompt: bool) -> str:
    return str(
        tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=generation_prompt
        )
    )


def assistant_spans(tokenizer: Any, messages: list[Message], indices: list[int]) -> list[range]:
    """Character spans, in the rendered chat, of the assistant messages at ``indices``.

    Raises :class:`TrainerError` when the template does not render a conversation as the
    concatenation of its prefixes, because then no span can be told apart.
    """
    full = _render(tokenizer, messages, generation_prompt=False)
    spans = []
    for i in indices:
        before = _render(tokenizer, messages[:i], generation_prompt=True) if i else ""
        upto = _render(tokenizer, messages[: i + 1], generation_prompt=False)
        content = messages[i]["content"]
        nested = full.startswith(upto) and upto.startswith(before)
        if not nested or content not in upto[len(before) :]:
            raise TrainerError(
                f"the chat template of {tokenizer.name_or_path!r} does not "
                f"render message {i} ({content[:40]!r}) as an extension of the previous "
                "turns, so its tokens cannot be located; use a template that renders each "
                "turn after the previous ones (ChatML, Llama, SmolLM)"
            )
        spans.append(range(len(before), len(upto)))
    return spans


def tokenize_chat(tokenizer: Any, record: ChatRecord, max_length: int) -> TokenizedExample | None:
    """Tokenise a record with loss only on its ``train_on`` turns; None if truncation ate them.

    Long transcripts keep their first ``max_length`` tokens (the beginning holds the goal).
    """
    spans = assistant_spans(tokenizer, record.messages, record.train_on)
    text = _render(tokenizer, record.messages, generation_prompt=False)
    # the rendered template already holds BOS and special tokens as text
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])[:max_length]
    offsets = list(encoded["offset_mapping"])[:max_length]
    labels = [
        tok if any(start in span for span in spans) and end > start else IGNORE_INDEX
        for tok, (start, end) in zip(ids, offsets)
    ]
    example = TokenizedExample(input_ids=ids, labels=labels)
    return example if example.num_trained else None


def tokenize_pair(
    tokenizer: Any, pair: PreferencePair, max_length: int
) -> tuple[TokenizedExample, TokenizedExample] | None:
    """Tokenise prompt+chosen and prompt+rejected, loss labels only on the answer.

    None when truncation leaves either answer without tokens.
    """
    out = []
    for answer in (pair.chosen, pair.rejected):
        messages = [*pair.prompt, {"role": "assistant", "content": answer}]
        record = ChatRecord(messages=messages, train_on=[len(messages) - 1], source=pair.source)
        example = tokenize_chat(tokenizer, record, max_length)
        if example is None:
            return None
        out.append(example)
    return out[0], out[1]
