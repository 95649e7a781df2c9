"""Scores the model gave earlier in an episode, reused instead of asking again.

Where memory's values tie, the gate still asks the model, and in a search (ALFWorld: which
of 18 unvisited places holds the apple) it asks again at the next step about nearly the
same candidates, now one fewer. Each call costs a forward over the step's new prompt tokens
whatever the number of candidates, so the second call costs as much as the first.
``policy.reuse_scores: N`` keeps each candidate's score for the next ``N`` decisions of its
episode: a candidate scored that recently is not sent again, and a decision whose
candidates all have a kept score does not call the model.

It is a heuristic, off by default: a kept score was for an earlier prompt (earlier moves, an
earlier observation). With ``llm_clip`` (the gate's bound) an action's term depends on its
own log-probability alone, so kept and fresh scores mix on one scale. A kept score enters
calibration again as if the model had said it again.

    >>> memo = ScoreMemo()
    >>> memo.tick("ep1")
    >>> memo.store("ep1", {"go to fridge 1": -2.5, "go to desk 1": -4.0})
    >>> memo.tick("ep1")
    >>> memo.recall("ep1", ["go to fridge 1", "open fridge 1"], within=1)
    {'go to fridge 1': -2.5}
    >>> memo.tick("ep1")
    >>> memo.recall("ep1", ["go to fridge 1"], within=1)
    {}
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["ScoreMemo"]


@dataclass
class _Episode:
    clock: int = 0  # decisions of this episode so far
    scores: dict[str, tuple[float, int]] = field(default_factory=dict)  # action -> (score, at)


class ScoreMemo:
    """Each episode's model scores with the decision they were given at (LRU over episodes).

    Args:
        max_episodes: Episodes kept; the least recently used one is dropped beyond it (the
            agent also forgets an episode when its batch ends).

    >>> ScoreMemo(max_episodes=0)
    Traceback (most recent call last):
    ...
    ValueError: max_episodes=0 must be >= 1
    """

    def __init__(self, max_episodes: int = 1024) -> None:
        if max_episodes < 1:
            raise ValueError(f"max_episodes={max_episodes} must be >= 1")
        self.max_episodes = max_episodes
        self._episodes: OrderedDict[str, _Episode] = OrderedDict()

    def __len__(self) -> int:
        return len(self._episodes)

    def _episode(self, session: str) -> _Episode:
        episode = self._episodes.get(session)
        if episode is None:
            episode = self._episodes[session] = _Episode()
            while len(self._episodes) > self.max_episodes:
                self._episodes.popitem(last=False)
        self._episodes.move_to_end(session)
        return episode

    def tick(self, session: str) -> None:
        """Count one decision of ``session`` (kept scores age by one)."""
        self._episode(session).clock += 1

    def recall(self, session: str, actions: Sequence[str], within: int) -> dict[str, float]:
        """The kept scores of ``actions`` given at most ``within`` decisions ago."""
        episode = self._episode(session)
        return {a: episode.scores[a][0] for a in actions
                if a in episode.scores and episode.clock - episode.scores[a][1] <= within}

    def store(self, session: str, scores: Mapping[str, float]) -> None:
        """Keep ``scores``, given at ``session``'s current decision."""
        episode = self._episode(session)
        episode.scores.update((a, (v, episode.clock)) for a, v in scores.items())

    def forget(self, sessions: Iterable[str | None]) -> None:
        """Drop the ended episodes' scores."""
        for session in sessions:
            if session is not None:
                self._episodes.pop(session, None)
