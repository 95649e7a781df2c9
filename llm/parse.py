"""Turn free model output into an action: exact, case-insensitive, contained, then fuzzy match.

:func:`generate_actions` holds the conversation around it for models that give no
log-probabilities (the policy's "generate" mode): ask, take one ReAct ``think:`` turn if
allowed, parse, remind once when the answer named no admissible action.

Small models wrap actions in chatter ("I think I will go north."), change case, or misspell;
each rule below is tried in order and the first that matches wins. ``how`` says which rule
matched, so callers can count fuzzy matches.

    >>> parse_action("Action: Go North.", ["go north", "go south"])
    ParsedAction(action='go north', how='casefold', ratio=1.0)
    >>> parse_action("I will go south now", ["go north", "go south"]).action
    'go south'
    >>> parse_action("go nrth", ["go north", "go south"]).how
    'fuzzy'
    >>> parse_action("???", ["go north"]).action is None
    True
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from memplay.errors import ConfigError
from memplay.llm.base import LLM, Prompt, SamplingParams

__all__ = ["THINK_HINT", "ParsedAction", "first_line", "generate_actions", "parse_action"]

# Labels small models put before the answer; they are not part of the action.
_LABEL = re.compile(r"^\s*(?:>|action\s*:|answer\s*:|move\s*:|next action\s*:)\s*", re.IGNORECASE)
_EDGE = " \t\"'`*.,;:!?()[]{}"


@dataclass(frozen=True)
class ParsedAction:
    """Result of :func:`parse_action`.

    Attributes:
        action: The matched admissible action, or None when nothing matched.
        how: "exact", "casefold", "contains", "fuzzy" or "none".
        ratio: Similarity of the match (1.0 for exact/casefold/contains).
    """

    action: str | None
    how: str
    ratio: float


def first_line(text: str) -> str:
    """First non-empty line of ``text`` without labels, quotes or trailing punctuation.

    >>> first_line('\\n  Action: "open door 1".\\nObservation: ...')
    'open door 1'
    """
    for line in text.splitlines():
        cleaned = _LABEL.sub("", line).strip(_EDGE)
        if cleaned:
            return cleaned
    return ""


def parse_action(text: str, admissible: Sequence[str], cutoff: float = 0.6) -> ParsedAction:
    """Match model output ``text`` to the nearest of ``admissible`` (see module doc for order).

    ``cutoff`` is the lowest difflib ratio accepted by the fuzzy rule.
    """
    if not 0 < cutoff <= 1:
        raise ConfigError(f"cutoff={cutoff} must be in (0, 1]; 0.6 is a good default")
    line = first_line(text)
    if not line or not admissible:
        return ParsedAction(None, "none", 0.0)
    if line in admissible:
        return ParsedAction(line, "exact", 1.0)
    folded = {a.casefold(): a for a in admissible}
    if line.casefold() in folded:
        return ParsedAction(folded[line.casefold()], "casefold", 1.0)
    contained = _contained(line.casefold(), folded)
    if contained is not None:
        return ParsedAction(contained, "contains", 1.0)
    close = difflib.get_close_matches(line.casefold(), list(folded), n=1, cutoff=cutoff)
    if close:
        ratio = difflib.SequenceMatcher(None, line.casefold(), close[0]).ratio()
        return ParsedAction(folded[close[0]], "fuzzy", ratio)
    return ParsedAction(None, "none", 0.0)


def _contained(line: str, folded: dict[str, str]) -> str | None:
    """The longest admissible action found as whole words inside ``line``, earliest first."""
    best: tuple[int, int, str] | None = None
    for key, action in folded.items():
        match = re.search(rf"(?<!\w){re.escape(key)}(?!\w)", line)
        if match is None:
            continue
        rank = (-len(key), match.start(), action)
        if best is None or rank < best:
            best = rank
    return None if best is None else best[2]


THINK_PREFIX = "think:"
THINK_HINT = ("You may first reply with 'think: <your reasoning>' on one line; you will then "
              "be asked for the action.")


def generate_actions(llm: LLM, prompts: Sequence[Prompt], admissible: Sequence[Sequence[str]],
                     *, max_new_tokens: int, think: bool = False
                     ) -> list[tuple[str | None, str | None]]:
    """Each prompt's generated pick among its admissible actions (None when even the reminder
    named none) and its ``think:`` thought (None without one), in batched calls.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> generate_actions(ScriptedLLM(responses=["I go Left."]), ["?"], [["left", "right"]],
    ...                  max_new_tokens=8)
    [('left', None)]
    """
    options = [list(a) for a in admissible]
    sampling = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0, stop=("\n",))
    asked = [_with_think_hint(p) for p in prompts] if think else list(prompts)
    answers = llm.generate(asked, sampling)
    thoughts: list[str | None] = [None] * len(asked)
    if think:
        thinking = [i for i, a in enumerate(answers) if _thought(a) is not None]
        for i in thinking:
            thoughts[i] = _thought(answers[i])
            asked[i] = _after_thought(asked[i], answers[i])
        for i, text in zip(thinking, llm.generate([asked[i] for i in thinking], sampling)):
            answers[i] = text
    picks = [parse_action(a, acts).action for a, acts in zip(answers, options)]
    retry = [i for i, p in enumerate(picks) if p is None]
    for i, text in zip(retry, llm.generate([_reminder(asked[i], answers[i], options[i])
                                            for i in retry], sampling) if retry else []):
        picks[i] = parse_action(text, options[i]).action
    return list(zip(picks, thoughts))


def _thought(answer: str) -> str | None:
    """The reasoning of a ``think: ...`` answer, or None when the answer is an action."""
    line = answer.strip().splitlines()[0] if answer.strip() else ""
    if line.lower().lstrip("> ").startswith(THINK_PREFIX):
        return line.lstrip("> ")[len(THINK_PREFIX):].strip()
    return None


def _with_think_hint(prompt: Prompt) -> Prompt:
    if isinstance(prompt, str):
        return f"{prompt}\n{THINK_HINT}\n"
    head, last = list(prompt[:-1]), dict(prompt[-1])
    last["content"] = f"{last['content']}\n{THINK_HINT}"
    return [*head, last]


def _after_thought(prompt: Prompt, answer: str) -> Prompt:
    """The conversation after a thought: ALFWorld answers a think turn with 'OK.'."""
    if isinstance(prompt, str):
        return f"{prompt}{answer.strip()}\nOK.\nYour action:"
    return [*prompt, {"role": "assistant", "content": answer.strip()},
            {"role": "user", "content": "OK. Your action:"}]


def _reminder(prompt: Prompt, answer: str, admissible: list[str]) -> Prompt:
    """The prompt again, with a note that the last answer named no allowed action."""
    lines = answer.strip().splitlines()
    shown = lines[0][:80] if lines else "(empty)"
    note = (f"Your answer {shown!r} is not a valid action. Reply with exactly one of: "
            + ", ".join(admissible))
    if isinstance(prompt, str):
        return f"{prompt}\n{note}\n"
    return [*prompt, {"role": "assistant", "content": answer}, {"role": "user", "content": note}]
