"""Shared record types: one step, one trajectory, one episode result.

They are pydantic models so they validate on the way in and serialise to plain JSON on the
way out (run directories store them as JSONL)::

    >>> from memplay.types import Step, Trajectory
    >>> t = Trajectory(env_id="FrozenLake-4x4-v0", goal="reach G")
    >>> t.steps.append(Step(observation="S...", action="right", reward=0.0))
    >>> t.actions
    ['right']
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DecisionStats", "EpisodeResult", "Step", "Trajectory"]


class Step(BaseModel):
    """One decision: what the agent saw, what it did, and what came back."""

    model_config = ConfigDict(extra="forbid")

    observation: str = Field(description="Observation the action was chosen from.")
    action: str = Field(description="Action text sent to the environment.")
    reward: float = Field(default=0.0, description="Reward returned by env.step.")
    admissible_actions: list[str] = Field(default_factory=list, description="Choices offered.")
    thought: str | None = Field(default=None, description="Optional reasoning text.")
    info: dict[str, Any] = Field(default_factory=dict, description="Free per-step extras.")

    def to_message(self) -> list[dict[str, str]]:
        """Render as chat messages: the observation from the user, the action from the agent.

        >>> Step(observation="You see a door.", action="open door").to_message()[1]
        {'role': 'assistant', 'content': 'open door'}
        """
        return [
            {"role": "user", "content": self.observation},
            {"role": "assistant", "content": self.action},
        ]


class Trajectory(BaseModel):
    """A whole episode as a list of steps, with its goal and outcome."""

    model_config = ConfigDict(extra="forbid")

    env_id: str
    goal: str = ""
    seed: int | None = None
    steps: list[Step] = Field(default_factory=list)
    success: bool = False
    total_reward: float = 0.0
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description='Free extras, e.g. {"provenance": "demo", "source": "walkthrough"}.')

    @property
    def actions(self) -> list[str]:
        """The actions taken, in order."""
        return [s.action for s in self.steps]

    def to_messages(self, system: str | None = None) -> list[dict[str, str]]:
        """Render as a chat transcript (system, goal, then user/assistant turns).

        >>> Trajectory(env_id="x", goal="win").to_messages()[0]["content"]
        'Goal: win'
        """
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": f"Goal: {self.goal}"})
        for step in self.steps:
            messages.extend(step.to_message())
        return messages


class DecisionStats(BaseModel):
    """How an episode's decisions were made: how many asked the model, and how many of the
    candidate actions it scored (see :func:`memplay.agents.policy.judge`).

    >>> a = DecisionStats(decisions=1, model_calls=1, candidates=4, scored=4)
    >>> total = a + DecisionStats(decisions=1, candidates=4, pruned_by_value=3)
    >>> total.decisions, total.model_calls, total.scored
    (2, 1, 4)
    """

    model_config = ConfigDict(extra="forbid")

    decisions: int = Field(default=0, ge=0, description="Actions chosen by the policy.")
    model_calls: int = Field(
        default=0, ge=0, description="Decisions that asked the LLM (the rest were settled by "
        "memory's values: the gate).")
    candidates: int = Field(default=0, ge=0, description="Admissible actions over all decisions.")
    scored: int = Field(default=0, ge=0, description="Candidates sent to the LLM.")
    pruned_by_view: int = Field(
        default=0, ge=0, description="Candidates not sent because the view marked them as not "
        "needed.")
    pruned_by_value: int = Field(
        default=0, ge=0, description="Candidates not sent because memory's values make them "
        "unable to win.")
    reused: int = Field(
        default=0, ge=0, description="Candidates not sent because the episode's model gave "
        "their score within the last policy.reuse_scores decisions (the kept score is used).")
    audited: int = Field(
        default=0, ge=0, description="gate='audit': decisions the gate would have settled "
        "without the LLM.")
    audit_agreed: int = Field(
        default=0, ge=0, description="gate='audit': of those, the ones where the gate's choice "
        "was the action taken.")

    def __add__(self, other: DecisionStats) -> DecisionStats:
        return DecisionStats(**{name: getattr(self, name) + getattr(other, name)
                                for name in DecisionStats.model_fields})


class EpisodeResult(BaseModel):
    """The per-episode record a runner writes to ``episodes.jsonl``."""

    model_config = ConfigDict(extra="forbid")

    episode: int = Field(ge=0, description="Index of the episode in the run.")
    epoch: int = Field(default=0, ge=0, description="Pass over the task set this belongs to.")
    task: str = Field(default="", description="Task identifier (seed, game file, level).")
    env_id: str
    seed: int | None = None
    success: bool
    reward: float
    steps: int = Field(ge=0)
    invalid_actions: int = Field(default=0, ge=0)
    memories_used: list[str] = Field(default_factory=list)
    llm_faults: int = Field(default=0, ge=0)
    errored: bool = Field(default=False, description="True when the env or LLM crashed.")
    error: str | None = None
    seconds: float = Field(default=0.0, ge=0.0)
    llm_seconds: float = Field(
        default=0.0, ge=0.0, description="This episode's share of batched action-choice calls.")
    env_seconds: float = Field(default=0.0, ge=0.0, description="Time spent in env.step.")
    memory_sims: list[float] = Field(
        default_factory=list, description="Similarity of each memory in memories_used.")
    decision_stats: DecisionStats = Field(
        default_factory=DecisionStats, description="How the decisions were made: model calls, "
        "candidates scored and pruned (older rows have zeros).")
    hindsight: int = Field(
        default=0, ge=0, description="Goals the episode achieved besides its own that memory "
        "learned as successes (hindsight relabelling).")
