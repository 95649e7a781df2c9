"""CEL playbooks written by the LLM: rewrite the rules and the strategy from episodes.

:class:`PlaybookWriter` asks the LLM to rewrite a family's two documents (kept by
:class:`~memplay.agents.methods.playbook.store.PlaybookStore`) from episode transcripts. A
rewrite that is empty, echoes the prompt, loops, changes nothing or cannot be trimmed to the
size budget is rejected: the old version stays and the reason is counted.
:class:`PlaybookReflection` is the ``playbook`` reflection of the variant registry: every
finished episode is credited to the active documents (which may roll a worse version back),
but the LLM rewrites them at most once per batch and only after ``rewrite_every`` episodes,
because a rewrite is two generations, the slowest thing a small model on a CPU does. The
rewrite reads the batch's most informative episodes: a failure next to a success.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> from memplay.agents.methods.playbook.store import PlaybookStore
    >>> from memplay.types import Trajectory
    >>> llm = ScriptedLLM(responses=["- Holes end the game.", "- Walk around the holes."])
    >>> writer = PlaybookWriter(PlaybookStore())
    >>> [o.accepted for o in writer.rewrite(Trajectory(env_id="FrozenLake-4x4-v0"), llm)]
    [True, True]
    >>> writer.store.document("FrozenLake", "rules").text
    '- Holes end the game.'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from memplay.agents.methods.budget import SizeBudget
from memplay.agents.methods.playbook.store import DOCUMENT_NAMES, PlaybookStore
from memplay.agents.methods.registry import ReflectionSetup
from memplay.agents.methods.transcript import (
    env_family,
    flatten_prompt,
    informative,
    outcome_word,
    render_trajectory,
)
from memplay.agents.methods.validation import check_generation
from memplay.errors import ConfigError, LLMError
from memplay.llm.base import LLM, Message, SamplingParams
from memplay.types import Trajectory

__all__ = ["PlaybookConfig", "PlaybookReflection", "PlaybookWriter", "RewriteOutcome",
           "build_playbook", "rewrite_prompt"]

_PURPOSE = {
    "rules": "the rules of the game: what each action does, what ends the game, what gives reward",
    "playbook": "a strategy playbook: short, concrete advice on how to win",
}


@dataclass(frozen=True)
class PlaybookConfig:
    """Settings of a :class:`PlaybookWriter`.

    Attributes:
        budget: Size budget and trimming policy of each document.
        rewrite_after: Episodes the active version must have played before it may be
            rewritten (1 = after every episode, as in CEL; larger values let success rates
            settle before the next change).
        sampling: Decoding settings for the rewrite.
        max_steps: Trajectory steps shown in the rewrite prompt.

    >>> PlaybookConfig(rewrite_after=3).rewrite_after
    3
    """

    budget: SizeBudget = field(default_factory=SizeBudget)
    rewrite_after: int = 1
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=200))
    max_steps: int = 12

    def __post_init__(self) -> None:
        if self.rewrite_after < 0:
            raise ConfigError(f"rewrite_after={self.rewrite_after} must be >= 0; try 1")
        if self.max_steps < 1:
            raise ConfigError(f"max_steps={self.max_steps} must be >= 1; try 12")


@dataclass(frozen=True)
class RewriteOutcome:
    """What happened to one document in one rewrite.

    Attributes:
        family: Environment family.
        name: ``"rules"`` or ``"playbook"``.
        accepted: True when a new version was stored.
        reason: ``"ok"``, ``"waiting"`` (active version not evaluated enough yet) or a
            rejection reason from :data:`~memplay.agents.methods.validation.REJECTION_REASONS`.
        version: The active version after the rewrite.

    >>> RewriteOutcome("FrozenLake", "rules", False, "empty", 0).accepted
    False
    """

    family: str
    name: str
    accepted: bool
    reason: str
    version: int


def rewrite_prompt(family: str, name: str, old: str, transcript: str, budget: int) -> list[Message]:
    """Chat messages asking the LLM to rewrite document ``name`` from an episode transcript.

    >>> rewrite_prompt("FrozenLake", "rules", "", "Goal: g", 500)[0]["role"]
    'system'
    """
    system = (
        f"You write {_PURPOSE[name]} for the game {family}. Answer with the new {name} only: "
        f"short lines starting with '- ', most important first, at most {budget} characters."
    )
    user = (
        f"Current {name}:\n{old or '(empty)'}\n\nLatest episode:\n{transcript}\n\n"
        f"Write the improved {name}."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _action_words(trajectory: Trajectory) -> list[str]:
    """Actions taken or offered in the episode: what a useful strategy talks about."""
    offered = {a for step in trajectory.steps for a in step.admissible_actions}
    return sorted(offered | set(trajectory.actions))


class PlaybookWriter:
    """Rewrites a :class:`PlaybookStore`'s documents with an LLM (see the module docstring).

    >>> PlaybookWriter(PlaybookStore()).config.rewrite_after
    1
    """

    def __init__(self, store: PlaybookStore, config: PlaybookConfig | None = None) -> None:
        self.store = store
        self.config = config or PlaybookConfig()

    def rewrite(
        self, trajectory: Trajectory | Sequence[Trajectory], llm: LLM, family: str | None = None
    ) -> list[RewriteOutcome]:
        """Ask ``llm`` to rewrite both documents of the family from ``trajectory``.

        ``trajectory`` may be several episodes (e.g. a failure and a success): their
        transcripts go into one prompt, sharing ``config.max_steps`` shown steps, so a
        contrast costs one rewrite instead of two.
        Both prompts go out in one batched ``generate`` call. A document whose active version
        has played fewer than ``config.rewrite_after`` episodes is left alone (``"waiting"``),
        unless it is empty.
        An LLM failure is counted as ``"llm_error"`` and keeps both old documents.
        """
        episodes = [trajectory] if isinstance(trajectory, Trajectory) else list(trajectory)
        if not episodes:
            raise ConfigError("rewrite needs at least one trajectory; got none")
        trajectory = episodes[0]
        family = family or env_family(trajectory.env_id)
        transcript = self._transcript(episodes)
        names = [n for n in DOCUMENT_NAMES if self._due(family, n)]
        prompts = [self._prompt(family, name, transcript) for name in names]
        try:
            texts = llm.generate(prompts, self.config.sampling) if prompts else []
        except LLMError:
            texts = []  # keep the old documents; counted below as llm_error
        outcomes = [self._waiting(family, n) for n in DOCUMENT_NAMES if n not in names]
        anchors = sorted({a for episode in episodes for a in _action_words(episode)})
        for index, (name, prompt) in enumerate(zip(names, prompts)):
            text = texts[index] if index < len(texts) else None
            # A strategy must say what to do, so it has to name an action; rules need not.
            need = anchors if name == "playbook" else []
            outcomes.append(self._apply(family, name, text, flatten_prompt(prompt), need))
        self.store.save(family)
        return sorted(outcomes, key=lambda o: DOCUMENT_NAMES.index(o.name))

    def _transcript(self, episodes: list[Trajectory]) -> str:
        if len(episodes) == 1:
            return render_trajectory(episodes[0], max_steps=self.config.max_steps)
        share = max(self.config.max_steps // len(episodes), 1)
        return "\n\n".join(
            f"Episode {i} ({outcome_word(e)}):\n{render_trajectory(e, max_steps=share)}"
            for i, e in enumerate(episodes, start=1)
        )

    def after_episode(
        self,
        trajectory: Trajectory,
        llm: LLM,
        family: str | None = None,
        episode_id: str | None = None,
    ) -> list[RewriteOutcome]:
        """:meth:`record_episode` with the trajectory's outcome, then :meth:`rewrite`."""
        family = family or env_family(trajectory.env_id)
        self.store.record_episode(family, trajectory.success, episode_id)
        return self.rewrite(trajectory, llm, family)

    def _due(self, family: str, name: str) -> bool:
        # An empty document has nothing to evaluate, so it may always be written.
        doc = self.store.document(family, name)
        return doc.episodes >= self.config.rewrite_after or not doc.text.strip()

    def _waiting(self, family: str, name: str) -> RewriteOutcome:
        version = self.store.document(family, name).version
        return RewriteOutcome(family, name, False, "waiting", version)

    def _prompt(self, family: str, name: str, transcript: str) -> list[Message]:
        old = self.store.document(family, name).text
        return rewrite_prompt(family, name, old, transcript, self.config.budget.max_units)

    def _apply(
        self, family: str, name: str, text: str | None, prompt: str, anchors: list[str]
    ) -> RewriteOutcome:
        history = self.store.history(family, name)
        if text is None:
            history.reject("llm_error")
            return RewriteOutcome(family, name, False, "llm_error", history.current.version)
        verdict = check_generation(
            text, old=history.current.text, prompt=prompt, budget=self.config.budget,
            anchors=anchors,
        )
        if not verdict.ok:
            history.reject(verdict.reason)
            return RewriteOutcome(family, name, False, verdict.reason, history.current.version)
        return RewriteOutcome(family, name, True, "ok", history.propose(verdict.text).version)


