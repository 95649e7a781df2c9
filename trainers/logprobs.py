"""Log-probabilities of labelled tokens: the DPO policy term and an evaluation helper.

    >>> lp = answer_logprob(model, tokenizer, [{"role": "user", "content": "at (0,0)"}],
    ...                     "down")  # doctest: +SKIP
    >>> lp < 0                      # doctest: +SKIP
    True
"""

from __future__ import annotations

from typing import Any

from memplay.errors import TrainerError
from memplay.trainers.batches import collate
from memplay.trainers.records import ChatRecord, Message
from memplay.trainers.tokenization import IGNORE_INDEX, tokenize_chat

__all__ = ["answer_logprob", "labelled_logprobs"]


def labelled_logprobs(model: Any, batch: dict[str, Any]) -> Any:
    """Sum over each row of log p(token) for the tokens whose label is not ignored.

    Returns a float tensor of shape ``(batch,)``; gradients flow when the model has them.
    Token *t* is predicted by the logits at *t-1*, hence the shift.
    """
    import torch

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    mask = labels != IGNORE_INDEX
    picked = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(dim=-1)


def answer_logprob(
    model: Any, tokenizer: Any, prompt: list[Message], answer: str, max_length: int = 1024
) -> float:
    """log p(answer | prompt) under ``model`` in the tokenizer's chat format (no gradient).

    The sum covers the answer tokens and the end-of-turn token the template adds.
    """
    import torch

    messages = [*prompt, {"role": "assistant", "content": answer}]
    record = ChatRecord(messages=messages, train_on=[len(messages) - 1], source="eval")
    example = tokenize_chat(tokenizer, record, max_length)
    if example is None:
        raise TrainerError(f"the prompt fills max_length={max_length} tokens and leaves no room "
                           f"for the answer {answer!r}; raise max_length or shorten the prompt")
    device = next(model.parameters()).device
    with torch.no_grad():
        batch = collate([example], tokenizer.pad_token_id, device)
        return float(labelled_logprobs(model, batch)[0])
