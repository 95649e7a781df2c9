"""DPO preference pairs mined from successes and failures on the same task.

Two episodes on the same task (env, goal and seed) that start alike and then part ways give
a pair at their first diverging step: the prompt is the shared prefix of the transcript up to
that observation, the action of the success is ``chosen`` and the action of the failure is
``rejected``. A pair is only made when the observation at that step is the same in both
episodes; otherwise (a slippery or random environment) the prefixes are not really shared.

    >>> from memplay.types import Step, Trajectory
    >>> def run(actions, ok):
    ...     steps = [Step(observation=f"t{i}", action=a) for i, a in enumerate(actions)]
    ...     return Trajectory(env_id="e", goal="g", seed=0, steps=steps, success=ok)
    >>> pair = preference_pairs([run(["down", "right"], True), run(["down", "left"], False)])[0]
    >>> pair.chosen, pair.rejected, pair.prompt[-1]["content"]
    ('right', 'left', 't1')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from memplay.trainers.data import PromptFn, collect_examples
from memplay.trainers.records import PreferencePair
from memplay.types import Trajectory

__all__ = ["collect_pairs", "diverging_pair", "preference_pairs"]


def diverging_pair(
    success: Trajectory,
    failure: Trajectory,
    system: str | None = None,
    prompt_fn: PromptFn | None = None,
) -> PreferencePair | None:
    """The pair at the first step where the two episodes act differently, or None.

    None when they never differ within the shorter episode or when the observations differ
    first (then there is no shared prompt to compare the two actions on). With ``prompt_fn``
    the prompt is ``prompt_fn(success, i)`` instead of the transcript prefix.

    >>> from memplay.types import Step, Trajectory
    >>> a = Trajectory(env_id="e", steps=[Step(observation="o", action="x")], success=True)
    >>> diverging_pair(a, a) is None
    True
    """
    for i, (good, bad) in enumerate(zip(success.steps, failure.steps)):
        if good.observation != bad.observation:
            return None
        if good.action != bad.action and prompt_fn is not None:
            return PreferencePair(prompt=prompt_fn(success, i), chosen=good.action,
                                  rejected=bad.action)
        if good.action != bad.action:
            # messages of the success up to and including the user turn of step i
            prefix = Trajectory(env_id=success.env_id, goal=success.goal, steps=success.steps[:i])
            prompt = [*prefix.to_messages(system), {"role": "user", "content": good.observation}]
            return PreferencePair(prompt=prompt, chosen=good.action, rejected=bad.action)
    return None


def preference_pairs(
    trajectories: Iterable[Trajectory],
    system: str | None = None,
    max_pairs_per_task: int = 8,
    prompt_fn: PromptFn | None = None,
) -> list[PreferencePair]:
    """Pairs from every (success, failure) couple of each task, duplicates dropped.

    ``max_pairs_per_task`` caps each task so that one task seen often does not dominate.

    >>> preference_pairs([])
    []
    """
    by_task: dict[tuple[str, str, int | None], list[Trajectory]] = defaultdict(list)
    for traj in trajectories:
        by_task[(traj.env_id, traj.goal, traj.seed)].append(traj)
    pairs: list[PreferencePair] = []
    seen: set[str] = set()
    for group in by_task.values():
        made = 0
        wins = [t for t in group if t.success]
        losses = [t for t in group if not t.success]
        for win in wins:
            for loss in losses:
                pair = diverging_pair(win, loss, system, prompt_fn)
                if pair is None or made >= max_pairs_per_task:
                    continue
                key = pair.model_dump_json()
                if key not in seen:
                    seen.add(key)
                    pairs.append(pair)
                    made += 1
    return pairs


def collect_pairs(
    run_dir: str | Path,
    pair_files: Sequence[str | Path] = (),
    system: str | None = None,
    max_pairs_per_task: int = 8,
    prompt_fn: PromptFn | None = None,
) -> list[PreferencePair]:
    """All preference pairs of a run: mined from its trajectories plus the given files (pair
    records, or revision trajectories such as ``<memory>/critiques/revisions.jsonl``).

    >>> collect_pairs("/nonexistent")
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/trajectories.jsonl not found; ...
    """
    def nothing(trajectories: list[Trajectory]) -> str:
        wins = sum(t.success for t in trajectories)
        return (f"no preference pairs in {run_dir}: pairs need a success and a failure on the "
                f"same task (env, goal, seed) that share a prefix ({len(trajectories)} "
                f"episodes, {wins} successes); replay each task more than once (several epochs "
                "over the same seeds), or add the critique memory's revisions (memplay train "
                "--method dpo --data <memory>/critiques/revisions.jsonl)")

    return collect_examples(
        run_dir, pair_files, PreferencePair,
        lambda ts: preference_pairs(ts, system, max_pairs_per_task, prompt_fn), nothing)
