"""Compact text renderings of a trajectory, sized for a small model's context window.

Reflection prompts show the model what happened in an episode. Observations can be long
(ALFWorld rooms, Sokoban boards), so each is clipped and only the last steps are kept; the
outcome line always comes last because small models attend most to the end of the prompt.
:func:`informative` picks the episodes a playbook rewrite or an ExpeL comparison reads.

    >>> from memplay.types import Step, Trajectory
    >>> t = Trajectory(env_id="Corridor", goal="reach the end", success=True, total_reward=1.0,
    ...                steps=[Step(observation="at 0", action="right", reward=0.0)])
    >>> print(render_trajectory(t))
    Goal: reach the end
    1. at 0 -> right (reward 0)
    Outcome: success (total reward 1)
"""

from __future__ import annotations

import re

from memplay.llm.base import Prompt
from memplay.types import Trajectory

__all__ = ["clip", "env_family", "flatten_prompt", "informative", "outcome_word",
           "render_trajectory"]


def clip(text: str, limit: int) -> str:
    """Collapse whitespace and cut ``text`` to ``limit`` characters with an ellipsis.

    >>> clip("a  b\\n c", 10)
    'a b c'
    >>> clip("abcdefghij", 5)
    'abcd…'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + "…"


def outcome_word(trajectory: Trajectory) -> str:
    """``"success"`` or ``"failure"``.

    >>> outcome_word(Trajectory(env_id="x", success=False))
    'failure'
    """
    return "success" if trajectory.success else "failure"


def _number(value: float) -> str:
    return f"{value:g}"


def render_trajectory(
    trajectory: Trajectory, max_steps: int = 12, obs_chars: int = 100, first_obs_chars: int = 400
) -> str:
    """Render goal, numbered steps (observation -> action) and outcome, one per line.

    Only the last ``max_steps`` steps are shown (the end of an episode explains its outcome);
    a line says how many were skipped. The first observation shown gets more room
    (``first_obs_chars``) because it usually carries the map or room description; later ones
    are clipped to ``obs_chars``. Short prompts matter: a 135M model on 2 CPU cores spends
    most of a rewrite reading the prompt.

    >>> from memplay.types import Step
    >>> t = Trajectory(env_id="x", steps=[Step(observation=str(i), action="a") for i in range(3)])
    >>> render_trajectory(t, max_steps=1).splitlines()[1]
    '(2 earlier steps omitted)'
    """
    lines = [f"Goal: {clip(trajectory.goal, 300) or '(not stated)'}"]
    steps = trajectory.steps
    start = max(len(steps) - max_steps, 0)
    if start:
        lines.append(f"({start} earlier steps omitted)")
    for index, step in enumerate(steps[start:], start=start + 1):
        observation = clip(step.observation, first_obs_chars if index == start + 1 else obs_chars)
        lines.append(f"{index}. {observation} -> {step.action} (reward {_number(step.reward)})")
    lines.append(
        f"Outcome: {outcome_word(trajectory)} (total reward {_number(trajectory.total_reward)})"
    )
    return "\n".join(lines)


_VERSION_SUFFIX = re.compile(r"-v\d+$")


def env_family(env_id: str) -> str:
    """Family an environment id belongs to: the id without its version and variant parts.

    Documents are shared across variants of one game (4x4 and 8x8 FrozenLake obey the same
    rules), so ``FrozenLake-8x8-v0`` and ``FrozenLake-4x4-v0`` map to ``FrozenLake``.

    >>> env_family("FrozenLake-8x8-v0"), env_family("Sokoban-gen-v0"), env_family("Custom")
    ('FrozenLake', 'Sokoban', 'Custom')
    """
    base = _VERSION_SUFFIX.sub("", env_id.strip())
    return base.split("-", 1)[0] or env_id


def flatten_prompt(prompt: Prompt) -> str:
    """One string holding every message of a prompt, to check generations for echoes.

    >>> flatten_prompt([{"role": "user", "content": "hi"}, {"role": "user", "content": "yo"}])
    'hi\\nyo'
    """
    if isinstance(prompt, str):
        return prompt
    return "\n".join(message["content"] for message in prompt)


def informative(trajectories: list[Trajectory]) -> list[Trajectory]:
    """The episodes a rewrite learns most from: the longest failure (it met the most of
    the game's rules), then the shortest success (the most direct way to win). The success
    comes last because small models attend most to the end of a prompt.

    >>> lose = Trajectory(env_id="x", success=False)
    >>> win = Trajectory(env_id="x", success=True)
    >>> [t.success for t in informative([win, lose, win])]
    [False, True]
    """
    failures = [t for t in trajectories if not t.success]
    successes = [t for t in trajectories if t.success]
    picked = []
    if failures:
        picked.append(max(failures, key=lambda t: len(t.steps)))
    if successes:
        picked.append(min(successes, key=lambda t: len(t.steps)))
    return picked
