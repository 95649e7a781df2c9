"""ALFWorld household tasks: learn from train-split walkthroughs, export, reuse on unseen games.

The lesson has to carry over: memory is written from walkthroughs of *train* games, moved
through a portable archive (what you would ship to another machine), and used frozen on
games of the ``eval_in_distribution`` split (valid_seen) that it never saw. Step memory keys
each action by ALFWorld's portable view (task, stage, place), not by the room's text, so a
lesson such as "go to the fridge when the task needs a cold thing" matches in a new house.
Needs the alfworld extra and data (``alfworld-download``, or ``$ALFWORLD_DATA``).

    python examples/alfworld_household.py --per-type 2 --games 6
    python examples/alfworld_household.py --quick   # 1 demo, 1 held-out game, scripted LLM
    python examples/alfworld_household.py --split eval_out_of_distribution  # valid_unseen rooms
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memplay.agents import Agent
from memplay.app.cli import main as memplay_cli
from memplay.environments.alfworld.demos import alfworld_demos, demo_statistics


def learn_export_reuse(out: Path, per_type: int, games: int, quick: bool,
                       split: str = "eval_in_distribution") -> list[float]:
    """Demos of train games -> memory -> archive -> fresh memory -> held-out evaluation on
    ``split`` (valid_seen, or valid_unseen: rooms no train game has)."""
    picked = {"games": [0]} if quick else {"per_task_type": per_type}
    demos = list(alfworld_demos("train", cache=out / "demos.jsonl", **picked))
    print("demos:", demo_statistics(demos)["games"], "train games")
    # --quick: the scripted LLM and the hash embedder, no model (the plumbing only)
    options = {"variant": "memrl", "max_steps": 3 if quick else 30, "parallel_envs": games,
               "config": {"llm": "scripted"} if quick else None,
               "memory": {"embedder": "hash" if quick else "default"}}
    # the teacher replays the demos (a check) in their own split; the student plays unseen ones
    teacher = Agent("ALFWorld-v0", env_kwargs={"split": "train"}, **options)
    print("learned:", teacher.learn_from(demos, out / "teacher"))
    teacher.close()
    archive = out / "alfworld-memory.tar.gz"
    memplay_cli(["export", str(out / "teacher"), str(archive)])
    memplay_cli(["import", str(archive), str(out / "imported")])
    # greedy, and no bonus for what the teacher did rarely (its counts are not our ignorance)
    student = Agent("ALFWorld-v0", env_kwargs={"split": split},
                    policy={"temperature": 0.0, "memory_novelty": False}, **options)
    result = student.run(epochs=1, tasks=range(games), run_dir=out / "held-out",
                         memory_dir=out / "imported", frozen=True)
    student.close()
    return result.success_per_epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--per-type", type=int, default=2, help="train walkthroughs per task type")
    parser.add_argument("--games", type=int, default=6, help="held-out games")
    parser.add_argument("--split", choices=["eval_in_distribution", "eval_out_of_distribution"],
                        default="eval_in_distribution",
                        help="held-out games from valid_seen (default) or valid_unseen")
    parser.add_argument("--out", type=Path, default=Path("runs/example-alfworld"))
    parser.add_argument("--quick", action="store_true", help="plumbing only: scripted LLM")
    args = parser.parse_args()
    per_type, games = (1, 1) if args.quick else (args.per_type, args.games)
    success = learn_export_reuse(args.out, per_type, games, args.quick, args.split)
    print("held-out success (memory never saw these games):", success)


if __name__ == "__main__":
    main()
