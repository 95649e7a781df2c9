"""Self-play: the agent plays both seats of Kuhn poker and learns from both.

``--variant mccfr`` (the default) learns by outcome-sampling Monte Carlo CFR in a strategy
memory, the embedded model a prior that fades; after every epoch the average strategy's exact
exploitability (NashConv, 0 at an equilibrium) is computed by best response (and by OpenSpiel
when it is installed). ``--variant memrl`` learns step values instead (docs/self-play.md).

    python examples/self_play.py --epochs 4 --hands 2000
    python examples/self_play.py --quick   # scripted LLM and hash embedder: seconds
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from memplay.agents import Agent

QUICK = {"llm": "scripted", "memory": {"embedder": "hash"}}  # --quick: no model, plumbing only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="KuhnPoker-v0", help="or LeducPoker-v0, TicTacToe-v0")
    parser.add_argument("--variant", default="mccfr", help="or memrl")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--hands", type=int, default=2000, help="games per epoch")
    parser.add_argument("--out", default="runs/example-self-play")
    parser.add_argument("--quick", action="store_true", help="a few seconds, no model")
    args = parser.parse_args()
    epochs, hands = (2, 16) if args.quick else (args.epochs, args.hands)

    agent = Agent(args.env, variant=args.variant, self_play=True, parallel_envs=min(hands, 32),
                  config=QUICK if args.quick else None)
    agent.run(epochs=epochs, tasks=range(hands), run_dir=args.out)
    agent.close()
    measures = Path(args.out) / "selfplay" / "measures.jsonl"
    if measures.exists():  # Kuhn and Leduc poker: one row per epoch
        rows = [json.loads(line) for line in measures.read_text().splitlines()]
        print("NashConv per epoch:", [round(r["nash_conv"], 3) for r in rows if "nash_conv" in r])
        print("decisions that asked the model:", rows[-1].get("model_prompts", "-"), "of",
              rows[-1].get("decisions", "-"))
    print("both seats of every game:", Path(args.out) / "selfplay" / "games.jsonl")


if __name__ == "__main__":
    main()
