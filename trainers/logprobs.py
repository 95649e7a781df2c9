"""log p(answer | prompt) under a model, in its chat format: an evaluation helper.

    >>> lp = answer_logprob(model, tokenizer, [{"role": "user", "content": "at (0,0)"}],
    ...                     "down")  # doctest: +SKIP
    >>> lp < 0                      # doctest: +SKIP
    True
"""

from __future__ import annotations

from typing import Any

from memplay.errors import TrainerError
from memplay.trainers.records import Message

__all__ = ["answer_ids", "answer_logprob"]


def answer_ids(tokenizer: Any, prompt: list[Message], answer: str) -> tuple[list[int], int]:
    """Token ids of prompt + answer turn and where the answer starts, as TRL's SFT splits a
    prompt-completion row (the prompt rendered with the generation prompt).

    >>> answer_ids(None, [], "x")
    Traceback (most recent call last):
    ...
    memplay.errors.TrainerError: an answer needs a prompt of at least one message
    """
    if not prompt:
        raise TrainerError("an answer needs a prompt of at least one message")
    head = tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True,
                                         return_dict=False)
    full = tokenizer.apply_chat_template([*prompt, {"role": "assistant", "content": answer}],
                                         tokenize=True, return_dict=False)
    start = next((i for i, (a, b) in enumerate(zip(head, full)) if a != b),
                 min(len(head), len(full)))
    return list(full), start


def answer_logprob(
    model: Any, tokenizer: Any, prompt: list[Message], answer: str, max_length: int = 1024
) -> float:
    """log p(answer | prompt) under ``model`` (no gradient): the sum over the answer tokens
    and the end-of-turn token the template adds, the tokens SFT trains on."""
    import torch

    ids, start = answer_ids(tokenizer, prompt, answer)
    if start >= min(len(ids), max_length):
        raise TrainerError(f"the prompt fills max_length={max_length} tokens and leaves no room "
                           f"for the answer {answer!r}; raise max_length or shorten the prompt")
    ids = ids[:max_length]
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids], device=device)).logits[0, :-1].float()
    logp = torch.log_softmax(logits, dim=-1)
    targets = torch.tensor(ids[1:], device=device)
    picked = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return float(picked[start - 1:].sum())
