"""Reflexion: after a failed try, the LLM writes what went wrong; the next try reads it.

:class:`Reflector` asks the LLM for a two-sentence reflection on a failed episode. Small
models often answer with nothing usable; then a templated reflection is built from the
trajectory itself (last actions, final observation) and the fallback is counted, so a run
always gets a reflection and its files show how often the model helped
(:meth:`~memplay.agents.methods.reflexion.store.ReflectionStore.counts`).
:class:`ReflexionReflection` is the ``reflexion`` reflection of the variant registry: it
reflects on every failed episode and shows a task's newest reflections on its next try.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> from memplay.types import Step, Trajectory
    >>> t = Trajectory(env_id="FrozenLake-4x4-v0", goal="reach G", seed=3,
    ...                steps=[Step(observation="at S", action="right")])
    >>> r = Reflector(ScriptedLLM(responses=[""])).reflect(t)
    >>> r.source, r.to_memory_item().kind
    ('template', 'reflection')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from memplay.agents.methods.reflexion.store import Reflection, ReflectionStore
from memplay.agents.methods.registry import ReflectionSetup
from memplay.agents.methods.transcript import clip, flatten_prompt, render_trajectory
from memplay.agents.methods.validation import check_generation
from memplay.errors import LLMError
from memplay.llm.base import LLM, Message, SamplingParams
from memplay.types import Trajectory

__all__ = ["Reflector", "ReflexionReflection", "build_reflexion", "reflection_prompt",
           "templated_reflection"]


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
        return self.reflect_many([trajectory])[0]

    def reflect_many(self, trajectories: Sequence[Trajectory]) -> list[Reflection]:
        """Reflect on several episodes with one batched generation."""
        texts = self._generate(list(trajectories))
        out = []
        for trajectory, text in zip(trajectories, texts):
            source = "llm" if text else "template"
            if text:
                self.generated += 1
            else:
                self.fallbacks += 1
                text = templated_reflection(trajectory)
            out.append(Reflection(text, trajectory.goal, trajectory.env_id, source,
                                  trajectory.success, trajectory.seed))
        return out

    def _generate(self, trajectories: list[Trajectory]) -> list[str]:
        """The usable reflection the LLM wrote for each episode ('' when there is none)."""
        if self.llm is None or not trajectories:
            return [""] * len(trajectories)
        prompts = [reflection_prompt(t) for t in trajectories]
        try:
            answers = self.llm.generate(prompts, self.sampling)
        except LLMError:
            return [""] * len(trajectories)
        return [self._usable(a, p, t) for a, p, t in zip(answers, prompts, trajectories)]

    def _usable(self, raw: str, prompt: list[Message], trajectory: Trajectory) -> str:
        # Advice that names none of the episode's actions is generic filler ("try harder").
        verdict = check_generation(
            raw, old="", prompt=flatten_prompt(prompt), min_chars=20, anchors=trajectory.actions
        )
        return clip(verdict.text, self.max_chars) if verdict.ok else ""


class ReflexionReflection:
    """The ``reflexion`` reflection: one reflection per failed episode, shown on the next
    tries of the same task (the newest ``shown`` of them).

    >>> from memplay.llm.fake import ScriptedLLM
    >>> from memplay.types import Step
    >>> lost = Trajectory(env_id="x", goal="reach G", seed=3,
    ...                   steps=[Step(observation="at S", action="right")])
    >>> reflexion = ReflexionReflection(ReflectionStore(), Reflector(ScriptedLLM()), "x")
    >>> reflexion.learn([lost])
    >>> "'right'" in reflexion.prompt_text("reach G", "", seed=3), reflexion.prompt_text("", "", 4)
    (True, '')
    """

    tag = "reflection"

    def __init__(self, store: ReflectionStore, reflector: Reflector, env_id: str,
                 shown: int = 3) -> None:
        self.store, self.reflector, self.env_id, self.shown = store, reflector, env_id, shown

    def learn(self, trajectories: Sequence[Trajectory], step_memory: object = None) -> None:
        """Reflect on every failed episode of the batch."""
        failed = [t for t in trajectories if not t.success and t.steps]
        for reflection in self.reflector.reflect_many(failed):
            self.store.add(reflection)

    def prompt_text(self, goal: str, observation: str, seed: int | None = None) -> str:
        """The task's newest reflections, one per line (oldest first)."""
        found = self.store.for_task(self.env_id, seed, self.shown)
        return "\n".join(f"- {r.text}" for r in found)


def build_reflexion(setup: ReflectionSetup) -> ReflexionReflection:
    """The ``reflexion`` reflection of the registry (``<memory>/reflexion/reflections.jsonl``).

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> build_reflexion(ReflectionSetup(None, AgentConfig(), ScriptedLLM())).shown
    3
    """
    cfg = setup.config.reflection
    sampling = SamplingParams(max_new_tokens=cfg.playbook_tokens)
    return ReflexionReflection(ReflectionStore(setup.folder("reflexion")),
                               Reflector(setup.llm, sampling), setup.config.env_id,
                               cfg.reflections_shown)