class PlaybookReflection:
    """The ``playbook`` reflection: CEL rules and strategy for the run's game family.

    Each :meth:`learn` credits every finished episode to the active documents (rolling a
    worse version back), then rewrites both once, from :func:`informative` episodes, when at
    least ``rewrite_every`` episodes finished since the last rewrite. A rejected rewrite
    (empty, echo, loop...) keeps the old documents; the store counts why.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> llm = ScriptedLLM(responses=["- Holes end the game.", "- Walk around the holes."])
    >>> book = PlaybookReflection(PlaybookWriter(PlaybookStore()), llm, "FrozenLake-4x4-v0")
    >>> book.learn([Trajectory(env_id="FrozenLake-4x4-v0")])
    >>> "Walk around the holes" in book.prompt_text("reach G", "")
    True
    """

    tag = "playbook"

    def __init__(self, writer: PlaybookWriter, llm: LLM, env_id: str,
                 rewrite_every: int = 1) -> None:
        if rewrite_every < 1:
            raise ConfigError(f"rewrite_every={rewrite_every} must be >= 1; try 4")
        self.writer, self.llm, self.rewrite_every = writer, llm, rewrite_every
        self.family = env_family(env_id)
        self.pending = 0  # finished episodes since the last rewrite (this run)

    def learn(self, trajectories: Sequence[Trajectory], step_memory: object = None) -> None:
        """Credit the episodes, then rewrite once enough of them finished."""
        if not trajectories:
            return
        for trajectory in trajectories:
            self.writer.store.record_episode(self.family, trajectory.success)  # saves
        self.pending += len(trajectories)
        if self.pending >= self.rewrite_every:
            self.pending = 0
            self.writer.rewrite(informative(list(trajectories)), self.llm, self.family)

    def prompt_text(self, goal: str, observation: str, seed: int | None = None) -> str:
        """The active documents, the same for every task of the family."""
        return self.writer.store.render_for_prompt(self.family)


def build_playbook(setup: ReflectionSetup) -> PlaybookReflection:
    """The ``playbook`` reflection of the registry (documents in ``<memory>/playbooks``).

    Rewrites use at most ``reflection.playbook_tokens`` tokens and show 6 steps: board dumps
    cost about a token per character, and reading the prompt (~500 tokens instead of ~870
    with 12 steps) dominates a rewrite on a CPU.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> build_playbook(ReflectionSetup(None, AgentConfig(), ScriptedLLM())).family
    'FrozenLake'
    """
    cfg = setup.config
    settings = PlaybookConfig(
        sampling=SamplingParams(max_new_tokens=cfg.reflection.playbook_tokens), max_steps=6)
    writer = PlaybookWriter(PlaybookStore(setup.folder("playbooks")), settings)
    return PlaybookReflection(writer, setup.llm, cfg.env_id, cfg.reflection.rewrite_every)
