"""Agent-R critique memory for the ``memrl+critique`` variant.

After a batch, every failed task (reset seed) without a search tree gets one: MCTS over a
fresh environment, then the agent's own failed path is added to the tree, its first bad
step found (by node values) and a revision trajectory spliced: the bad prefix, a short
thought, and the winning sibling's continuation (see :mod:`.judges`).
The agent then learns from it twice:

- step memory is taught the revision's winning path as a successful episode, so Q-values
  of those (state, action) pairs rise before the agent ever plays them;
- the ``build_prompt`` node quotes the lesson for the current task (at most
  ``reflection.critique_chars`` characters).

The first bad step is estimated from values of random rollouts, so on sparse rewards it is
noisy (a move the search merely failed to win through may be blamed); the winning
continuation, though, was really played to a success in the environment.

Rollouts choose through the agent's policy (:mod:`memplay.agents.policy`) with step memory's
values as the only scores (:func:`memory_policy`), never the LLM: the
embedded 135M model needs ~0.23 s per decision on a CPU, so 200 iterations of ~10 steps
would take minutes per tree instead of a fraction of a second, and a small model's
rollouts are hardly better than random. Revision thoughts are templated for the same
reason (the LLM's are rarely usable; see ThoughtWriter).

Trees are node-link JSON under ``<memory>/critiques/trees/`` and revisions are lines of
``<memory>/critiques/revisions.jsonl``, saved with the run's memory.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.environments import make
    >>> from memplay.types import Step, Trajectory
    >>> cfg = AgentConfig(variant="memrl+critique", max_steps=10)
    >>> critic = AgentCritic(None, cfg, lambda: make(cfg.env_id))
    >>> lost = Trajectory(env_id=cfg.env_id, seed=0, steps=[
    ...     Step(observation="start", action="right"), Step(observation="r", action="down")])
    >>> revision = critic.learn([lost])[0]
    >>> revision.good_steps[-1].obs.endswith("You are at row 3, column 3.")  # a verified win
    True
    >>> critic.prompt_text("", "", seed=0).startswith("A past episode of this task")
    True
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from memplay.agents.config import AgentConfig
from memplay.agents.context import Env, StateKey, StepMemoryLike, default_state_key
from memplay.agents.learning import step_returns
from memplay.agents.methods.critique.judges import ValueJudge, build_revision
from memplay.agents.methods.critique.mcts import MCTS, MCTSConfig, Policy, random_policy
from memplay.agents.methods.critique.store import CritiqueStore, relevance
from memplay.agents.methods.critique.tree import CritiqueTree
from memplay.agents.methods.registry import ReflectionSetup
from memplay.agents.policy import PolicyConfig, choose_action, combine_scores
from memplay.agents.prompts import clip
from memplay.agents.state import action_keys
from memplay.errors import ConfigError
from memplay.trainers.revisions import RevisionTrajectory
from memplay.types import Trajectory

__all__ = ["AgentCritic", "build_critique", "first_bad_step", "lesson_text", "memory_policy"]

_TREE_SEED = re.compile(r"-seed(\d+)-\d+$")


def first_bad_step(tree: CritiqueTree, path: list[int]) -> int | None:
    """Index in ``path`` of the first bad step: by values relative to the best return
    (dense wins, small maps), else relative to the winning sibling (sparse wins, where
    even a winning branch's mean return stays low, e.g. FrozenLake 8x8).

    >>> t = CritiqueTree(obs="s")
    >>> bad = t.add_child(0, "hole", obs="fell", terminal=True)
    >>> good = t.add_child(0, "safe", obs="won", reward=1.0, terminal=True, success=True)
    >>> t.backup([0, bad], 0.0); t.backup([0, good], 1.0)
    >>> first_bad_step(t, [0, bad])
    1
    """
    index = ValueJudge()(tree, path)
    return index if index is not None else ValueJudge(compare="sibling")(tree, path)


def lesson_text(revision: RevisionTrajectory, max_moves: int = 8) -> str:
    """The lesson of a revision in one line of moves (no board dumps: small contexts).

    >>> from memplay.trainers.revisions import Turn
    >>> r = RevisionTrajectory(start_obs="s", thought="t", bad_steps=[
    ...     Turn(action="down", obs="x"), Turn(action="left", obs="hole")],
    ...     good_steps=[Turn(action="right", obs="y"), Turn(action="down", obs="won")])
    >>> lesson_text(r)[-66:]
    "'left' was the mistake. The winning moves from there: right, down."
    """
    prefix = ", ".join(revision.bad_actions[:-1][-max_moves:]) or "none (at the start)"
    good = ", ".join(revision.good_actions[:max_moves])
    more = ", ..." if len(revision.good_actions) > max_moves else ""
    return (f"A past episode of this task failed: after the moves {prefix}, "
            f"'{revision.bad_action}' was the mistake. The winning moves from there: "
            f"{good}{more}.")


def memory_policy(env: Env, step_memory: StepMemoryLike, state_key: StateKey = default_state_key,
                  seed: int = 0, temperature: float = 0.25, use_view: bool = True) -> Policy:
    """A rollout policy biased by step memory: softmax over remembered Q (unknown: 0).

    Moves the agent already paid for (into a hole: Q=-1, into a wall: -0.5) become rare,
    so random rollouts, which win well under 1% of the time on FrozenLake 4x4 within 12
    steps, find winning lines far more often. Values are looked up with the agent's keys
    (``use_view``: the portable view's, see :func:`~memplay.agents.nodes.action_keys`) once
    per state and cached for the whole search.

    >>> from memplay.memory import HashEmbedder
    >>> from memplay.memory.step_memory import StepMemory
    >>> steps = StepMemory(HashEmbedder(16)); steps.update(["s"], ["hole"], [-1.0])
    >>> pick = memory_policy(None, steps, lambda env, obs, info: obs, temperature=0.01)
    >>> pick("s", {"admissible_actions": ["hole", "ice"]})
    'ice'
    """
    rng = random.Random(seed)
    # Memory's values are the only scores: Q itself (weight 1), no LLM, no novelty bonus.
    policy = PolicyConfig(llm_weight=0.0, prior_weight=1.0, exploration=0.0,
                          temperature=temperature)
    cache: dict[str, dict[str, float]] = {}

    def choose(obs: str, info: dict[str, Any]) -> str:
        actions = list(info.get("admissible_actions") or [])
        if not actions:
            return random_policy(seed)(obs, info)
        state = state_key(env, obs, info)
        if state not in cache:
            keys = action_keys(state, info.get("view"), actions, use_view)
            values = step_memory.estimate([keys])[0]
            cache[state] = combine_scores({a: 0.0 for a in actions}, values, policy)
        return choose_action(cache[state], temperature, rng)

    return choose


class _Horizon:
    """Truncate after ``limit`` steps, so searched lines fit the agent's step budget."""

    def __init__(self, env: Env, limit: int) -> None:
        self.env, self.limit, self.steps = env, limit, 0
        self.spec = getattr(env, "spec", None)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        self.steps = 0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        return obs, reward, terminated, truncated or self.steps >= self.limit, info


class AgentCritic:
    """Critique trees and revisions of one agent (see the module docstring).

    Args:
        directory: Where trees and revisions live (``None``: in memory only).
        config: The agent's config (``reflection``, ``max_steps``, ``memory``, ``seed``).
        env_factory: Builds a fresh environment for the search (never a running one).
        state_key: How step memory names a state (must match the agent's).
        refresh_after: Failures of a task after its last tree before it is searched
            again (with another search seed); a fresh tree may teach another lesson.
    """

    def __init__(self, directory: str | Path | None, config: AgentConfig,
                 env_factory: Callable[[], Env], state_key: StateKey = default_state_key,
                 refresh_after: int = 4) -> None:
        self.store = CritiqueStore(directory)
        self.config = config
        self.env_factory = env_factory
        self.state_key = state_key
        self.refresh_after = refresh_after
        self.faults = 0
        self._trees: dict[int | None, int] = {}  # task seed -> trees searched for it
        self._failures: dict[int | None, int] = {}  # task seed -> failures since its tree
        for tree_id in self.store.tree_ids():  # trees of an earlier run in this memory
            match = _TREE_SEED.search(tree_id)
            seed = int(match.group(1)) if match else None
            self._trees[seed] = self._trees.get(seed, 0) + 1

    def _due(self, seed: int | None) -> bool:
        """Count a failure of task ``seed``; True when it should be searched now."""
        self._failures[seed] = self._failures.get(seed, 0) + 1
        return seed not in self._trees or self._failures[seed] >= self.refresh_after

    tag = "critique"

    def learn(self, trajectories: Sequence[Trajectory],
              step_memory: StepMemoryLike | None = None) -> list[RevisionTrajectory]:
        """Critique every failed trajectory whose task is due; teach ``step_memory`` the
        winning paths. Successes are skipped. Environment faults during a search are counted
        in ``faults`` and skip that task (the run goes on). Returns the new revisions.
        """
        found = []
        for trajectory in trajectories:
            if trajectory.success or not trajectory.steps or not self._due(trajectory.seed):
                continue
            try:
                revision = self.critique(trajectory, step_memory)
                if revision is not None and step_memory is not None:
                    self.teach(revision, step_memory)
            except Exception:  # any env crash (as in the nodes) is counted, not fatal
                self.faults += 1
                continue
            if revision is not None:
                found.append(revision)
        return found

    def critique(self, trajectory: Trajectory, step_memory: StepMemoryLike | None = None
                 ) -> RevisionTrajectory | None:
        """Search a tree for the trajectory's task, add its path, store tree and revision.

        Rollouts follow :func:`memory_policy` when ``step_memory`` is given, else are random.
        """
        seed, cfg = trajectory.seed, self.config
        env = self.env_factory()
        rollout_seed = cfg.seed + (seed or 0) + 7919 * self._n(seed)
        policy = random_policy(rollout_seed) if step_memory is None else \
            memory_policy(env, step_memory, self.state_key, rollout_seed,
                          use_view=cfg.memory.step_keys == "view")
        search = MCTS(
            _Horizon(env, cfg.max_steps),
            MCTSConfig(iterations=cfg.reflection.critique_iterations, max_depth=cfg.max_steps,
                       rollout_depth=cfg.max_steps, seed=rollout_seed), policy=policy)
        try:
            tree = search.search(seed=seed)
            leaf = search.add_path(tree, trajectory.actions)
        finally:
            getattr(env, "close", lambda: None)()
        tree.graph.graph["env_id"] = cfg.env_id  # the env may be a wrapper without a spec
        self.store.save_tree(tree)
        self._trees[seed], self._failures[seed] = self._n(seed) + 1, 0
        revision = build_revision(tree, leaf, first_bad_step)
        if revision is not None:
            self.store.add_revisions([revision])
        return revision

    def _n(self, seed: int | None) -> int:
        return self._trees.get(seed, 0)

    def teach(self, revision: RevisionTrajectory, step_memory: StepMemoryLike) -> None:
        """Replay the revision's winning path (bad prefix without the bad step, then the
        good continuation) and update step memory as if the agent had won with it."""
        actions = revision.bad_actions[:-1] + revision.good_actions
        states, keys = self._replay(revision.seed, actions)
        # No novelty bonus: these states were found by search, not explored by the agent.
        mem = self.config.memory.model_copy(update={"novelty": 0.0})
        returns = step_returns(states, [0] * len(states), success=True, truncated=False,
                               cfg=mem)
        step_memory.update([c for _, c in keys], [k for k, _ in keys], returns)

    def _replay(self, seed: int | None, actions: list[str]
                ) -> tuple[list[str], list[tuple[str, str]]]:
        """The state before each action, and the step-memory key the action is filed under."""
        env = self.env_factory()
        obs, info = env.reset(seed=seed)
        use_view = self.config.memory.step_keys == "view"
        states, keys = [], []
        for action in actions:
            states.append(self.state_key(env, obs, info))
            keys.append(action_keys(states[-1], info.get("view"), [action], use_view)[action])
            obs, _, _, _, info = env.step(action)
        getattr(env, "close", lambda: None)()
        return states, keys

    def prompt_text(self, goal: str, observation: str, seed: int | None = None) -> str:
        """The most relevant lesson for a task (same seed first), cut to
        ``reflection.critique_chars``; ``""`` when there is none."""
        env_id = self.config.env_id
        pool = [r for r in self.store.revisions if r.env_id in (env_id, "")]
        if not pool:
            return ""

        def score(r: RevisionTrajectory) -> float:
            return relevance(r, goal, observation) + (3.0 if r.seed == seed else 0.0)

        best = max(reversed(pool), key=score)  # newest first among equals
        return clip(lesson_text(best), self.config.reflection.critique_chars)


def build_critique(setup: ReflectionSetup) -> AgentCritic:
    """The ``critique`` reflection of the registry: trees under ``<memory>/critiques``.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> from memplay.environments import make
    >>> cfg = AgentConfig(variant="critique")
    >>> build_critique(ReflectionSetup(None, cfg, ScriptedLLM(), lambda: make(cfg.env_id))).tag
    'critique'
    """
    if setup.env_factory is None:
        raise ConfigError("the critique reflection searches fresh environments; pass "
                          "env_factory in its ReflectionSetup")
    return AgentCritic(setup.folder("critiques"), setup.config, setup.env_factory,
                       setup.state_key)
