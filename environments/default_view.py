"""The default portable view: what any text game gets before someone writes a view for it.

Derived from the text alone (goal, state text, admissible actions, the last action), with
nothing game-specific, so memory learned in one game can be found in another of the same
family:

- **Objects** are the phrases admissible actions name, with object ids and numbers dropped
  (``take apple 1 from countertop 2`` names ``apple`` and ``countertop``).
- **Goal roles**: an object the goal mentions is ``goal-1``, ``goal-2``... in the order the
  episode first meets them (several at once: in the order the goal names them); an object
  carried is ``held``; any other is ``other``.
- **Kind** of an action: its words with each object replaced by its role (``take goal-2 from
  goal-3``, ``go other``), so the same step of the same kind of goal reads alike in every game.
- **Context**: what is carried, which goal objects the state text mentions now, and the last
  action with what it changed (``nothing changed``; the goal objects that appeared or went;
  or ``changed``).
- **State**: the goal's template (the goal with its objects replaced by their roles) and the
  context.

What is carried is read from an inventory sentence of the state text ("You are carrying: ..."),
else followed through the actions (``take``/``get``/``pick`` add their object, ``put``/``drop``/
``insert``... remove it). It is a passable view, not a good one: it cannot say which of several
``other`` places to search, nor what a hand-written view knows about the game's rules
(docs/write-a-view.md).

    >>> tracker = DefaultViewTracker("Take the apple from the table.")
    >>> view = tracker.view("You see a table. On it: an apple.", ["take apple from table", "look"])
    >>> view["actions"]["take apple from table"]["kind"]
    'take goal-1 from goal-2'
    >>> view["actions"]["take apple from table"]["context"]
    'carrying nothing; here goal-1 goal-2; start'
    >>> after = "You see a table. You are carrying: an apple."
    >>> tracker.update("take apple from table", after)
    >>> for part in tracker.view(after, ["look"])["state"].split("; "):
    ...     print(part)
    goal: take the goal-1 from the goal-2.
    carrying goal-1
    here goal-1 goal-2
    last take goal-1 from goal-2 (changed)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from memplay.environments.canonical import canonical_action
from memplay.environments.core import StepResult, TextEnv
from memplay.environments.view import build_view
from memplay.environments.wrappers import Wrapper
from memplay.errors import ConfigError
from memplay.types import Trajectory

__all__ = ["PREPOSITIONS", "VIEW_SOURCES", "DefaultView", "DefaultViewTracker",
           "canonical_text", "default_views", "with_default_views"]

# words that join an action's objects ("take X from Y", "put X in/on Y"); "of" is not one,
# since it sits inside names ("stick of butter")
PREPOSITIONS = frozenset({"from", "to", "on", "in", "into", "onto", "in/on", "with", "at",
                          "under", "inside", "using", "for", "over", "through", "up", "off",
                          "out", "down"})
_TAKE = frozenset({"take", "get", "pick", "grab", "collect"})
_RELEASE = frozenset({"put", "drop", "place", "insert", "give", "throw", "eat", "drink",
                      "discard", "hang"})
_INVENTORY = re.compile(r"\b(carrying|holding|inventory)\b")
VIEW_SOURCES = ("own", "default")


def canonical_text(text: str) -> str:
    """Lower-case text with object ids dropped and every other number written ``#``.

    >>> canonical_text("On the Desk 2 you see a pen. 3 moves left.")
    'on the desk you see a pen. # moves left.'
    """
    text = re.sub(r"\b([a-z]+) \d+\b", r"\1", " ".join(text.lower().split()))
    return re.sub(r"\d+", "#", text)


def _split(action: str) -> tuple[list[str], list[str]]:
    """(words with each object as ``{}``, the objects) of a canonical action."""
    tokens = canonical_action(action).split()
    words, objects = tokens[:1], []
    phrase: list[str] = []
    for token in tokens[1:]:
        if token in PREPOSITIONS:
            if phrase:
                words.append("{}")
                objects.append(" ".join(phrase))
                phrase = []
            words.append(token)
        else:
            phrase.append(token)
    if phrase:
        words.append("{}")
        objects.append(" ".join(phrase))
    return words, objects


def _mentions(text: str, phrase: str) -> int:
    """Where ``phrase`` first occurs in ``text`` as whole words, or -1."""
    found = re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text)
    return found.start() if found else -1


class DefaultViewTracker:
    """Follows one episode's text and gives its default view (see the module docstring).

    ``view(state, admissible)`` describes the current state; ``update(action, state)``
    records a valid action and the state text after it.
    """

    def __init__(self, goal: str) -> None:
        self.goal = canonical_text(goal)
        self.roles: dict[str, str] = {}  # object -> goal-k, sticky for the episode
        self.carried: set[str] = set()
        self.known: set[str] = set()  # objects named by admissible actions so far
        self.state = ""
        self.previous: str | None = None  # the state text before the last action
        self.last_kind = ""

    def _learn(self, admissible: Sequence[str]) -> None:
        for action in admissible:
            self.known.update(_split(action)[1])
        fresh = [p for p in self.known if p not in self.roles and _mentions(self.goal, p) >= 0]
        for phrase in sorted(fresh, key=lambda p: (_mentions(self.goal, p), p)):
            self.roles[phrase] = f"goal-{len(self.roles) + 1}"

    def role(self, phrase: str) -> str:
        """``goal-k``, ``held`` or ``other``."""
        return self.roles.get(phrase) or ("held" if phrase in self.carried else "other")

    def kind(self, action: str) -> str:
        """The action's words with its objects replaced by their roles.

        >>> DefaultViewTracker("go east").kind("go west")
        'go other'
        """
        words, objects = _split(action)
        roles = iter(self.role(p) for p in objects)
        return " ".join(next(roles) if w == "{}" else w for w in words)

    def _present(self, state: str) -> list[str]:
        return sorted(r for p, r in self.roles.items() if _mentions(state, p) >= 0)

    def context(self) -> str:
        """Carried objects, goal objects the state mentions, the last action and its change."""
        held = sorted({self.role(p) for p in self.carried}) or ["nothing"]
        here = self._present(self.state) or ["none"]
        return f"carrying {' '.join(held)}; here {' '.join(here)}; {self._last()}"

    def _last(self) -> str:
        """The last action's kind and what it changed, read with the roles known now (so goal
        objects met only in the new state count as appeared)."""
        if self.previous is None:
            return "start"
        before, after = set(self._present(self.previous)), set(self._present(self.state))
        if self.previous == self.state:
            change = "nothing changed"
        elif before != after:
            change = " ".join([f"+{r}" for r in sorted(after - before)]
                              + [f"-{r}" for r in sorted(before - after)])
        else:
            change = "changed"
        return f"last {self.last_kind} ({change})"

    def view(self, state: str, admissible: Sequence[str]) -> dict[str, Any]:
        """``info["view"]`` for this state text and these admissible actions."""
        self.state = canonical_text(state)
        self._learn(admissible)
        self._read_inventory()
        context = self.context()
        template = self.goal
        for phrase, role in sorted(self.roles.items(), key=lambda kv: -len(kv[0])):
            template = re.sub(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", role, template)
        return build_view(f"goal: {template}; {context}",
                          {a: (self.kind(a), context) for a in admissible})

    def _read_inventory(self) -> None:
        found = _INVENTORY.search(self.state)
        if found is None:
            return
        tail = self.state[found.end():]
        self.carried = {p for p in self.known if _mentions(tail, p) >= 0}

    def update(self, action: str, state: str) -> None:
        """Record a valid action and the state text it led to."""
        self.last_kind = self.kind(action)
        verb, objects = canonical_action(action).split(" ")[0], _split(action)[1]
        if objects and verb in _TAKE:
            self.carried.add(objects[0])
        elif objects and verb in _RELEASE:
            self.carried.discard(objects[0])
        self.previous, self.state = self.state, canonical_text(state)


def default_views(goal: str, states: Sequence[str], actions: Sequence[str],
                  admissible: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """The default view of every step of a recorded episode: ``states[i]`` is the state text
    ``actions[i]`` was chosen in, among ``admissible[i]``.

    >>> views = default_views("eat the apple", ["an apple", "you hold an apple"],
    ...                       ["take apple", "eat apple"], [["take apple"], ["eat apple"]])
    >>> views[1]["actions"]["eat apple"]["kind"]
    'eat goal-1'
    """
    tracker, views = DefaultViewTracker(goal), []
    for number, (state, offered) in enumerate(zip(states, admissible)):
        if number:
            tracker.update(actions[number - 1], state)
        views.append(tracker.view(state, offered))
    return views


def with_default_views(trajectory: Trajectory) -> Trajectory:
    """A recorded episode with every step's view replaced by the default view, recomputed
    from the goal, the observations (used as the state text, as ALFWorld gives it), the
    actions and the admissible actions (so demos recorded with a game's own view can teach
    an agent that uses the default one).

    >>> from memplay.types import Step
    >>> t = Trajectory(env_id="x", goal="eat the apple", steps=[Step(
    ...     observation="an apple", action="eat apple", admissible_actions=["eat apple"],
    ...     info={"view": {}, "state": "hand-made"})])
    >>> with_default_views(t).steps[0].info["view"]["actions"]["eat apple"]["kind"]
    'eat goal-1'
    """
    steps = trajectory.steps
    views = default_views(trajectory.goal, [s.observation for s in steps],
                          [s.action for s in steps], [s.admissible_actions for s in steps])
    return trajectory.model_copy(update={"steps": [
        s.model_copy(update={"info": {**s.info, "view": v, "state": s.observation}})
        for s, v in zip(steps, views)]})


class DefaultView(Wrapper):
    """Puts the default view in ``info["view"]``: when the env gives none (``source="own"``,
    what ``make`` does for every env) or always, replacing the env's own (``"default"``).

        >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
        >>> env = DefaultView(FrozenLakeEnv(), source="default")
        >>> env.reset(seed=0)[1]["view"]["actions"]["down"]
        {'kind': 'down', 'context': 'carrying nothing; here none; start'}
    """

    def __init__(self, env: TextEnv, source: str = "own") -> None:
        if source not in VIEW_SOURCES:
            raise ConfigError(f"view_source={source!r} is not one of {list(VIEW_SOURCES)}; "
                              "'own' keeps an env's own view, 'default' always uses the "
                              "default view")
        super().__init__(env)
        self.source = source
        self._tracker: DefaultViewTracker | None = None
        self._view: dict[str, Any] | None = None
        self._invalid = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        """Reset the wrapped env and start following the new episode."""
        obs, info = self.env.reset(seed=seed, options=options)
        # an env that shows its own view at the start is not followed (nothing to compute)
        own = self.source == "own" and "view" in info
        self._tracker = None if own else DefaultViewTracker(str(info.get("goal", "")))
        self._invalid = int(info.get("invalid_actions", 0))
        return obs, self._with_view(obs, info)

    def step(self, action: str) -> StepResult:
        """Step the wrapped env; a valid action moves the view on, an invalid one does not."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        invalid, self._invalid = self._invalid, int(info.get("invalid_actions", 0))
        if self._tracker is not None and self._invalid == invalid:
            self._tracker.update(action, self._state_text(obs))
        elif self._view is not None and not (terminated or truncated) and not (
                self.source == "own" and "view" in info):
            # an invalid action changes nothing, the view included (a copy: infos share nothing)
            info["view"] = copy.deepcopy(self._view)
            return obs, reward, terminated, truncated, info
        return obs, reward, terminated, truncated, self._with_view(obs, info)

    def _with_view(self, obs: str, info: dict[str, Any]) -> dict[str, Any]:
        if self.source == "own" and "view" in info:
            self._view = info["view"]
        elif self._tracker is None or not info.get("admissible_actions"):
            self._view = None
            info.pop("view", None)  # views exist only while the episode runs
        else:
            self._view = self._tracker.view(self._state_text(obs), info["admissible_actions"])
            info["view"] = copy.deepcopy(self._view)
        return info

    def portable_view(self) -> dict[str, Any] | None:
        """The view of the running episode (the env's own or the default one), or None."""
        return copy.deepcopy(self._view)

    def _state_text(self, obs: str) -> str:
        # the state as the game renders it (what info["state"] holds unless the env puts a
        # finer state there, as ALFWorld does: its exact state ends in a digest of ids)
        return self.env.render() or obs
