"""Batching for the training loops: seeded shuffles and right-padded tensors.

    >>> list(epoch_batches(5, batch_size=2, epochs=1, seed=0))  # doctest: +SKIP
    [[4, 1], [0, 3], [2]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from memplay.trainers.tokenization import IGNORE_INDEX, TokenizedExample

__all__ = ["collate", "epoch_batches"]


def epoch_batches(n: int, batch_size: int, epochs: int, seed: int) -> Iterator[list[int]]:
    """Yield index batches over ``range(n)``, reshuffled each epoch with a seeded generator.

    >>> sorted(i for b in epoch_batches(5, 2, epochs=1, seed=0) for i in b)
    [0, 1, 2, 3, 4]
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator).tolist()
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]


def collate(examples: Sequence[TokenizedExample], pad_id: int, device: Any) -> dict[str, Any]:
    """Right-pad examples into ``input_ids``, ``attention_mask`` and ``labels`` tensors.

    Padding positions get ``attention_mask`` 0 and label ``IGNORE_INDEX``, so they neither
    attend nor count in the loss.

    >>> batch = collate([TokenizedExample([1, 2], [-100, 2]),
    ...                  TokenizedExample([3], [3])], pad_id=0, device="cpu")
    >>> batch["labels"].tolist()
    [[-100, 2], [3, -100]]
    """
    import torch

    width = max(len(ex.input_ids) for ex in examples)
    ids, mask, labels = [], [], []
    for ex in examples:
        pad = width - len(ex.input_ids)
        ids.append(ex.input_ids + [pad_id] * pad)
        mask.append([1] * len(ex.input_ids) + [0] * pad)
        labels.append(ex.labels + [IGNORE_INDEX] * pad)
    return {
        "input_ids": torch.tensor(ids, dtype=torch.long, device=device),
        "attention_mask": torch.tensor(mask, dtype=torch.long, device=device),
        "labels": torch.tensor(labels, dtype=torch.long, device=device),
    }
