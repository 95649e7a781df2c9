"""The ``demos`` recipe: demonstrations (solver paths, walkthroughs, another run's episodes)
as SFT examples, each tagged with its provenance.

``files`` are demo files (:mod:`memplay.demos`: trajectories or step lines). Every step of
every successful demo becomes one example in the play prompt; its ``source`` is
``"<provenance>:<source>"`` (``demo:bfs-shortest-path on FrozenLake-4x4-v0``,
``import:run-12``...), so the version's ``data`` counts say where each example came from.
A demo without portable views (a file written before views existed) is replayed first when
the prompt reads the view.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.agents.distill.recipe import DistillSource
    >>> from memplay.demos import write_demos
    >>> from memplay.environments.demos import solver_demo_episodes
    >>> path = Path(tempfile.mkdtemp()) / "demos.jsonl"
    >>> _ = write_demos(path, solver_demo_episodes("FrozenLake-4x4-v0", [0]))
    >>> source = DistillSource(Path("/no/run"), AgentConfig(), files=[path])
    >>> records = DEMOS.examples(source)
    >>> len(records), records[0].source, records[0].messages[-1]["content"]
    (6, 'demo:bfs-shortest-path on FrozenLake-4x4-v0', 'down')
"""

from __future__ import annotations

from typing import cast

from memplay.agents.components import make_env
from memplay.agents.demos import load_demos
from memplay.agents.distill.recipe import DistillSource, Recipe
from memplay.demos import DemoEpisode
from memplay.environments.core import TextEnv
from memplay.environments.demos import replay_demos
from memplay.errors import TrainerError
from memplay.trainers.data import sft_records
from memplay.trainers.records import ChatRecord

__all__ = ["DEMOS", "demo_episodes"]


def demo_episodes(source: DistillSource) -> list[DemoEpisode]:
    """The demos of ``source.files``, replayed where the view prompt needs views they lack."""
    if not source.files:
        raise TrainerError("recipe 'demos' reads demo files; pass them (memplay train RUN "
                           "--recipe demos --data demos.jsonl)")
    demos = load_demos(list(source.files))
    lacking = [d for d in demos if any("view" not in s.info for s in d.trajectory.steps)]
    if source.prompt.state == "view" and lacking:
        config = source.config
        replayed = iter(replay_demos(lacking, make_env=lambda env_id: cast(
            TextEnv, make_env(config.model_copy(update={"env_id": env_id})))))
        demos = [next(replayed) if d in lacking else d for d in demos]
    return demos


def _demo_records(source: DistillSource) -> list[ChatRecord]:
    records: list[ChatRecord] = []
    for demo in demo_episodes(source):
        tag = f"{demo.provenance}:{demo.source or 'unnamed'}"
        made = sft_records([demo.trajectory], dedupe=False, prompt_fn=source.prompt_fn)
        records.extend(r.model_copy(update={"source": tag}) for r in made)
    if not source.dedupe:
        return records
    seen: set[str] = set()
    kept = []
    for record in records:  # the first demo that teaches an example keeps it
        if (key := str(record.messages)) not in seen:
            seen.add(key)
            kept.append(record)
    return kept


DEMOS = Recipe(
    "demos", "sft",
    "every step of the successful demos in the given files (solver paths, walkthroughs), "
    "tagged with their provenance; pass demo files with --data", _demo_records)
