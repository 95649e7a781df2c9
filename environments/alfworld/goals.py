"""Which ALFWorld goals an episode achieved, whatever its own task was (for hindsight).

An agent looking for an apple that picked up a mug and put it in a cabinet has achieved
"put a mug in cabinet"; one that cooled the mug first has also achieved "put a cool mug in
cabinet". :class:`AchievedGoals` reads the episode's actions and the game's feedback (a
failed action answers "Nothing happens", so only what the game confirmed counts) and says,
after each step, which goals of ALFWorld's six task types that step achieved, in the
canonical wording of :meth:`~memplay.environments.alfworld.view.AlfredTask.describe`
(``put a mug in cabinet``, ``put a hot apple in countertop``, ``look at bowl under the
desklamp``, ``put two book in desk``), the wording :func:`parse_goal` reads back.

It errs on the side of saying nothing: a goal counts only when this episode's own actions
made it true (two objects placed by the agent in the same receptacle; a lamp it turned on,
at the place it stands, while it holds the object), so a goal a room started with is never
claimed: an object put back into a receptacle of the kind it was taken from achieves no
placing goal (it was already "in a drawer"), unless it was cleaned, heated or cooled. The
ALFWorld environment puts each step's goals in ``info["achieved_goals"]``.

    >>> goals = AchievedGoals()
    >>> goals.update("take mug 1 from countertop 1", "You pick up the mug 1 from the countertop 1.")
    []
    >>> goals.update("go to fridge 1", "You arrive at fridge 1. The fridge 1 is closed.")
    []
    >>> goals.update("cool mug 1 with fridge 1", "You cool the mug 1 using the fridge 1.")
    []
    >>> goals.update("go to cabinet 2", "You arrive at cabinet 2. The cabinet 2 is open.")
    []
    >>> goals.update("move mug 1 to cabinet 2", "You move the mug 1 to the cabinet 2.")
    ['put a mug in cabinet', 'put a cool mug in cabinet']
    >>> goals.update("take cup 1 from cabinet 2", "You pick up the cup 1 from the cabinet 2.")
    []
    >>> goals.update("move cup 1 to cabinet 2", "You move the cup 1 to the cabinet 2.")
    []
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memplay.environments.alfworld.view import AlfredTask, object_class

__all__ = ["AchievedGoals"]

# verb of a processing action -> the task type it makes possible
_PROCESS_TYPES = {"clean": "pick_clean_then_place_in_recep",
                  "heat": "pick_heat_then_place_in_recep",
                  "cool": "pick_cool_then_place_in_recep"}
_LAMPS = ("desklamp", "floorlamp")
_FAILED = "Nothing happens"


@dataclass
class AchievedGoals:
    """The goals an episode's steps achieved, read from its actions and feedback.

    Attributes:
        at: The place the agent stands at (None before its first ``go to``).
        held: The object in hand.
        source: The kind of receptacle the object in hand was taken from.
        processed: Object -> the task type its processing allows ("clean" -> clean tasks).
        placed: Receptacle -> objects this episode put there (and that are still there).
        lit: Place -> classes of the lamps this episode turned on there.
        achieved: Every goal achieved so far, in order, each once.

        >>> AchievedGoals().achieved
        []
    """

    at: str | None = None
    held: str | None = None
    source: str | None = None
    processed: dict[str, list[str]] = field(default_factory=dict)
    placed: dict[str, list[str]] = field(default_factory=dict)
    lit: dict[str, set[str]] = field(default_factory=dict)
    achieved: list[str] = field(default_factory=list)

    def update(self, action: str, feedback: str) -> list[str]:
        """Take in one step; return the goals it achieved that no earlier step had.

            >>> AchievedGoals().update("move mug 1 to desk 1", "Nothing happens.")
            []
        """
        if feedback.strip().startswith(_FAILED):
            return []
        verb, _, rest = action.partition(" ")
        if verb == "go":
            self.at = rest[len("to "):]
        elif verb == "take":
            obj, _, source = rest.partition(" from ")
            self._take(obj)
            self.source = object_class(source)
        elif verb in _PROCESS_TYPES:
            self._process(verb, rest.partition(" with ")[0])
        elif verb == "use" and object_class(rest) in _LAMPS and self.at is not None:
            self.lit.setdefault(self.at, set()).add(object_class(rest))
        goals = self._goals_now(verb, rest)
        new = [g for g in dict.fromkeys(goals) if g not in self.achieved]
        self.achieved.extend(new)
        return new

    def _take(self, obj: str) -> None:
        self.held = obj
        for objects in self.placed.values():
            if obj in objects:
                objects.remove(obj)

    def _process(self, verb: str, obj: str) -> None:
        kinds = self.processed.setdefault(obj, [])
        if _PROCESS_TYPES[verb] not in kinds:
            kinds.append(_PROCESS_TYPES[verb])

    def _goals_now(self, verb: str, rest: str) -> list[str]:
        if verb == "move":
            obj, _, target = rest.partition(" to ")
            self.held = None
            self.placed.setdefault(target, []).append(obj)
            return self._placing_goals(obj, target)
        if verb in {"use", "take", "go"}:
            return self._look_goals()
        return []

    def _placing_goals(self, obj: str, target: str) -> list[str]:
        cls, parent = object_class(obj), object_class(target)
        put_back = self.source == parent  # it was in such a receptacle before
        types = [] if put_back else ["pick_and_place_simple"]
        types += self.processed.get(obj, [])
        if not put_back and sum(object_class(o) == cls for o in self.placed[target]) >= 2:
            types.append("pick_two_obj_and_place")
        return [AlfredTask(t, cls, parent=parent).describe() for t in types]

    def _look_goals(self) -> list[str]:
        # the look task is won while the object is held where a lamp this episode lit shines
        if self.held is None or self.at is None:
            return []
        return [AlfredTask("look_at_obj_in_light", object_class(self.held), lamp=lamp).describe()
                for lamp in sorted(self.lit.get(self.at, ()))]
