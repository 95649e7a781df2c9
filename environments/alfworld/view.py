"""ALFWorld's portable view: the task type, the stage and the place, without object ids.

A view (docs/CONTRACTS.md, "Portable views") lets memory find a value learned in one game
again in another game where the situation is the same. For ALFWorld that means: how far the
task has come (find the apple, clean it at the sink basin, bring it to the fridge, the second
of two...), what kind of place the agent stands at, whether the object it is looking for is
here or was seen, and for every ``go to`` what the agent already knows about that place. While
the agent searches, the task and the object are left out ("find it | it not seen | drawer:
unvisited": how to search a room does not depend on either); from the first take on, the task
type leads the context ("clean and place | bring it to the destination"), the held object is
"it" and the place the stage needs is "the place needed" in the action's kind ("move it to the
place needed").
Rooms, object ids and the order of receptacles never appear, so "go to countertop while
looking for it" reads the same in every kitchen. An action that cannot help at this point
(going back to a place already searched, taking an object the task does not need, heating in a
cleaning task, walking on from the place needed...) gets a short task-free context instead, so
it never borrows the value of a useful step.

:class:`AlfredTracker` follows one episode from the text alone (the intro, then each action and
its feedback), so the view uses only what the agent itself could know.

    >>> intro = ("You are in the middle of a room. Looking quickly around you, you see a "
    ...          "countertop 1, a fridge 1, and a sinkbasin 1.\\n\\n"
    ...          "Your task is to: put a clean apple in fridge.")
    >>> tracker = AlfredTracker("put a clean apple in fridge", intro)
    >>> tracker.update("go to countertop 1",
    ...                "You arrive at countertop 1. On the countertop 1, you see a apple 2.")
    >>> view = tracker.view(["take apple 2 from countertop 1", "go to fridge 1"])
    >>> view["actions"]["take apple 2 from countertop 1"]["kind"]
    'take it from countertop'
    >>> view["actions"]["take apple 2 from countertop 1"]["context"]
    'find it | at countertop, it here | it seen'
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "VIEW_VERSION",
    "AlfredTask",
    "AlfredTracker",
    "canonical_action",
    "object_class",
    "parse_goal",
]

VIEW_VERSION = 14  # bump when view texts change (cached demos get their views recomputed)

# Contexts of actions that cannot help the task now (see AlfredTracker.view).
ALREADY_SEARCHED = "searched already: nothing the task needs is there"
NOT_NEEDED_OBJECT = "an object the task does not need"
NOT_NEEDED_PUT = "puts the object where the task does not need it"
NOT_NEEDED_STEP = "a step the task does not need"
# An action with one of these contexts gets "needed": False in the view (a policy may then
# leave it out of the LLM's scoring, memory still values it).
UNNEEDED_CONTEXTS = frozenset({ALREADY_SEARCHED, NOT_NEEDED_OBJECT, NOT_NEEDED_PUT,
                               NOT_NEEDED_STEP})
# Context of opening the closed place the agent stands at while it searches: worth the same
# whatever is sought, so every walkthrough that opened a place to find something teaches it.
SEARCH_OPEN = "searching: open the closed place here, not searched yet"
# While the object is carried, the place the stage needs (the destination, or the device
# that cleans, heats or cools) is named by its role, not its class, in contexts and kinds:
# "go to the place needed" is the same step for a desk and a toilet paper hanger, so a
# destination no walkthrough used still finds the value of the step.
PLACE_NEEDED = "the place needed"
DESTINATION = "the destination"

# The twelve goal templates of ALFWorld's games (two phrasings per task type), most specific
# first: "put a clean apple in fridge" must not be read as "put a <clean> ...".
_GOAL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (task_type, re.compile(pattern))
    for task_type, pattern in (
        ("pick_two_obj_and_place", r"^(?:put two (\w+) in|find two (\w+) and put them in) (\w+)"),
        ("pick_clean_then_place_in_recep",
         r"^(?:put a clean (\w+) in|clean some (\w+) and put it in) (\w+)"),
        ("pick_heat_then_place_in_recep",
         r"^(?:put a hot (\w+) in|heat some (\w+) and put it in) (\w+)"),
        ("pick_cool_then_place_in_recep",
         r"^(?:put a cool (\w+) in|cool some (\w+) and put it in) (\w+)"),
        ("look_at_obj_in_light",
         r"^(?:look at (\w+) under the|examine the (\w+) with the) (\w+)"),
        ("pick_and_place_simple", r"^(?:put a (\w+) in|put some (\w+) on) (\w+)"),
    )
)
# Each task type in a few words: the first part of every context after the search.
_TASK_LABELS = {
    "pick_and_place_simple": "place",
    "pick_two_obj_and_place": "place two",
    "pick_clean_then_place_in_recep": "clean and place",
    "pick_heat_then_place_in_recep": "heat and place",
    "pick_cool_then_place_in_recep": "cool and place",
    "look_at_obj_in_light": "look under a light",
}
# Verbs whose object is the one held: for the task's own object the kind says "it".
_HELD_VERBS = ("move", "clean", "heat", "cool")
# What each task type does to the object on the way, and where: (verb, adjective, device).
_PROCESS = {
    "pick_clean_then_place_in_recep": ("clean", "clean", "sinkbasin"),
    "pick_heat_then_place_in_recep": ("heat", "hot", "microwave"),
    "pick_cool_then_place_in_recep": ("cool", "cool", "fridge"),
}
_ID_RE = re.compile(r"\b([a-z][a-z-]*) (\d+)\b")
_NUMBER_AFTER_WORD = re.compile(r"(?<=[A-Za-z]) +\d+\b")
_SEEN_RE = re.compile(r"you see (.*)", re.IGNORECASE | re.DOTALL)


def canonical_action(action: str) -> str:
    """The action with object ids removed: a standalone integer after a word is dropped.

    (Same rule as ``memplay.environments.canonical_action``, being written on another branch;
    kept private to this module until the two are unified.)

        >>> canonical_action("take apple 1 from countertop 2")
        'take apple from countertop'
        >>> canonical_action("go to desk 2"), canonical_action("look")
        ('go to desk', 'look')
    """
    return " ".join(_NUMBER_AFTER_WORD.sub("", action).split())


def object_class(name: str) -> str:
    """The class of an ALFWorld object or receptacle name ("apple 3" -> "apple").

        >>> object_class("sinkbasin 1"), object_class("apple")
        ('sinkbasin', 'apple')
    """
    return name.split(" ", 1)[0]


@dataclass(frozen=True)
class AlfredTask:
    """A parsed ALFWorld goal: task type, target object class, destination and light source.

        >>> parse_goal("look at bowl under the desklamp").describe()
        'look at bowl under the desklamp'
    """

    task_type: str
    obj: str
    parent: str = ""
    lamp: str = ""

    def describe(self) -> str:
        """One canonical sentence per task (both goal phrasings of a type read the same).

            >>> parse_goal("clean some apple and put it in fridge").describe()
            'put a clean apple in fridge'
        """
        if self.task_type == "look_at_obj_in_light":
            return f"look at {self.obj} under the {self.lamp}"
        if self.task_type == "pick_two_obj_and_place":
            return f"put two {self.obj} in {self.parent}"
        if self.task_type in _PROCESS:
            return f"put a {_PROCESS[self.task_type][1]} {self.obj} in {self.parent}"
        if self.task_type == "pick_and_place_simple":
            return f"put a {self.obj} in {self.parent}"
        return self.obj

    @property
    def label(self) -> str:
        """The task type in words, without object or destination (what contexts carry).

            >>> parse_goal("put two book in desk").label
            'place two'
        """
        return _TASK_LABELS.get(self.task_type, self.describe())

    @property
    def process(self) -> tuple[str, str, str] | None:
        """(verb, adjective, device) for clean/heat/cool tasks, else None.

            >>> parse_goal("put a hot egg in garbagecan").process
            ('heat', 'hot', 'microwave')
        """
        return _PROCESS.get(self.task_type)


def parse_goal(goal: str) -> AlfredTask:
    """Read an ALFWorld goal sentence; an unknown sentence becomes task type "unknown".

        >>> parse_goal("Put two cellphone in sofa.")
        AlfredTask(task_type='pick_two_obj_and_place', obj='cellphone', parent='sofa', lamp='')
        >>> parse_goal("dance a jig").task_type
        'unknown'
    """
    text = " ".join(goal.lower().strip().rstrip(".").split())
    for task_type, pattern in _GOAL_PATTERNS:
        match = pattern.match(text)
        if match:
            obj = match.group(1) or match.group(2)
            if task_type == "look_at_obj_in_light":
                return AlfredTask(task_type, obj, lamp=match.group(3))
            return AlfredTask(task_type, obj, parent=match.group(3))
    return AlfredTask("unknown", canonical_action(text))


def _named_objects(text: str) -> list[str]:
    """Object names with ids ("apple 1") listed after "you see" in a feedback text."""
    match = _SEEN_RE.search(text)
    if not match:
        return []
    listed = match.group(1).split("Your task is to", 1)[0]
    return [f"{word} {number}" for word, number in _ID_RE.findall(listed)]


@dataclass
class AlfredTracker:
    """What the agent knows in one episode, read from the intro, its actions and the feedback.

    Args:
        goal: The task sentence ("put a clean apple in fridge").
        intro: The first observation (it lists the receptacles of the room).

        >>> t = AlfredTracker("put two book in desk",
        ...                   "Looking quickly around you, you see a bed 1, and a desk 1.")
        >>> t.receptacles
        ['bed 1', 'desk 1']
    """

    goal: str
    intro: str
    task: AlfredTask = field(init=False)
    receptacles: list[str] = field(init=False)
    at: str | None = None
    held: str | None = None
    contents: dict[str, list[str]] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)
    closed: dict[str, bool] = field(default_factory=dict)
    processed: set[str] = field(default_factory=set)
    placed: list[str] = field(default_factory=list)
    reachable: dict[str, set[str]] = field(default_factory=dict)
    taken: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.task = parse_goal(self.goal)
        self.receptacles = sorted(_named_objects(self.intro), key=_natural_key)

    # ---- reading the episode --------------------------------------------------------------

    def update(self, action: str, feedback: str) -> None:
        """Take in one action and the feedback it got (a failed action changes nothing).

            >>> t = AlfredTracker("put a apple in fridge", "you see a fridge 1.")
            >>> t.update("go to fridge 1", "You arrive at fridge 1. The fridge 1 is closed.")
            >>> t.at, t.closed["fridge 1"], "fridge 1" in t.contents
            ('fridge 1', True, False)
        """
        self.taken[action] += 1
        if feedback.startswith("Nothing happens"):
            return
        verb = action.split(" ", 1)[0]
        handler = _ACTION_UPDATES.get(verb)
        if handler is not None:
            handler(self, action)
        self._read_feedback(feedback)

    def _read_feedback(self, feedback: str) -> None:
        place = self.at
        if place is None:
            return
        if f"The {place} is closed" in feedback:
            self.closed[place] = True
            return
        opened = f"The {place} is open" in feedback
        if opened:
            self.closed[place] = False
        # only a description of this receptacle lists its contents ("look" also says "you see")
        if f"On the {place}, you see" in feedback or (opened and "In it, you see" in feedback):
            self.contents[place] = _named_objects(feedback)

    def _go(self, action: str) -> None:
        self.at = action[len("go to "):]
        self.visited.add(self.at)

    def _take(self, action: str) -> None:
        obj, _, source = action[len("take "):].partition(" from ")
        self.held = obj
        if obj in self.contents.get(source, []):
            self.contents[source].remove(obj)
        for objects in self.reachable.values():
            objects.discard(obj)

    def notice(self, admissible: list[str]) -> None:
        """Read what the admissible actions reveal: objects that can be taken from here.

        Receptacles can share a spot (a coffee machine on a countertop): from one, the other's
        objects can be taken although the text only describes the first. With full hands
        ALFWorld offers no ``take`` at all, which says nothing about what is here.

            >>> t = AlfredTracker("put a apple in fridge", "you see a coffeemachine 1.")
            >>> t.at = "coffeemachine 1"; t.notice(["take apple 1 from countertop 2"])
            >>> t.reachable
            {'coffeemachine 1': {'apple 1'}}
        """
        if self.at is not None and self.held is None:
            self.reachable[self.at] = {a[len("take "):].partition(" from ")[0]
                                       for a in admissible if a.startswith("take ")}

    def _move(self, action: str) -> None:
        obj, _, target = action[len("move "):].partition(" to ")
        self.held = None
        self.contents.setdefault(target, []).append(obj)
        if (object_class(obj) == self.task.obj and object_class(target) == self.task.parent
                and obj not in self.placed):
            self.placed.append(obj)

    def _process(self, action: str) -> None:
        self.processed.add(action.split(" ", 1)[1].partition(" with ")[0])

    def _open(self, action: str) -> None:
        self.closed[action[len("open "):]] = False

    def _close(self, action: str) -> None:
        self.closed[action[len("close "):]] = True

    # ---- what the view says ---------------------------------------------------------------

    def sought(self) -> str | None:
        """The class the agent is looking for now (the object, or the lamp), else None.

            >>> AlfredTracker("look at bowl under the desklamp", "").sought()
            'bowl'
        """
        if self.held is None:
            return self.task.obj if self.task.task_type != "unknown" else None
        if self.task.task_type == "look_at_obj_in_light" and self._holding_target():
            return self.task.lamp
        return None

    def stage(self) -> str:
        """How far the task has come, in words without ids.

            >>> t = AlfredTracker("put two book in desk", "")
            >>> t.stage()
            'find first book'
            >>> t.placed.append("book 2"); t.stage()
            'find second book'
            >>> t.held = "book 1"; t.stage()
            'bring the second one to the destination'
        """
        task = self.task
        if task.task_type == "unknown":
            return "holding nothing" if self.held is None else f"holding {self._held_class()}"
        ordinal = self._ordinal()
        if self.held is None:
            return f"find {ordinal}{task.obj}"
        if not self._holding_target():
            return f"drop {self._held_class()}"
        if task.task_type == "look_at_obj_in_light":
            return f"find {task.lamp} and use it"
        # from here on the object no longer decides the value (the task text still names it):
        # "it" lets a value learned while carrying a book count while carrying a pencil
        process = task.process
        if process is not None and self.held not in self.processed:
            return f"{process[0]} it with {process[2]}"
        # the destination is named by the task text; the stage says only that there is one,
        # so a walkthrough to a desk teaches the step to a toilet paper hanger too
        return f"bring {self._it()} to {DESTINATION}"

    def where(self) -> str:
        """Where the agent stands: the place's class, closed or not, and the sought thing here.

            >>> t = AlfredTracker("put a apple in fridge", "you see a fridge 1.")
            >>> t.where()
            'start'
        """
        if self.at is None:
            return "start"
        text = self._place_name(self.at)
        if self.closed.get(self.at):
            text += " (closed)"
        sought = self.sought()
        if sought is not None and self._sees(self.at, sought):
            text += f", {sought} here"
        return text

    def context(self, going: str | None = None) -> str:
        """The context of an action: task | stage | place | whether the sought thing was seen.

        For ``go to <place>`` (``going``) the place the agent leaves does not decide the value,
        what it knows about the destination does: the context ends with that instead, so a
        search step reads the same from wherever it starts.

            >>> t = AlfredTracker("put a apple in fridge", "you see a fridge 1.")
            >>> t.context()
            'find it | at start | it not seen'
            >>> t.context(going="fridge 1")
            'find it | it not seen | fridge: unvisited'
        """
        # The search reads the same whatever the task will do with the object and whatever
        # the object is: most objects have only a few walkthroughs, too few to say where
        # that very class lies (a spoon had one in 600), while all of them together say how
        # to search a room (unvisited places, open closed ones, take what is sought when in
        # sight); which object lies where is the LLM's part, it reads the task. From the
        # first take on, the task type leads the context and the stage names what is needed
        # ("bring it to the destination"), so 600 walkthroughs cover every pairing.
        searching = self.held is None and self.task.task_type != "unknown"
        parts = [f"find {self._it()}"] if searching else [self.task.label, self.stage()]
        if going is None:
            parts.append(f"at {self.where()}")
        sought, needed = self.sought(), self.needed_place()
        if sought is not None:
            seen = any(self._sees(place, sought) for place in self._known_places())
            parts.append(f"{sought} {'seen' if seen else 'not seen'}")
            if going is not None:
                parts.append(f"{object_class(going)}: {self.place_status(going)}")
        elif going is not None and needed is not None:
            cls = object_class(going)
            parts.append(PLACE_NEEDED if cls == needed else f"{cls}: not {PLACE_NEEDED}")
        text = " | ".join(parts)
        # while searching, where() and place_status() name the class ("apple here", "no
        # apple"): say "it" there too
        return re.sub(rf"\b{re.escape(self.task.obj)}\b", "it", text) if searching else text

    def _it(self) -> str:
        """The task's object without its class: "it", or "the first one" / "the second one"
        of two."""
        ordinal = self._ordinal()
        return f"the {ordinal}one" if ordinal else "it"

    def place_status(self, place: str) -> str:
        """What the agent knows about a receptacle it could go to, for the thing it seeks.

            >>> t = AlfredTracker("put a apple in fridge", "you see a fridge 1.")
            >>> t.place_status("fridge 1")
            'unvisited'
        """
        if place not in self.visited:
            return "unvisited"
        sought = self.sought()
        if sought is not None and self._sees(place, sought):
            return f"{sought} there"
        if place not in self.contents:
            return "closed, not searched"
        return "visited" if sought is None else f"no {sought}"

    def state_text(self) -> str:
        """The portable state for people and hints (no ids, no room layout).

            >>> AlfredTracker("put a apple in fridge", "you see a fridge 1.").state_text()
            'Task: put a apple in fridge. Stage: find apple. At start. Holding nothing.'
        """
        held = "nothing" if self.held is None else self._held_description()
        text = (f"Task: {self.task.describe()}. Stage: {self.stage()}. At {self.where()}. "
                f"Holding {held}.")
        sought = self.sought()
        places = sorted({object_class(p) for p in self._known_places() if self._sees(p, sought)})
        if sought is not None and places:
            text += f" {sought.capitalize()} seen at: {', '.join(places)}."
        return text

    def exact_state(self) -> str:
        """The portable state plus a digest of everything the agent knows with ids (where it
        stands, what it holds, which places it searched or opened and what lies in them):
        the state text loops and no-ops are found by. An action that changes none of it
        (``look``, ``inventory``, ``examine``, a failed action) left the agent where it was.

            >>> t = AlfredTracker("put a apple in fridge", "you see a fridge 1, a desk 1.")
            >>> before = t.exact_state()
            >>> t.update("look", "You are in the middle of a room."); t.exact_state() == before
            True
            >>> t.update("go to desk 1", "You arrive at desk 1. On the desk 1, you see a pen 1.")
            >>> t.exact_state() == before, t.exact_state().startswith("Task: put a apple")
            (False, True)
        """
        known = (self.at, self.held, sorted(self.contents.items()), sorted(self.closed.items()),
                 sorted(self.processed), self.placed,
                 sorted((p, sorted(o)) for p, o in self.reachable.items()))
        digest = hashlib.sha1(repr(known).encode("utf-8")).hexdigest()[:12]
        return f"{self.state_text()} #{digest}"

    def view(self, admissible: list[str]) -> dict[str, Any]:
        """The ``info["view"]`` of the contract: portable state text and per-action entries;
        an action that cannot help the task now says ``"needed": False``.

            >>> t = AlfredTracker("put a apple in fridge", "you see a fridge 1.")
            >>> t.view(["go to fridge 1"])["actions"]["go to fridge 1"]
            {'kind': 'go to fridge', 'context': 'find it | it not seen | fridge: unvisited', \
'repeats': 0}
            >>> t.view(["look"])["actions"]["look"]["needed"]
            False

        Going somewhere and opening something say how often this episode already did
        exactly that (``repeats``): every drawer not visited yet shares one key, and the
        policy's novelty term needs to know that drawer 3 is new although drawer 1 was not.
        """
        self.notice(admissible)
        here = self.context()
        rules = _CONTEXT_RULES if self.task.task_type != "unknown" else {}
        actions: dict[str, dict[str, Any]] = {}
        for action in admissible:
            verb = action.split(" ", 1)[0]
            rule = rules.get(verb)
            context = rule(self, action) if rule is not None else here
            actions[action] = {"kind": self._kind(action), "context": context or here}
            if context in UNNEEDED_CONTEXTS:
                actions[action]["needed"] = False
            if verb in _EXPLORING_VERBS:
                actions[action]["repeats"] = self.taken[action]
        return {"state": self.state_text(), "actions": actions}

    # ---- per-action contexts --------------------------------------------------------------
    # An action that cannot help the task at this point (a place already searched, an object
    # or a step the task does not need) gets a short context without the task: it is worth
    # the same little in every task, and its text is far from every useful situation, so
    # memory neither borrows a demo's value for it nor mistakes it for one. ``None`` means
    # "the situation's own context".

    def needed_place(self) -> str | None:
        """The receptacle class this stage must reach (destination or device), if one.

            >>> t = AlfredTracker("put a hot egg in fridge", "you see a microwave 1.")
            >>> t.held = "egg 1"; t.needed_place()
            'microwave'
        """
        task = self.task
        if self.held is None or not self._holding_target() or task.task_type in {
                "look_at_obj_in_light", "unknown"}:
            return None
        process = task.process
        if process is None or self.held in self.processed:
            return task.parent
        if process[2] == "sinkbasin" and not any(object_class(r) == "sinkbasin"
                                                 for r in self.receptacles):
            return "bathtubbasin"  # bathrooms without a sink basin clean in the bathtub
        return process[2]

    def _go_context(self, action: str) -> str | None:
        place = action[len("go to "):]
        sought = self.sought()
        if sought is not None and place in self.contents and not self._sees(place, sought):
            return ALREADY_SEARCHED
        needed = self.needed_place()
        if needed is not None and self.at is not None and object_class(self.at) == needed:
            return NOT_NEEDED_STEP  # at a place of the kind needed: use it, walk no further
        if self.at is not None and self._sees(self.at, sought):
            return NOT_NEEDED_STEP  # what is sought is here: take it, walk no further
        # any other place may be the one: unsearched, or (bringing the object) it may share a
        # spot with the destination, as walkthroughs show (coffee machines on countertops)
        return self.context(going=place)

    def _take_context(self, action: str) -> str | None:
        return None if self._searched_for(action) else NOT_NEEDED_OBJECT

    def _move_context(self, action: str) -> str | None:
        target = action[len("move "):].partition(" to ")[2]
        if not self._holding_target():
            return None  # putting down an object picked up by mistake is right anywhere
        if self.needed_place() == self.task.parent == object_class(target):
            return None
        return NOT_NEEDED_PUT

    def _process_context(self, action: str) -> str | None:
        process = self.task.process
        if (process is not None and action.startswith(process[0] + " ")
                and self._holding_target() and self.held not in self.processed):
            return None
        return NOT_NEEDED_STEP

    def _use_context(self, action: str) -> str | None:
        # the light helps with the object in hand; walkthroughs never light it before
        lamp = action[len("use "):]
        if (self.task.task_type == "look_at_obj_in_light" and self._holding_target()
                and object_class(lamp) == self.task.lamp):
            return None
        return NOT_NEEDED_STEP

    def _open_context(self, action: str) -> str | None:
        place = action[len("open "):]
        if place == self.at and self.sought() is not None and place not in self.contents:
            return SEARCH_OPEN
        return None

    def _never_needed(self, action: str) -> str | None:
        return NOT_NEEDED_STEP

    def _kind(self, action: str) -> str:
        """The action without ids; the task's object, held, is "it" ("move it to desk"), so
        a step learned with a book counts with a pencil, and the place the stage needs is
        "the place needed" ("move it to the place needed")."""
        kind = canonical_action(action)
        verb = action.split(" ", 1)[0]
        if verb in _HELD_VERBS and self._holding_target() and action.startswith(
                f"{verb} {self.held} "):
            kind = kind.replace(f"{verb} {self._held_class()} ", f"{verb} it ", 1)
        if verb == "take" and self.held is None and self._searched_for(action):
            kind = "take it from " + kind.partition(" from ")[2]  # any object sought
        needed = self.needed_place()
        if needed is not None:
            kind = re.sub(rf"\b{re.escape(needed)}\b", PLACE_NEEDED, kind)
        return kind

    # ---- helpers --------------------------------------------------------------------------

    def _searched_for(self, take: str) -> bool:
        """Whether ``take`` picks up an object the task still needs (not one placed)."""
        obj = take[len("take "):].partition(" from ")[0]
        return object_class(obj) == self.task.obj and obj not in self.placed

    def _place_name(self, place: str) -> str:
        """A receptacle's class, or "the place needed" when the stage needs that class."""
        cls = object_class(place)
        return PLACE_NEEDED if cls == self.needed_place() else cls

    def _held_class(self) -> str:
        return object_class(self.held) if self.held is not None else ""

    def _held_description(self) -> str:
        process = self.task.process
        if process is not None and self.held in self.processed:
            return f"{process[1]} {self._held_class()}"
        return self._held_class()

    def _holding_target(self) -> bool:
        # an object already placed and picked up again is not one the task still needs
        return self._held_class() == self.task.obj and self.held not in self.placed

    def _ordinal(self) -> str:
        if self.task.task_type != "pick_two_obj_and_place":
            return ""
        return "second " if self.placed else "first "

    def _sees(self, place: str, cls: str | None) -> bool:
        if cls is None:
            return False
        objects = [*self.contents.get(place, []), *self.reachable.get(place, ())]
        return any(object_class(o) == cls and o not in self.placed for o in objects)

    def _known_places(self) -> list[str]:
        return sorted(set(self.contents) | set(self.reachable))


