"""Quickstart: a frozen SmolLM2-135M learns FrozenLake through its memory."""
from memplay import Agent

agent = Agent("FrozenLake-4x4-v0", variant="memrl", max_steps=12)  # embedded LLM + MiniLM
result = agent.run(epochs=10, tasks=range(4))  # 4 seeded episodes per epoch, in lockstep
print("success per epoch:", result.success_per_epoch)
print("last-epoch success:", result.last_epoch_success, "| results in", result.run_dir)
agent.close()
