"""Loss masks through the embedded model's real chat template (tokenizer only, no weights)."""

from __future__ import annotations

import pytest

from memplay.errors import TrainerError
from memplay.trainers.modeling import load_tokenizer
from memplay.trainers.records import ChatRecord, PreferencePair
from memplay.trainers.tokenization import (
    IGNORE_INDEX,
    check_chat_template,
    tokenize_chat,
    tokenize_pair,
)

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def tokenizer():
    from memplay.agents.llm.embedded import embedded_model_path

    return load_tokenizer(embedded_model_path())


def chat(*turns: str) -> list[dict[str, str]]:
    roles = ["user", "assistant"]
    return [{"role": roles[i % 2], "content": text} for i, text in enumerate(turns)]


def trained_text(tokenizer, example) -> str:
    return tokenizer.decode([t for t, lab in zip(example.input_ids, example.labels)
                             if lab != IGNORE_INDEX])


def test_only_listed_assistant_turns_carry_loss(tokenizer) -> None:
    record = ChatRecord(messages=chat("at row 0", "left", "at row 0 again", "down"), train_on=[3])
    example = tokenize_chat(tokenizer, record, max_length=512)
    assert example is not None
    text = trained_text(tokenizer, example)
    assert text.startswith("down") and "left" not in text
    assert tokenizer.eos_token in text  # the end of turn is learned too, so the model stops
    assert example.labels[: len(example.labels) // 2].count(IGNORE_INDEX) > 0
    # labels copy the ids where they are kept (the model shifts them itself)
    kept = [(t, lab) for t, lab in zip(example.input_ids, example.labels) if lab != IGNORE_INDEX]
    assert all(t == lab for t, lab in kept)


def test_every_assistant_turn_when_all_listed(tokenizer) -> None:
    record = ChatRecord(messages=chat("a", "left", "b", "down"), train_on=[1, 3])
    text = trained_text(tokenizer, tokenize_chat(tokenizer, record, max_length=512))
    assert "left" in text and "down" in text and "b" not in text.replace("<|im_end|>", "")


def test_truncation_that_removes_the_answer_drops_the_example(tokenizer) -> None:
    record = ChatRecord(messages=chat("word " * 100, "down"), train_on=[1])
    assert tokenize_chat(tokenizer, record, max_length=32) is None
    assert len(tokenize_chat(tokenizer, record, max_length=512).input_ids) <= 512


def test_pair_shares_the_prompt_and_differs_in_the_answer(tokenizer) -> None:
    pair = PreferencePair(prompt=chat("at row 1 col 0"), chosen="down", rejected="right")
    chosen, rejected = tokenize_pair(tokenizer, pair, max_length=512)
    assert trained_text(tokenizer, chosen).startswith("down")
    assert trained_text(tokenizer, rejected).startswith("right")
    prompt_len = chosen.labels.index(next(lab for lab in chosen.labels if lab != IGNORE_INDEX))
    assert chosen.input_ids[:prompt_len] == rejected.input_ids[:prompt_len]


def test_tokenizer_without_chat_template_is_rejected(tokenizer) -> None:
    check_chat_template(tokenizer)  # the embedded model has one
    template = tokenizer.chat_template
    tokenizer.chat_template = None
    try:
        with pytest.raises(TrainerError, match=r"has no chat template"):
            check_chat_template(tokenizer)
    finally:
        tokenizer.chat_template = template


def test_template_that_rewrites_history_is_rejected(tokenizer) -> None:
    template = tokenizer.chat_template
    # renders only the last message: earlier turns vanish, so spans cannot be located
    tokenizer.chat_template = "{{ messages[-1]['content'] }}"
    try:
        record = ChatRecord(messages=chat("a", "left", "b", "down"), train_on=[1, 3])
        with pytest.raises(TrainerError, match=r"does not render message 1"):
            tokenize_chat(tokenizer, record, max_length=64)
    finally:
        tokenizer.chat_template = template
