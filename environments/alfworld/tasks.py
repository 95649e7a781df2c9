"""ALFWorld games grouped for a curriculum: by task type, and optionally by kind of room.

A curriculum (:mod:`memplay.agents.curriculum`) draws the next tasks from *arms*; its
``categories`` option gives them as name -> task seeds. With ALFWorld's seeds naming games
(``games_by_seed=True``), :func:`task_categories` makes one arm per task type ("look under a
light" is four steps, "two objects" about nine) or per task type and kind of room (AI2-THOR
floor plans 1-30 are kitchens, 201-230 living rooms, 301-330 bedrooms, 401-430 bathrooms), so
a learning-progress curriculum practises what the agent is getting better at first, and the
search values those tasks teach carry to the harder ones.

    >>> games = ["t/pick_two_obj_and_place-Book-None-Desk-301/trial_1/game.tw-pddl",
    ...          "t/look_at_obj_in_light-Cd-None-DeskLamp-305/trial_2/game.tw-pddl",
    ...          "t/pick_two_obj_and_place-Mug-None-Shelf-12/trial_1/game.tw-pddl"]
    >>> task_categories(games, [0, 1, 2])
    {'look_at_obj_in_light': [1], 'pick_two_obj_and_place': [0, 2]}
    >>> task_categories(games, [0, 1, 2], by_room=True)
    {'look_at_obj_in_light/bedroom': [1], 'pick_two_obj_and_place/bedroom': [0], \
'pick_two_obj_and_place/kitchen': [2]}
"""

from __future__ import annotations

from collections.abc import Sequence

from memplay.environments.alfworld.env import floorplan_of, task_type_of
from memplay.errors import ConfigError

__all__ = ["ROOMS", "room_of", "task_categories"]

# AI2-THOR numbers its floor plans by room: kitchens 1-30, living rooms 201-230...
ROOMS = {0: "kitchen", 2: "livingroom", 3: "bedroom", 4: "bathroom"}


def room_of(game_file: str) -> str:
    """The kind of room a game is played in, from its floor plan number.

    >>> room_of("valid_seen/look_at_obj_in_light-Bowl-None-DeskLamp-308/trial_1/g.tw-pddl")
    'bedroom'
    """
    plan = floorplan_of(game_file)
    return ROOMS.get(int(plan) // 100, "unknown") if plan.isdigit() else "unknown"


def task_categories(games: Sequence[str], seeds: Sequence[int],
                    by_room: bool = False) -> dict[str, list[int]]:
    """Curriculum arms (name -> seeds, names sorted) for the ``seeds`` indexing ``games``.

    >>> task_categories(["a"], [3])
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: seed 3 is not a game index; use 0..0
    """
    arms: dict[str, list[int]] = {}
    for seed in seeds:
        if not 0 <= seed < len(games):
            raise ConfigError(f"seed {seed} is not a game index; use 0..{len(games) - 1}")
        game = games[seed]
        name = task_type_of(game) + (f"/{room_of(game)}" if by_room else "")
        arms.setdefault(name, []).append(seed)
    return dict(sorted(arms.items()))
