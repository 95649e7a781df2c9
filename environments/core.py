"""The text-environment contract: Gymnasium's reset/step, with text in and text out.

A game subclasses :class:`TextEnv` and fills in a few hooks (``_reset_game``, ``_observe``,
``_goal``, ``_admissible``, ``_parse``, ``_apply``; optionally ``_portable_view``). The base
class owns what every game must do the same way: seeding, validation of the seed, the ``info``
keys, and the rule that an invalid action never raises but answers "Nothing happens", leaves
the state alone and is counted in ``info["invalid_actions"]``.

    >>> from memplay.environments import make
    >>> env = make("FrozenLake-4x4-v0")
    >>> obs, info = env.reset(seed=0)
    >>> sorted(info["admissible_actions"])
    ['down', 'left', 'right', 'up']
    >>> obs, reward, terminated, truncated, info = env.step("dance")
    >>> obs.startswith("Nothing happens"), info["invalid_actions"]
    (True, 1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from memplay.errors import ConfigError, EnvironmentFault

if TYPE_CHECKING:
    from memplay.environments.spec import EnvSpec

__all__ = ["MAX_SEED", "Outcome", "StepResult", "TextEnv", "normalize_action", "validate_seed"]

MAX_SEED = 2**32 - 1  # numpy's SeedSequence accepts any non-negative int; cap for portability

StepResult = tuple[str, float, bool, bool, dict[str, Any]]


@dataclass
class Outcome:
    """What one applied (valid) action did: the text to show, reward, and whether it ended.

    >>> Outcome("You moved left.", reward=0.0).terminated
    False
    """

    message: str
    reward: float = 0.0
    terminated: bool = False
    success: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def normalize_action(action: object) -> str:
    """Lower-case, trim and collapse spaces; strip a trailing period or quotes.

    Agents (and small LLMs) write "Right." or " move  left "; games compare normalised text.

    >>> normalize_action("  Right. ")
    'right'
    >>> normalize_action(None)
    ''
    """
    if not isinstance(action, str):
        return ""
    text = re.sub(r"\s+", " ", action).strip().lower()
    return text.strip("\"'`").rstrip(".!").strip()


def validate_seed(seed: object) -> int | None:
    """Return the seed if it is None or an int in [0, 2**32 - 1]; raise ConfigError otherwise.

    >>> validate_seed(7)
    7
    >>> validate_seed(-1)
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: seed=-1 is out of range; use an int in [0, 4294967295] or None
    """
    if seed is None:
        return None
    # bool is an int subclass; True as a seed is almost surely a bug
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed={seed!r} must be an int in [0, {MAX_SEED}] or None")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ConfigError(f"seed={seed} is out of range; use an int in [0, {MAX_SEED}] or None")
    return int(seed)


class TextEnv:
    """Base class of memplay environments: ``reset``/``step`` with text observations and actions.

    Subclasses implement the hooks; users only call ``reset``, ``step``, ``render`` and
    ``close``. ``info`` always holds ``goal``, ``admissible_actions``, ``invalid_actions``,
    ``steps`` and ``success``; games with a portable view add ``view`` while the episode runs.

        >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
        >>> env = FrozenLakeEnv()
        >>> obs, info = env.reset(seed=1)
        >>> info["invalid_actions"], info["success"]
        (0, False)
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}
    spec: EnvSpec | None = None

    def __init__(self) -> None:
        self._np_random: np.random.Generator | None = None
        self._invalid = 0
        self._steps = 0
        self._started = False
        self._done = False
        self._success = False

    @property
    def np_random(self) -> np.random.Generator:
        """The environment's random generator (seeded by ``reset(seed=...)``, else from entropy).

        >>> int(TextEnv().np_random.integers(0, 1))
        0
        """
        if self._np_random is None:
            self._np_random = np.random.default_rng()
        return self._np_random

    @property
    def unwrapped(self) -> TextEnv:
        """The innermost environment (wrappers override this)."""
        return self

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start a new episode; the same seed gives the same episode.

        >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
        >>> FrozenLakeEnv().reset(seed=3)[0] == FrozenLakeEnv().reset(seed=3)[0]
        True
        """
        checked = validate_seed(seed)
        if checked is not None:
            self._np_random = np.random.default_rng(checked)
        if options is not None and not isinstance(options, dict):
            raise ConfigError(f"options={options!r} must be a dict or None")
        self._invalid = self._steps = 0
        self._done = self._success = False
        intro = self._reset_game(dict(options or {}))
        self._started = True
        return intro, self._info()

    def step(self, action: str) -> StepResult:
        """Apply one action given as text; invalid text changes nothing and is counted.

        >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
        >>> env = FrozenLakeEnv(); _ = env.reset(seed=0)
        >>> env.step("right")[0].splitlines()[0]
        'You moved right.'
        """
        if not self._started:
            raise EnvironmentFault(f"{type(self).__name__}.step() called before reset(); "
                                   "call env.reset() first")
        if self._done:
            raise EnvironmentFault(f"{type(self).__name__}.step({action!r}) called after the "
                                   "episode ended; call env.reset() to start a new one")
        self._steps += 1
        parsed = self._parse(normalize_action(action))
        if parsed is None:
            self._invalid += 1
            return self._invalid_answer(action), 0.0, False, False, self._info()
        outcome = self._apply(parsed)
        self._done = outcome.terminated
        self._success = outcome.success
        info = self._info()
        info.update(outcome.extra)
        obs = f"{outcome.message}\n{self._observe()}".strip()
        return obs, float(outcome.reward), bool(outcome.terminated), False, info

    def render(self) -> str:
        """The current state as text (the same text observations end with).

        >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
        >>> env = FrozenLakeEnv(); _ = env.reset(seed=0)
        >>> "row 0, column 0" in env.render()
        True
        """
        return self._observe()

    def close(self) -> None:
        """Release resources (nothing to release for in-process games)."""

    def portable_view(self) -> dict[str, Any] | None:
        """The map-independent view of the current state (``info["view"]``), or None.

        None when the game offers no view, before ``reset`` and once the episode has ended.

        >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
        >>> env = FrozenLakeEnv(); _ = env.reset(seed=0)
        >>> env.portable_view()["actions"]["down"]["kind"]
        'down to ice'
        >>> TextEnv().portable_view() is None
        True
        """
        if not self._started or self._done:
            return None
        return self._portable_view()

    def action_vocabulary(self) -> list[str] | None:
        """Every action the game can ever accept, or None when the set is open-ended.

        Gymnasium-facing adapters use it to build a ``Discrete`` action space.

        >>> TextEnv().action_vocabulary() is None
        True
        """
        return None

    # ---- hooks for subclasses -------------------------------------------------------------

    def _reset_game(self, options: dict[str, Any]) -> str:
        """Set up a new episode from ``self.np_random`` and options; return the first obs."""
        raise NotImplementedError(f"{type(self).__name__} must implement _reset_game")

    def _observe(self) -> str:
        """Describe the current state."""
        raise NotImplementedError(f"{type(self).__name__} must implement _observe")

    def _goal(self) -> str:
        """The task in words."""
        raise NotImplementedError(f"{type(self).__name__} must implement _goal")

    def _admissible(self) -> list[str]:
        """The actions valid in the current state (canonical spelling)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _admissible")

    def _apply(self, action: Any) -> Outcome:
        """Apply a parsed, valid action."""
        raise NotImplementedError(f"{type(self).__name__} must implement _apply")

    def _parse(self, text: str) -> Any | None:
        """Map normalised text to a game action, or None if it is not valid now.

        The default accepts exactly the admissible actions; games override it to add aliases.
        """
        return text if text in self._admissible() else None

    def _extra_info(self) -> dict[str, Any]:
        """Game-specific ``info`` entries (position, optimum, whose turn...)."""
        return {}

    def _portable_view(self) -> dict[str, Any] | None:
        """The portable view of the current, running state, or None (no view: the default).

        Return ``memplay.environments.view.build_view(state, {action: (kind, context)})``
        with one entry per admissible action; see docs/CONTRACTS.md, "Portable views".
        """
        return None

    # ---- shared plumbing --------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "goal": self._goal(),
            "admissible_actions": [] if self._done else list(self._admissible()),
            "invalid_actions": self._invalid,
            "steps": self._steps,
            "success": self._success,
        }
        info.update(self._extra_info())
        # The state as text, as render() gives it: an agent whose environment runs in another
        # process (or machine) keys its memory by this, without a handle on the env.
        info.setdefault("state", self._observe())
        view = self.portable_view()
        if view is not None:
            info["view"] = view
        return info

    def _invalid_answer(self, action: object) -> str:
        shown = action if isinstance(action, str) else repr(action)
        shown = shown.strip()[:80] or "(empty)"
        admissible = self._admissible()
        choices = ", ".join(admissible[:12]) + (", ..." if len(admissible) > 12 else "")
        return (f'Nothing happens: "{shown}" is not a valid action here. '
                f"Valid actions: {choices}.\n{self._observe()}")
