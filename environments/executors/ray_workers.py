"""Environments on a Ray cluster: worker actors, each holding a few environments.

:class:`RayEnvs` is the :class:`~memplay.environments.executors.workers.EnvWorkers` of a run
that has outgrown one machine. Environment ``i`` lives in actor ``i // envs_per_actor``; a
batch sends one call to each actor concerned, and the actors step their environments while the
caller (the agent loop: LLM, memory) goes on. What crosses the wire is the same JSON data as
with worker processes (:class:`~memplay.environments.executors.workers.EnvRecipe`, actions,
results), so results are the very tuples
:class:`~memplay.environments.executors.workers.LocalEnvs` gives.

Faults stay in their slot. A call that raises comes back as an
:class:`~memplay.errors.EnvironmentFault`; an actor that dies (or does not answer within
``timeout_s``) is killed and replaced by a fresh one, and every environment it held loses its
episode: the envs in the batch get a fault now, and each of its envs answers "reset before
stepping" until it is reset.

``ray`` is imported only when a :class:`RayEnvs` is built, so ``import memplay`` stays light.

    >>> actors_for(num_envs=5, envs_per_actor=2)
    [[0, 1], [2, 3], [4]]
    >>> with RayEnvs(EnvRecipe("FrozenLake-4x4-v0"), num_envs=2) as envs:  # doctest: +SKIP
    ...     results = envs.reset_many([0, 1], seeds=[0, 1])
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from typing import Any

from memplay.environments.executors.workers import (
    EnvRecipe,
    EnvResult,
    PendingResults,
    _answer,
    _BatchedEnvs,
    _build,
    _check_count,
    _from_reply,
    _plain,
)
from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["RayEnvs", "actors_for", "connect_ray", "import_ray"]

INSTALL_HINT = "pip install 'memplay[ray]'"
STARTUP_GRACE_S = 120.0
"""Extra seconds a new actor gets for its first answer (a worker starts, imports memplay and
builds its envs: ALFWorld takes seconds), on top of ``timeout_s``."""


def import_ray() -> Any:
    """The ``ray`` module, or a ConfigError that says how to install it.

        >>> import_ray().__name__  # doctest: +SKIP
        'ray'
    """
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(f"running environments on Ray needs the ray package ({exc}); "
                          f"{INSTALL_HINT}") from None
    return ray


def connect_ray(address: str | None) -> bool:
    """Join the Ray cluster at ``address`` ("auto": the one ``ray start`` runs on this machine;
    "ray://host:10001": a remote one; None: start a local instance), unless this process is
    already connected. Returns True when this call connected (the caller disconnects).

        >>> connect_ray(None)  # doctest: +SKIP
        True
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, include_dashboard=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"could not join the Ray cluster at {address!r} ({type(exc).__name__}: {exc}); "
            "start one with `ray start --head` (then use 'auto'), give its 'ray://HOST:10001' "
            "address, or pass None to start a local instance") from None
    return True


def actors_for(num_envs: int, envs_per_actor: int) -> list[list[int]]:
    """Which environment indices each actor holds: consecutive groups of ``envs_per_actor``.

        >>> actors_for(num_envs=3, envs_per_actor=1)
        [[0], [1], [2]]
    """
    return [list(range(start, min(start + envs_per_actor, num_envs)))
            for start in range(0, num_envs, envs_per_actor)]


class _EnvHost:
    """The actor's body: a few environments built from one recipe, answering JSON requests.

        >>> host = _EnvHost(EnvRecipe("FrozenLake-4x4-v0").to_json(), 2)
        >>> json.loads(host.handle('[[1, "reset", {"seed": 0, "options": null}]]'))[0]["ok"][0][:9]
        'You stand'
    """

    def __init__(self, recipe_json: str, count: int) -> None:
        self._recipe = EnvRecipe(**json.loads(recipe_json))
        self._envs = [_build(self._recipe) for _ in range(count)]

    def handle(self, requests_json: str) -> str:
        """Answer ``[[slot, op, args], ...]`` with one reply per request (JSON text)."""
        replies = [_answer(*self._envs[slot], op, args)
                   for slot, op, args in json.loads(requests_json)]
        return json.dumps(replies, default=_plain)

    def renew(self, slots: list[int]) -> None:
        """Close these environments and build fresh ones."""
        for slot in slots:
            self._close(slot)
            self._envs[slot] = _build(self._recipe)

    def close(self) -> None:
        """Close every environment (the actor is killed afterwards)."""
        for slot in range(len(self._envs)):
            self._close(slot)

    def _close(self, slot: int) -> None:
        env = self._envs[slot][0]
        if env is not None:
            with contextlib.suppress(Exception):  # a broken env may fail to close
                env.close()


