"""Reflexion: a short verbal reflection written after a failed episode.

The LLM reads the trajectory and says what went wrong and what to do next time. Small models
often answer with nothing usable; then a templated reflection is built from the trajectory
itself (last actions, final observation), and the fallback is counted, so a run always gets a
reflection and its logs show how often the model helped.

Reflections become :class:`~memplay.memory.item.MemoryItem` objects of kind ``"reflection"``
(intent = the goal), so they are retrieved and Q-scored like any other memory.

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> from memplay.types import Step, Trajectory
    >>> t = Trajectory(env_id="FrozenLake-4x4-v0", goal="reach G",
    ...                steps=[Step(observation="at S", action="right")])
    >>> r = Reflector(ScriptedLLM(responses=[""])).reflect(t)
    >>> r.source, r.to_memory_item().kind
    ('template', 'reflection')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memplay.agents.llm.base import LLM, Message, SamplingParams
from memplay.errors import LLMError
from memplay.memory.item import MemoryItem
from memplay.memory.reflection.transcript import clip, flatten_prompt, render_trajectory
from memplay.memory.reflection.validation import check_generation
from memplay.types import Trajectory

__all__ = ["Reflection", "Reflector", "reflection_prompt", "templated_reflection"]


@dataclass(frozen=True)
class Reflection:
    """A reflection on one episode.

    Attributes:
        text: The advice.
        goal: Goal of the episode (the memory's intent).
        env_id: Environment it came from.
        source: ``"llm"`` or ``"template"``.
        success: Outcome of the episode reflected on.

    >>> Reflection("Avoid H.", "reach G", "FrozenLake-4x4-v0", "llm").to_memory_item().intent
    'reach G'
    """

    text: str
    goal: str
    env_id: str
    source: str
    success: bool = False

    def to_memory_item(self) -> MemoryItem:
        """This reflection as a memory item of kind ``"reflection"`` (Q starts at 0)."""
        return MemoryItem(
            intent=self.goal or self.env_id, experience=self.text, kind="reflection",
            env_id=self.env_id, metadata={"source": self.source, "success": self.success},
        )


def reflection_prompt(trajectory: Trajectory, max_steps: int = 12) -> list[Message]:
    """Chat messages asking for a two-sentence reflection on ``trajectory``.

    >>> reflection_prompt(Trajectory(env_id="x", goal="win"))[1]["content"].startswith("Goal")
    True
    """
    system = "You review an attempt at a task and give advice for the next attempt."
    user = (
        f"{render_trajectory(trajectory, max_steps=max_steps)}\n\n"
        "In two sentences: what went wrong, and what should be done differently next time?"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def templated_reflection(trajectory: Trajectory) -> str:
    """A reflection built from the trajectory alone (used when the LLM's answer is useless).

    >>> from memplay.types import Step
    >>> t = Trajectory(env_id="x", goal="reach G", steps=[Step(observation="at S", action="up")])
    >>> templated_reflection(t)[:53]
    'Goal: reach G. I failed after 1 steps; my last action'
    """
    goal = clip(trajectory.goal, 120).rstrip(".") or "(not stated)"
    if not trajectory.steps:
        return f"Goal: {goal}. I took no action."
    if trajectory.success:
        return (
            f"Goal: {goal}. I succeeded in {len(trajectory.steps)} steps with the actions: "
            f"{', '.join(trajectory.actions[-12:])}. Repeat this plan in the same situation."
        )
    last = trajectory.steps[-1]
    return (
        f"Goal: {goal}. I failed after {len(trajectory.steps)} steps; my last actions were: "
        f"{', '.join(trajectory.actions[-5:])}. It ended with: {clip(last.observation, 120)}. "
        f"Next time I should not repeat {last.action!r} in that situation; try another action "
        "earlier."
    )


@dataclass
class Reflector:
    """Writes Reflexion reflections with an LLM, falling back to a template (counted).

    Attributes:
        llm: The model; ``None`` always uses the template.
        sampling: Decoding settings.
        max_chars: Longest reflection kept (cut at a word boundary).
        generated: Reflections the LLM wrote.
        fallbacks: Reflections that fell back to the template.

    >>> Reflector().reflect(Trajectory(env_id="x", goal="win")).source
    'template'
    """

    llm: LLM | None = None
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=96))
    max_chars: int = 400
    generated: int = 0
    fallbacks: int = 0

    def reflect(self, trajectory: Trajectory) -> Reflection:
        """Reflect on one episode (the module docstring has an example)."""
        text = self._generate(trajectory)
        source = "llm" if text else "template"
        if text:
            self.generated += 1
        else:
            self.fallbacks += 1
            text = templated_reflection(trajectory)
        return Reflection(text, trajectory.goal, trajectory.env_id, source, trajectory.success)

    def _generate(self, trajectory: Trajectory) -> str:
        if self.llm is None:
            return ""
        prompt = reflection_prompt(trajectory)
        try:
            raw = self.llm.generate([prompt], self.sampling)[0]
        except LLMError:
            return ""
        # Advice that names none of the episode's actions is generic filler ("try harder").
        verdict = check_generation(
            raw, old="", prompt=flatten_prompt(prompt), min_chars=20, anchors=trajectory.actions
        )
        if not verdict.ok:
            return ""
        return clip(verdict.text, self.max_chars)
