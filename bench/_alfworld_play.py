"""bench_alfworld's own-play part (the ``memrl`` row): what it trains on and what it learned.

The row learns from its own play only (no walkthrough, no expert): train-split games, a
curriculum over task types through the curriculum hook (SEC's learning progress over one arm
per task type, :func:`memplay.environments.alfworld.tasks.task_categories`), hindsight
relabelling (every goal an episode achieved on the way teaches memory a success) and the
view's per-place repeats in the novelty term. :func:`train_summary` reads the train run back:
success per epoch, per task type per epoch, the episode of each type's first success, and how
many hindsight successes memory received.

    >>> first_successes([{"episode": 0, "success": False, "type": "look"},
    ...                  {"episode": 1, "success": True, "type": "look"}])
    {'look': 1}
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["PLAY", "curriculum", "first_successes", "train_summary"]

# own play per mode: train games per task type, epochs over them, step cap of train episodes
PLAY = {"quick": {"per_type": 1, "epochs": 1}, "full": {"per_type": 60, "epochs": 4}}


def curriculum(every: list[str], seeds: list[int]) -> dict[str, Any]:
    """The curriculum config of the own-play run: SEC over one arm per task type.

    >>> curriculum(["t/look_at_obj_in_light-A-None-B-1/t/g"], [0])["options"]["categories"]
    {'look_at_obj_in_light': [0]}
    """
    from memplay.environments.alfworld.tasks import task_categories

    return {"name": "sec", "options": {"categories": task_categories(every, seeds)}}


def first_successes(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Per task type, the index (in play order) of its first successful train episode, the
    types in the order they first succeeded."""
    first: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: r["episode"]):
        if row["success"] and row["type"] not in first:
            first[row["type"]] = row["episode"]
    return first


def train_summary(run_dir: Path, every: list[str], metrics: dict[str, Any]) -> dict[str, Any]:
    """What the own-play run did, from its ``episodes.jsonl`` (``every``: the train split's
    game files, which task seeds index) and its metrics."""
    from memplay.environments.alfworld.env import task_type_of
    from memplay.run_dir import RunDir

    rows = [json.loads(line) for line in RunDir(run_dir).episodes.read_text().splitlines()]
    for row in rows:
        row["type"] = task_type_of(every[int(row["seed"])])
    epochs = int(metrics["epochs"])
    cells: dict[str, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in range(epochs)])
    for row in rows:
        cell = cells[row["type"]][int(row["epoch"])]
        cell[0] += int(row["success"])
        cell[1] += 1
    per_type = {t: cells[t] for t in sorted(cells)}
    return {"train": metrics["success_per_epoch"], "episodes": len(rows),
            "steps": sum(int(r["steps"]) for r in rows),
            "hindsight_successes": int(metrics.get("hindsight_successes") or 0),
            "train_per_type": per_type,  # [solved, played] per epoch
            "first_success": first_successes(rows)}
