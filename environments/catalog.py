"""The built-in environment ids (registered when ``memplay.environments`` is imported).

Step limits are sized to a few times the optimum, so that a small model's episodes stay short:
4x4 FrozenLake needs 6 moves and gets 30, 8x8 needs 14 and gets 100. The random-map ids draw a
new map from every reset seed (``size`` and ``p``, the chance a cell is frozen, are options);
Sokoban-gen-v0 draws a new solvable level (``height``, ``width``, ``num_boxes``, ``max_walls``);
TextWorld-gen-v0 generates a text game (``rooms``, ``objects``, ``quest_length``) and
TaskSpace-v0 puts several such generators (arms) behind one env, the seed naming arm and
instance (what curricula choose among).
``memplay.environments.task_sets.benchmark_split`` picks train and held-out seeds whose maps
never coincide.

    >>> from memplay.environments import list_envs
    >>> "Sokoban-v0" in list_envs()
    True
"""

from __future__ import annotations

from memplay.environments.registry import register

__all__ = ["register_builtin_envs"]

def register_builtin_envs() -> None:
    """Register every built-in id (idempotent).

    >>> register_builtin_envs()
    """
    lake = "memplay.environments.frozenlake.env:FrozenLakeEnv"
    register("FrozenLake-4x4-v0", lake, 30, {"map_name": "4x4", "is_slippery": False})
    register("FrozenLake-8x8-v0", lake, 100, {"map_name": "8x8", "is_slippery": False})
    register("FrozenLakeSlippery-4x4-v0", lake, 100, {"map_name": "4x4", "is_slippery": True})
    register("FrozenLakeSlippery-8x8-v0", lake, 200, {"map_name": "8x8", "is_slippery": True})
    register("FrozenLake-random-v0", lake, 30, {"random_map": True, "size": 4})
    register("FrozenLake-random-8x8-v0", lake, 100, {"random_map": True, "size": 8})
    sokoban = "memplay.environments.sokoban.env:SokobanEnv"
    register("Sokoban-v0", sokoban, 60, {"generate": False})
    register("Sokoban-gen-v0", sokoban, 60, {"generate": True})
    register("Minesweeper-v0", "memplay.environments.minesweeper.env:MinesweeperEnv", 60, {})
    register("TicTacToe-v0", "memplay.environments.two_player.tictactoe:TicTacToeEnv", 20, {})
    register("KuhnPoker-v0", "memplay.environments.two_player.kuhn:KuhnPokerEnv", 10, {})
    register("LeducPoker-v0", "memplay.environments.two_player.leduc:LeducPokerEnv", 20, {})
    register("ALFWorld-v0", "memplay.environments.alfworld.env:ALFWorldEnv", 50, {})
    register("TextWorld-gen-v0", "memplay.environments.textworld.env:TextWorldGenEnv", 50, {})
    register("TaskSpace-v0", "memplay.environments.task_space:TaskSpaceEnv", 30, {})
