"""Child process of the kill tests (not collected by pytest: no ``test_`` prefix).

``store DIR PREFIX``: load (or create) the memory at DIR, then forever add one item and one
step-memory state, save both, and print ``ACK <id>`` once both saves returned.
``run RUN_DIR EPISODES``: run an agent (ScriptedLLM + HashEmbedder, FrozenLake) to the end,
resuming whatever RUN_DIR already holds; print ``DONE`` at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem, StepMemory

DIM = 16


def _open(directory: Path) -> tuple[FaissMemoryStore, StepMemory]:
    emb = HashEmbedder(DIM)
    if (directory / "store").exists():
        return (FaissMemoryStore.load(directory / "store", emb),
                StepMemory.load(directory / "steps", emb))
    return FaissMemoryStore(emb), StepMemory(emb)


def store_loop(directory: Path, prefix: str) -> None:
    store, steps = _open(directory)
    for i in range(10**9):
        item_id = f"{prefix}-{i}"
        store.add([MemoryItem(id=item_id, intent=f"intent {item_id}", q=0.5)])
        steps.update([f"state {item_id}"], ["right"], [1.0])
        store.save(directory / "store")
        steps.save(directory / "steps")
        print(f"ACK {item_id}", flush=True)


def run_loop(run_dir: Path, episodes: int) -> None:
    from memplay.agents import Agent
    from memplay.llm.fake import ScriptedLLM

    agent = Agent("FrozenLake-4x4-v0", variant="memrl", llm=ScriptedLLM(),
                  embedder=HashEmbedder(DIM), parallel_envs=2, max_steps=12, seed=3)
    agent.run(epochs=episodes // 4, tasks=range(4), run_dir=run_dir, progress=False)
    print("DONE", flush=True)


if __name__ == "__main__":
    mode, target, arg = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    if mode == "store":
        store_loop(target, arg)
    else:
        run_loop(target, int(arg))
