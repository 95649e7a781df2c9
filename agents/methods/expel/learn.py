"""ExpeL: the LLM keeps a short list of insights, voted up and down, shown to every task.

After every ``rewrite_every`` finished episodes the LLM reads the batch's most informative
episodes (a failure next to a success) and the numbered insight list, and answers with
operations (``ADD: ...``, ``EDIT n: ...``, ``AGREE n``, ``REMOVE n``); :func:`parse_operations`
turns the answer into operations and the
:class:`~memplay.agents.methods.expel.store.InsightBook` applies them. An answer with no
valid operation changes nothing and is counted, so the acceptance rate of the model's
answers is on record (``<memory>/insights/<family>.json``). Together with similar past
episodes retrieved from task memory (the ``expel`` variant retrieves by similarity), that
is ExpeL's recipe.

    >>> ops, bad = parse_operations("1. ADD: Go down first.\\nEDIT 2: Avoid H.\\nhello")
    >>> [(o.op, o.target) for o in ops], bad
    ([('ADD', None), ('EDIT', 2)], 1)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from memplay.agents.methods.expel.store import Insight, InsightBook, Operation, OpName
from memplay.agents.methods.registry import ReflectionSetup
from memplay.agents.methods.transcript import env_family, informative, render_trajectory
from memplay.agents.methods.validation import clean_generation
from memplay.errors import ConfigError, LLMError
from memplay.llm.base import LLM, Message, SamplingParams
from memplay.types import Trajectory

__all__ = ["ExpelReflection", "build_expel", "insight_prompt", "parse_operations"]

# Optional bullet or list number, the operation word, an optional insight number, the text.
_OP_LINE = re.compile(
    r"^[\s\-*]*(?:\d+[.)]\s*)?(ADD|EDIT|AGREE|UPVOTE|REMOVE|DOWNVOTE)\b"
    r"\s*(?:#|insight\s*)?(\d+)?\s*[:.)\-]?\s*(.*)$",
    re.IGNORECASE,
)
_CANONICAL: dict[str, OpName] = {
    "ADD": "ADD", "EDIT": "EDIT", "AGREE": "AGREE", "UPVOTE": "AGREE", "REMOVE": "REMOVE",
    "DOWNVOTE": "REMOVE",
}
def parse_operations(text: str) -> tuple[list[Operation], int]:
    """Parse operation lines; return the operations and how many non-empty lines were invalid.

    >>> ops, bad = parse_operations("1. ADD: Go down first.\\nEDIT 2: Avoid H.\\nhello")
    >>> [(o.op, o.target) for o in ops], bad
    ([('ADD', None), ('EDIT', 2)], 1)
    """
    ops: list[Operation] = []
    invalid = 0
    for line in clean_generation(text).splitlines():
        op = _parse_line(line.strip())
        if op is not None:
            ops.append(op)
        elif line.strip():
            invalid += 1
    return ops, invalid


def _parse_line(line: str) -> Operation | None:
    match = _OP_LINE.match(line)
    if match is None:
        return None
    op = _CANONICAL[match.group(1).upper()]
    target = int(match.group(2)) if match.group(2) else None
    body = match.group(3).strip()
    if op != "ADD" and target is None:
        return None
    if op in ("ADD", "EDIT") and len(body) < 8:  # "ADD: ok" teaches nothing
        return None
    return Operation(op=op, target=target, text=body if op in ("ADD", "EDIT") else "")


def insight_prompt(
    insights: Sequence[Insight], trajectories: Sequence[Trajectory], family: str = "the game"
) -> list[Message]:
    """Chat messages asking the LLM for operations on the numbered insight list.

    >>> insight_prompt([], [], "FrozenLake")[1]["content"].splitlines()[1]
    '(none yet)'
    """
    listing = "\n".join(f"{i}. {x.text}" for i, x in enumerate(insights, start=1))
    episodes = "\n\n".join(render_trajectory(t, max_steps=8) for t in trajectories)
    system = f"You keep a short numbered list of general insights for playing {family}."
    user = (
        f"Insights so far:\n{listing or '(none yet)'}\n\nEpisodes:\n{episodes or '(none)'}\n\n"
        "Compare the successes with the failures. Reply with operations, one per line:\n"
        "ADD: <new insight>\nEDIT <n>: <better wording>\nAGREE <n>\nREMOVE <n>"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


class ExpelReflection:
    """The ``expel`` reflection: insights for the run's game family (see the module doc).

    ``answers`` counts the LLM's answers and ``accepted`` those with at least one applied
    operation (both also saved in the book's file as ``stats``).

    >>> from memplay.llm.fake import ScriptedLLM
    >>> from memplay.types import Step
    >>> llm = ScriptedLLM(responses=["ADD: Step around the holes, never into them."])
    >>> expel = ExpelReflection(InsightBook(), llm, "FrozenLake-4x4-v0")
    >>> expel.learn([Trajectory(env_id="x", steps=[Step(observation="o", action="down")])])
    >>> expel.prompt_text("reach G", "").splitlines()[1], (expel.accepted, expel.answers)
    ('- Step around the holes, never into them.', (1, 1))
    """

    tag = "insights"

    def __init__(self, book: InsightBook, llm: LLM, env_id: str, rewrite_every: int = 1,
                 shown: int = 8, sampling: SamplingParams | None = None) -> None:
        if rewrite_every < 1:
            raise ConfigError(f"rewrite_every={rewrite_every} must be >= 1; try 4")
        self.book, self.llm, self.family = book, llm, env_family(env_id)
        self.rewrite_every, self.shown = rewrite_every, shown
        self.sampling = sampling or SamplingParams(max_new_tokens=160)
        self.pending = 0
        self.answers = int(book.stats.get("answers", 0))
        self.accepted = int(book.stats.get("accepted", 0))

    def learn(self, trajectories: Sequence[Trajectory], step_memory: object = None) -> None:
        """Ask for operations once ``rewrite_every`` episodes finished; apply the valid ones."""
        self.pending += len(trajectories)
        if not trajectories or self.pending < self.rewrite_every:
            return
        self.pending = 0
        prompt = insight_prompt(self.book.insights, informative(list(trajectories)), self.family)
        try:
            answer = self.llm.generate([prompt], self.sampling)[0]
        except LLMError:
            answer = ""  # counted as an answer with nothing applied
        ops, invalid = parse_operations(answer)
        applied = self.book.apply_all(ops, invalid)["applied"]
        self.answers += 1
        self.accepted += int(applied > 0)
        self.book.stats.update(answers=self.answers, accepted=self.accepted)
        self.book.save()

    def prompt_text(self, goal: str, observation: str, seed: int | None = None) -> str:
        """The best-voted insights (the same for every task)."""
        return self.book.render_for_prompt(self.shown)


def build_expel(setup: ReflectionSetup) -> ExpelReflection:
    """The ``expel`` reflection of the registry (``<memory>/insights/<family>.json``).

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> build_expel(ReflectionSetup(None, AgentConfig(), ScriptedLLM())).family
    'FrozenLake'
    """
    cfg = setup.config
    folder = setup.folder("insights")
    family = env_family(cfg.env_id)
    book = InsightBook(None if folder is None else folder / f"{family}.json")
    return ExpelReflection(book, setup.llm, cfg.env_id, cfg.reflection.rewrite_every,
                           cfg.reflection.insights_shown,
                           SamplingParams(max_new_tokens=cfg.reflection.playbook_tokens * 2))
