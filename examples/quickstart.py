"""Quickstart: a frozen SmolLM2-135M learns FrozenLake through its memory."""
import sys

from memplay import Agent

epochs, tasks = (1, 1) if "--quick" in sys.argv else (10, 4)  # --quick: a CI smoke run
agent = Agent("FrozenLake-4x4-v0", variant="memrl", max_steps=12)  # embedded LLM + MiniLM
result = agent.run(epochs=epochs, tasks=range(tasks))  # seeded episodes per epoch, in lockstep
print("success per epoch:", result.success_per_epoch)
print("last-epoch success:", result.last_epoch_success, "| results in", result.run_dir)
agent.close()