def _natural_key(name: str) -> tuple[str, int]:
    cls, _, number = name.partition(" ")
    return cls, int(number) if number.isdigit() else 0


# actions that see something new the first time (a place, the inside of a receptacle)
_EXPLORING_VERBS = frozenset({"go", "open"})

# per-action context rules by verb (others use the situation's context)
_CONTEXT_RULES = {
    "go": AlfredTracker._go_context,
    "take": AlfredTracker._take_context,
    "move": AlfredTracker._move_context,
    "clean": AlfredTracker._process_context,
    "heat": AlfredTracker._process_context,
    "cool": AlfredTracker._process_context,
    "use": AlfredTracker._use_context,
    "open": AlfredTracker._open_context,
    "slice": AlfredTracker._never_needed,  # no task of these splits slices anything
    # these change nothing in the room and tell nothing the arrival texts did not
    "look": AlfredTracker._never_needed,
    "inventory": AlfredTracker._never_needed,
    "help": AlfredTracker._never_needed,
    "examine": AlfredTracker._never_needed,
}

# one entry per action verb whose effect is certain from the action text itself
_ACTION_UPDATES = {
    "go": AlfredTracker._go,
    "take": AlfredTracker._take,
    "move": AlfredTracker._move,
    "clean": AlfredTracker._process,
    "heat": AlfredTracker._process,
    "cool": AlfredTracker._process,
    "open": AlfredTracker._open,
    "close": AlfredTracker._close,
}
