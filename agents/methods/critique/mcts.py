"""Monte Carlo tree search with UCT over admissible actions (Agent-R's search step).

Text environments cannot be cloned, so every iteration reaches its node the honest way:
``env.reset(seed=task_seed)`` and replay of the node's action prefix. That costs O(depth)
steps per iteration, which is cheap for text games, and it works with any environment that
follows the TextEnv contract (``reset``/``step`` with ``info["admissible_actions"]``). The
tree assumes determinism given the seed; on a stochastic game it describes action sequences
and keeps the observation of the first visit.

One iteration: select children by UCT while every admissible action has been tried; expand
one untried action; roll out with the policy (random over admissible actions by default, or
the agent's own); back the episode return up the path. A successful rollout is kept in the
tree as a chain of nodes, so winning lines can be spliced into revision trajectories.

    >>> from memplay.agents.methods.critique.tree import ROOT
    >>> MOVES = ["left", "right"]
    >>> class Line:  # two steps right wins, one step left loses
    ...     def reset(self, *, seed=None, options=None):
    ...         self.x = 0; return "x=0", {"goal": "reach 2", "admissible_actions": MOVES}
    ...     def step(self, action):
    ...         self.x += 1 if action == "right" else -1
    ...         info = {"admissible_actions": MOVES, "success": self.x == 2}
    ...         return f"x={self.x}", float(self.x == 2), self.x in (-1, 2), False, info
    >>> tree = MCTS(Line(), MCTSConfig(iterations=30, seed=0)).search(seed=0)
    >>> tree.actions(max(tree.terminals(success=True), key=lambda n: tree.node(n)["visits"]))
    ['right', 'right']
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from memplay.agents.methods.critique.tree import ROOT, CritiqueTree
from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["MCTS", "MCTSConfig", "Policy", "SearchableEnv", "random_policy"]

Policy = Callable[[str, dict[str, Any]], str]


class SearchableEnv(Protocol):
    """The part of the TextEnv contract the search needs."""

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start the task given by ``seed``."""
        ...

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Apply one action."""
        ...


def random_policy(seed: int | None = 0) -> Policy:
    """A policy that picks uniformly among ``info["admissible_actions"]`` (seeded).

    >>> random_policy(0)("obs", {"admissible_actions": ["a"]})
    'a'
    """
    rng = random.Random(seed)

    def choose(obs: str, info: dict[str, Any]) -> str:
        actions = list(info.get("admissible_actions") or [])
        if not actions:
            raise ConfigError("random_policy needs info['admissible_actions']; the env gave none")
        return rng.choice(actions)

    return choose


@dataclass(frozen=True)
class MCTSConfig:
    """Search settings.

    Attributes:
        iterations: Number of select/expand/rollout/backup passes.
        exploration: UCT constant ``c`` in ``value + c * sqrt(ln N / n)``.
        max_depth: Deepest node the tree may grow to.
        rollout_depth: Longest rollout (steps) after the expanded node.
        seed: Seeds expansion order and the default rollout policy.
        keep_success_rollouts: Store successful rollouts as tree nodes.
        gamma: Discount per step of the episode return; below 1 makes the search prefer
            shorter winning lines (values are then on a discounted scale).

    >>> MCTSConfig(iterations=0)
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: iterations=0 must be >= 1; try 200
    """

    iterations: int = 200
    exploration: float = 1.4
    max_depth: int = 50
    rollout_depth: int = 50
    seed: int = 0
    keep_success_rollouts: bool = True
    gamma: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.gamma <= 1.0:
            raise ConfigError(f"gamma={self.gamma} must be in (0, 1]; try 1.0 or 0.95")
        if self.iterations < 1:
            raise ConfigError(f"iterations={self.iterations} must be >= 1; try 200")
        if self.exploration < 0:
            raise ConfigError(f"exploration={self.exploration} must be >= 0; try 1.4")
        if self.max_depth < 1 or self.rollout_depth < 0:
            raise ConfigError(
                f"max_depth={self.max_depth} must be >= 1 and rollout_depth="
                f"{self.rollout_depth} >= 0"
            )


@dataclass
class _Cursor:
    """Where an iteration stands: node, last observation/info, return so far, done flag."""

    node: int
    obs: str
    info: dict[str, Any]
    ret: float = 0.0
    done: bool = False
    steps: int = 0


def _success(reward: float, terminated: bool, info: dict[str, Any]) -> bool:
    # Environments report success in info once an episode ends; fall back to a positive
    # terminal reward for games that do not.
    if "success" in info:
        return bool(info["success"])
    return terminated and reward > 0


class MCTS:
    """UCT search on one environment (see the module docstring).

    Args:
        env: An environment following the TextEnv contract; it is reset many times.
        config: Search settings.
        policy: Rollout policy ``(obs, info) -> action``; default :func:`random_policy`.

    The module docstring has a runnable example.
    """

    def __init__(
        self, env: SearchableEnv, config: MCTSConfig | None = None, policy: Policy | None = None
    ) -> None:
        self.env = env
        self.config = config or MCTSConfig()
        self.policy = policy or random_policy(self.config.seed)
        self._rng = random.Random(self.config.seed)
        self._options: dict[str, Any] | None = None

    def search(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> CritiqueTree:
        """Build the tree of the task given by the reset ``seed`` (and ``options``).

        The module docstring has a runnable example.
        """
        self._options = options
        obs, info = self._reset(seed)
        tree = CritiqueTree(
            env_id=_env_id(self.env), seed=seed, goal=str(info.get("goal", "")), obs=obs,
            admissible=list(info.get("admissible_actions") or []),
        )
        for _ in range(self.config.iterations):
            self._iterate(tree)
        tree.graph.graph["iterations"] = self.config.iterations
        return tree

    def add_path(self, tree: CritiqueTree, actions: list[str]) -> int:
        """Replay ``actions`` on the tree's task, add the nodes the tree lacks, back the
        episode return up the path and return its last node.

        This puts a path the search did not play (the agent's own failed episode) into
        the tree, so its first bad step can be judged against the searched siblings.
        Actions after the episode ended are ignored.

        >>> class Coin:
        ...     def reset(self, *, seed=None, options=None):
        ...         return "toss", {"admissible_actions": ["heads", "tails"]}
        ...     def step(self, action):
        ...         return action, float(action == "heads"), True, False, {}
        >>> search = MCTS(Coin(), MCTSConfig(iterations=1))
        >>> tree = search.search(seed=0)
        >>> tree.node(search.add_path(tree, ["tails"]))["action"]
        'tails'
        """
        self._options = None
        obs, info = self._reset(tree.seed)
        cursor = _Cursor(ROOT, obs, info, done=bool(tree.node(ROOT)["terminal"]))
        path = [ROOT]
        for action in actions:
            if cursor.done:
                break
            reward, terminated, done = self._step(cursor, action)
            child = tree.child(cursor.node, action)
            cursor.node = child if child is not None else tree.add_child(
                cursor.node, action, obs=cursor.obs, reward=reward, terminal=done,
                success=done and _success(reward, terminated, cursor.info),
                admissible=list(cursor.info.get("admissible_actions") or []),
            )
            path.append(cursor.node)
        tree.backup(path, cursor.ret)
        return cursor.node

    def _reset(self, seed: int | None) -> tuple[str, dict[str, Any]]:
        try:
            return self.env.reset(seed=seed, options=self._options)
        except Exception as exc:  # any env bug: report which task failed
            raise EnvironmentFault(f"reset(seed={seed}) failed during MCTS: {exc}") from exc

    def _step(self, cursor: _Cursor, action: str) -> tuple[float, bool, bool]:
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
        except Exception as exc:
            raise EnvironmentFault(f"step({action!r}) failed during MCTS: {exc}") from exc
        cursor.obs, cursor.info = obs, info
        cursor.ret += self.config.gamma**cursor.steps * float(reward)
        cursor.steps += 1
        cursor.done = bool(terminated or truncated)
        return float(reward), bool(terminated), cursor.done

    def _iterate(self, tree: CritiqueTree) -> None:
        obs, info = self._reset(tree.seed)
        cursor = _Cursor(ROOT, obs, info, done=bool(tree.node(ROOT)["terminal"]))
        path = [ROOT]
        # Descend while the node is fully expanded; stop at the first one with untried actions.
        while not (cursor.done or self._untried(tree, cursor.node)) and tree.children(cursor.node):
            cursor.node = self._select(tree, cursor.node)
            self._step(cursor, str(tree.node(cursor.node)["action"]))
            path.append(cursor.node)
        if not cursor.done and tree.node(cursor.node)["depth"] < self.config.max_depth:
            path.append(self._expand(tree, cursor))
        if not cursor.done:
            path.extend(self._rollout(tree, cursor))
        tree.backup(path, cursor.ret)

    def _untried(self, tree: CritiqueTree, node: int) -> list[str]:
        attrs = tree.node(node)
        if attrs["terminal"] or attrs["depth"] >= self.config.max_depth:
            return []
        return [a for a in attrs["admissible"] if tree.child(node, a) is None]

    def _select(self, tree: CritiqueTree, node: int) -> int:
        log_n = math.log(max(tree.node(node)["visits"], 1))

        def uct(child: int) -> float:
            attrs = tree.node(child)
            bonus = self.config.exploration * math.sqrt(log_n / max(attrs["visits"], 1))
            return float(attrs["value"]) + bonus

        return max(tree.children(node), key=uct)

    def _expand(self, tree: CritiqueTree, cursor: _Cursor) -> int:
        untried = self._untried(tree, cursor.node)
        if not untried:
            raise ConfigError(
                f"no admissible actions at node {cursor.node} of {tree.env_id or 'the env'}; "
                "MCTS needs info['admissible_actions'] from reset and step"
            )
        action = self._rng.choice(untried)
        reward, terminated, done = self._step(cursor, action)
        cursor.node = tree.add_child(
            cursor.node, action, obs=cursor.obs, reward=reward, terminal=done,
            success=done and _success(reward, terminated, cursor.info),
            admissible=list(cursor.info.get("admissible_actions") or []),
        )
        return cursor.node

    def _rollout(self, tree: CritiqueTree, cursor: _Cursor) -> list[int]:
        """Play the policy to the end; keep the steps as nodes only if the rollout won."""
        steps: list[tuple[str, str, float, bool, bool, list[str]]] = []
        success = False
        while not cursor.done and len(steps) < self.config.rollout_depth:
            action = self.policy(cursor.obs, cursor.info)
            reward, terminated, done = self._step(cursor, action)
            success = done and _success(reward, terminated, cursor.info)
            admissible = list(cursor.info.get("admissible_actions") or [])
            steps.append((action, cursor.obs, reward, done, success, admissible))
        if not (success and self.config.keep_success_rollouts):
            return []
        return self._graft(tree, cursor.node, steps)

    def _graft(self, tree: CritiqueTree, node: int, steps: list[Any]) -> list[int]:
        added: list[int] = []
        for action, obs, reward, done, success, admissible in steps:
            existing = tree.child(node, action)
            node = existing if existing is not None else tree.add_child(
                node, action, obs=obs, reward=reward, terminal=done, success=success,
                admissible=admissible,
            )
            added.append(node)
        return added


def _env_id(env: Any) -> str:
    # TextEnv exposes spec.id when made through the registry; plain test envs have no spec.
    spec = getattr(env, "spec", None)
    return str(getattr(spec, "id", "") or type(env).__name__)
