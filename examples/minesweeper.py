"""Minesweeper with rules and a playbook the model rewrites as it plays (CEL).

The LLM rewrites both documents once per batch, every `reflection.rewrite_every` finished
episodes (4 by default), from a failed and a won episode; a rewrite that is empty, echoes
the prompt or loops is rejected and counted, and a version that does worse is rolled back.
They live in `<run>/memory/playbooks/`. With the 135M model most rewrites are rejected.

    python examples/minesweeper.py --epochs 3
    python examples/minesweeper.py --quick   # scripted LLM and hash embedder: seconds
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memplay.agents import Agent

# --quick: a scripted LLM whose rewrites are accepted, so the playbook path runs end to end
QUICK = {"llm": "scripted", "memory": {"embedder": "hash"}, "llm_kwargs": {"responses": [
    "- Revealing a mine ends the game; a number counts the mines around its cell.",
    "- Open with reveal 2 2 in the middle, then reveal cells next to a '-' first."]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--boards", type=int, default=4)
    parser.add_argument("--out", default="runs/example-minesweeper")
    parser.add_argument("--quick", action="store_true", help="a few seconds, no model")
    args = parser.parse_args()
    epochs, boards = (2, 2) if args.quick else (args.epochs, args.boards)

    # memrl+playbook: MemRL memories plus CEL rules/playbook documents in every prompt.
    agent = Agent("Minesweeper-v0", variant="memrl+playbook", parallel_envs=boards,
                  max_steps=8 if args.quick else 30, config=QUICK if args.quick else None)
    result = agent.run(epochs=epochs, tasks=range(boards), run_dir=args.out)
    print("success per epoch:", result.success_per_epoch)
    playbook = Path(args.out) / "memory" / "playbooks" / "Minesweeper.md"
    if playbook.is_file():  # written once a rewrite is accepted
        print(f"rules and playbook ({playbook}):\n{playbook.read_text()}")
    else:
        print(f"no rewrite was accepted yet; see `memplay inspect {args.out}`")
    agent.close()


if __name__ == "__main__":
    main()
