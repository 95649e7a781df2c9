"""Direct Preference Optimisation on pairs from the agent's own successes and failures.

For a pair (prompt, chosen, rejected) with policy log-probs ``pc, pr`` and frozen reference
log-probs ``rc, rr``, the loss is ``-log sigmoid(beta * ((pc - rc) - (pr - rr)))``. The
reference is the model as it was when ``train()`` started; its log-probs are computed once
up front (with LoRA: the same network with the adapters switched off), which is exact because
the reference never changes, and avoids keeping a second copy of the model.

    >>> import torch
    >>> loss, stats = dpo_loss(torch.tensor([-1.0]), torch.tensor([-3.0]),
    ...                        torch.tensor([-2.0]), torch.tensor([-2.0]), beta=0.1)
    >>> round(stats["margin"], 2), stats["accuracy"]
    (0.2, 1.0)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from memplay.errors import TrainerError
from memplay.trainers.base_config import TrainConfig
from memplay.trainers.batches import collate, epoch_batches
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.logprobs import labelled_logprobs
from memplay.trainers.optim import optimise, planned_steps
from memplay.trainers.records import PreferencePair, as_records
from memplay.trainers.result import TrainResult
from memplay.trainers.tokenization import TokenizedExample, tokenize_pair
from memplay.trainers.trainer_base import BaseTrainer

__all__ = ["DPOTrainer", "dpo_loss"]

Pair = tuple[TokenizedExample, TokenizedExample]


def dpo_loss(
    policy_chosen: Any, policy_rejected: Any, ref_chosen: Any, ref_rejected: Any, beta: float
) -> tuple[Any, dict[str, float]]:
    """Mean DPO loss over a batch and its stats: margin, accuracy, chosen/rejected reward.

    The implicit reward of an answer is ``beta * (policy logp - reference logp)``; the
    margin is chosen minus rejected reward, the accuracy the share of pairs where it is > 0.
    """
    import torch.nn.functional as F

    chosen_reward = beta * (policy_chosen - ref_chosen)
    rejected_reward = beta * (policy_rejected - ref_rejected)
    margin = chosen_reward - rejected_reward
    loss = -F.logsigmoid(margin).mean()
    stats = {
        "margin": float(margin.detach().mean()),
        "accuracy": float((margin.detach() > 0).float().mean()),
        "chosen_reward": float(chosen_reward.detach().mean()),
        "rejected_reward": float(rejected_reward.detach().mean()),
    }
    return loss, stats


class DPOTrainer(BaseTrainer):
    """DPO with LoRA (reference = adapters off) or full fine-tuning (reference = start weights).

    >>> DPOTrainer("/nonexistent", DPOConfig())
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: model folder '/nonexistent' has no config.json; ...
    """

    method = "dpo"

    def __init__(self, model: str | Path | None = None, config: TrainConfig | None = None):
        config = config if config is not None else DPOConfig()
        if not isinstance(config, DPOConfig):
            raise TrainerError(f"DPOTrainer needs a DPOConfig (for beta), got "
                               f"{type(config).__name__}; build DPOConfig(...) instead")
        super().__init__(model, config)
        self.dpo_config = config

    def tokenize(self, pairs: list[PreferencePair]) -> list[Pair]:
        """Tokenise both answers of every pair; raises when none fits max_length."""
        tokenized = [tokenize_pair(self.tokenizer, p, self.config.max_length) for p in pairs]
        kept = [t for t in tokenized if t is not None]
        if not kept:
            raise TrainerError(f"none of the {len(pairs)} pairs fits max_length="
                               f"{self.config.max_length} tokens; raise max_length")
        return kept

    def _collate(self, pairs: list[Pair]) -> dict[str, Any]:
        """Chosen rows first, then rejected rows: one forward pass scores both."""
        rows = [c for c, _ in pairs] + [r for _, r in pairs]
        return collate(rows, self.tokenizer.pad_token_id, self.device)

    def _reference_logps(self, net: Any, pairs: list[Pair]) -> Any:
        """Log-probs of chosen and rejected under the frozen start model, shape (n, 2)."""
        import torch

        off = net.disable_adapter() if self.config.use_lora else contextlib.nullcontext()
        net.eval()
        out = []
        with torch.no_grad(), off:
            for start in range(0, len(pairs), self.config.batch_size):
                chunk = pairs[start : start + self.config.batch_size]
                logps = labelled_logprobs(net, self._collate(chunk))
                out.append(torch.stack(logps.split(len(chunk))).T)
        return torch.cat(out)

    def train(self, dataset: Iterable[Any]) -> TrainResult:
        """Train on preference pairs (records, dicts or a Dataset); save if output_dir."""
        pairs = as_records(dataset, PreferencePair)
        if not pairs:
            raise TrainerError("the DPO dataset is empty; build one with collect_pairs(run_dir) "
                               "after replaying tasks that both succeeded and failed")
        tokenized = self.tokenize(pairs)
        self._count_sources(pairs)
        cfg, started = self.dpo_config, time.perf_counter()
        with self._training() as net:
            reference = self._reference_logps(net, tokenized)

            def loss_fn(idx: list[int]) -> tuple[Any, dict[str, float]]:
                logps = labelled_logprobs(net, self._collate([tokenized[i] for i in idx]))
                chosen, rejected = logps.split(len(idx))
                ref = reference[idx]
                return dpo_loss(chosen, rejected, ref[:, 0], ref[:, 1], cfg.beta)

            batches = epoch_batches(len(tokenized), cfg.batch_size, cfg.epochs, cfg.seed)
            total = planned_steps(-(-len(tokenized) // cfg.batch_size), cfg)
            losses, metrics = optimise(net, batches, loss_fn, cfg, total)
        tokens = sum(c.num_trained + r.num_trained for c, r in tokenized)
        return self._finalise(TrainResult(
            losses=losses, steps=len(losses), seconds=time.perf_counter() - started,
            examples=len(tokenized), tokens=tokens, metrics=metrics,
        ))