class RayEnvs(_BatchedEnvs):
    """``num_envs`` environments in Ray actors, ``envs_per_actor`` to an actor.

    Args:
        recipe: How each actor builds its environments (its module must be importable on
            every node: install memplay there too).
        num_envs: Number of environments.
        envs_per_actor: Environments each actor holds and steps one after another.
        address: The cluster to join (see :func:`connect_ray`); ignored when this process
            is already connected (``ray.init`` was called).
        timeout_s: An actor that does not answer a batch in this many seconds is killed and
            replaced (its first answer gets :data:`STARTUP_GRACE_S` more); None waits forever.
        actor_options: Passed to the actor's ``.options()`` (e.g. ``{"num_cpus": 1}`` to
            reserve a core per actor; by default an actor reserves none while it runs).

        >>> RayEnvs(EnvRecipe("KuhnPoker-v0"), num_envs=0)
        Traceback (most recent call last):
        ...
        memplay.errors.ConfigError: num_envs=0 must be an int >= 1
    """

    def __init__(self, recipe: EnvRecipe, num_envs: int, *, envs_per_actor: int = 1,
                 address: str | None = None, timeout_s: float | None = None,
                 actor_options: dict[str, Any] | None = None) -> None:
        _check_count(num_envs)
        _check_count(envs_per_actor, "envs_per_actor")
        if timeout_s is not None and not timeout_s > 0:
            raise ConfigError(f"timeout_s={timeout_s!r} must be positive or None")
        self.num_envs, self.recipe, self.timeout_s = num_envs, recipe, timeout_s
        self.envs_per_actor = envs_per_actor
        self._ray = import_ray()
        self._owns_connection = connect_ray(address)
        self._host = self._ray.remote(_EnvHost).options(**(actor_options or {}))
        self._groups = actors_for(num_envs, envs_per_actor)
        self._actors = [self._spawn(group) for group in self._groups]
        self._answered: set[int] = set()  # actors that answered once (started up)
        self._lost: set[int] = set()  # envs whose actor was replaced and not reset since
        self.restarts = 0

    def _spawn(self, group: list[int]) -> Any:
        return self._host.remote(self.recipe.to_json(), len(group))

    def _place(self, index: int) -> tuple[int, int]:
        """(actor, slot inside the actor) of environment ``index``."""
        return divmod(index, self.envs_per_actor)

    def _start(self, op: str, requests: list[tuple[int, dict[str, Any]]]) -> PendingResults:
        ready: dict[int, EnvResult] = {}
        by_actor: dict[int, list[tuple[int, int, dict[str, Any]]]] = {}
        for index, args in requests:
            if op == "step" and index in self._lost:
                ready[index] = self._lost_fault(index, "was restarted")
                continue
            self._lost.discard(index)
            actor, slot = self._place(index)
            by_actor.setdefault(actor, []).append((index, slot, args))
        calls = {actor: self._actors[actor].handle.remote(
            json.dumps([[slot, op, args] for _, slot, args in items], default=_plain))
            for actor, items in by_actor.items()}
        order = [index for index, _ in requests]

        def collect() -> list[EnvResult]:
            for actor, items in by_actor.items():
                ready.update(self._collect(actor, calls[actor], [i for i, _, _ in items]))
            return [ready[index] for index in order]
        return PendingResults(collect)

    def _collect(self, actor: int, call: Any, indices: list[int]) -> dict[int, EnvResult]:
        """The results of one actor's call; a dead or silent actor is replaced."""
        exceptions = self._ray.exceptions
        try:
            replies = json.loads(self._ray.get(call, timeout=self._timeout(actor)))
        except exceptions.GetTimeoutError:
            return self._restart(actor, f"did not answer within {self.timeout_s} s", indices)
        except exceptions.RayError as exc:  # RayActorError: the actor (or its node) died
            return self._restart(actor, f"died ({type(exc).__name__})", indices)
        self._answered.add(actor)
        return {index: _from_reply(index, reply) for index, reply in zip(indices, replies)}

    def _timeout(self, actor: int) -> float | None:
        if self.timeout_s is None or actor in self._answered:
            return self.timeout_s
        return self.timeout_s + STARTUP_GRACE_S

    def _restart(self, actor: int, why: str, indices: Sequence[int]) -> dict[int, EnvResult]:
        """Replace ``actor`` by a fresh one; all its envs lose their episodes."""
        with contextlib.suppress(Exception):  # it may be gone already
            self._ray.kill(self._actors[actor], no_restart=True)
        self._actors[actor] = self._spawn(self._groups[actor])
        self._answered.discard(actor)
        self.restarts += 1
        self._lost.update(self._groups[actor])
        return {index: self._lost_fault(index, why) for index in indices}

    def _lost_fault(self, index: int, why: str) -> EnvironmentFault:
        return EnvironmentFault(f"env {index}: its Ray actor {why}; it was restarted with fresh "
                                "environments: reset it before stepping")

    def renew(self, indices: Sequence[int]) -> None:
        """Replace these envs by fresh ones (reset them before stepping)."""
        self._check(indices)
        by_actor: dict[int, list[int]] = {}
        for index in indices:
            actor, slot = self._place(index)
            by_actor.setdefault(actor, []).append(slot)
        calls = {actor: self._actors[actor].renew.remote(slots)
                 for actor, slots in by_actor.items()}
        for actor, call in calls.items():
            try:
                self._ray.get(call, timeout=self._timeout(actor))
            except self._ray.exceptions.RayError as exc:  # dead or silent: a new actor
                self._restart(actor, f"failed to renew ({type(exc).__name__})", [])
        self._lost.update(indices)

    def kill_actor(self, index: int, wait_s: float = 30.0) -> None:
        """A fault drill: kill the actor that holds env ``index`` and return once Ray reports
        it gone (a kill is asynchronous: a call sent before it lands is still answered). The
        next call on its envs finds it dead and replaces it, as after a real crash."""
        self._check([index])
        actor = self._actors[self._place(index)[0]]
        self._ray.kill(actor, no_restart=True)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                self._ray.get(actor.__ray_ready__.remote(), timeout=wait_s)
            except self._ray.exceptions.RayActorError:
                return
            time.sleep(0.05)
        raise EnvironmentFault(f"env {index}: its Ray actor still answers {wait_s} s after "
                               "ray.kill")

    def close(self) -> None:
        """Close every environment, end the actors, and disconnect from Ray when this
        object connected."""
        actors, self._actors = self._actors, []
        closing = [actor.close.remote() for actor in actors]
        for call in closing:
            with contextlib.suppress(Exception):  # a dead actor cannot close its envs
                self._ray.get(call, timeout=10)
        for actor in actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor, no_restart=True)
        if self._owns_connection:
            self._owns_connection = False
            self._ray.shutdown()
