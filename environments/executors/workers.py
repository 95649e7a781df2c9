"""Run many environments side by side: in this process (lockstep) or one per worker process.

An agent that plays several episodes at once asks :class:`EnvWorkers` to reset or step a batch
of environments, by index. :class:`LocalEnvs` steps them one after another in this process
(today's behaviour); :class:`ProcessEnvs` keeps each environment in its own worker process, so
slow games (ALFWorld: about 2 s to load, 0.1-0.3 s a step) run in parallel with each other and,
through ``start_step``/``start_reset``, with whatever the caller does meanwhile (the LLM).

Everything that crosses the interface is JSON data: the recipe that builds an environment
(:class:`EnvRecipe`), seeds, options, actions and the results, which are Gymnasium tuples
``(obs, info)`` and ``(obs, reward, terminated, truncated, info)`` whose ``info`` went through
JSON (tuples become lists), whichever implementation produced them. A failure stays with its
environment: a call that raises comes back as an :class:`~memplay.errors.EnvironmentFault` in
that environment's slot, and a worker process that dies is restarted (its episode is lost:
reset it).

    >>> envs = LocalEnvs(EnvRecipe("FrozenLake-4x4-v0"), num_envs=2)
    >>> [info["position"] for obs, info in envs.reset_many([0, 1], seeds=[0, 1])]
    [[0, 0], [0, 0]]
    >>> obs, reward, terminated, truncated, info = envs.step_many([0], ["right"])[0]
    >>> reward, info["position"]
    (0.0, [0, 1])
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

import numpy as np

from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["EnvRecipe", "EnvResult", "EnvWorkers", "LocalEnvs", "PendingResults",
           "ProcessEnvs"]

EnvResult = tuple[Any, ...] | EnvironmentFault


@dataclass(frozen=True)
class EnvRecipe:
    """How to build one environment: a registered id and keyword arguments (JSON data).

    ``entry_point`` ("module:Class") registers ``env_id`` first where it is unknown: worker
    processes start fresh, so an id registered only in the caller's script needs it.

        >>> EnvRecipe("FrozenLake-4x4-v0", {"max_episode_steps": 5}).build().spec.max_episode_steps
        5
    """

    env_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    entry_point: str | None = None

    def build(self) -> Any:
        """Make the environment (through the registry, with its TimeLimit)."""
        from memplay.environments.registry import make, register, registry

        if self.entry_point is not None and self.env_id not in registry:
            register(self.env_id, self.entry_point)
        return make(self.env_id, **self.kwargs)

    def to_json(self) -> str:
        """The recipe as JSON text (what a worker process receives).

            >>> EnvRecipe("KuhnPoker-v0").to_json()
            '{"env_id": "KuhnPoker-v0", "kwargs": {}, "entry_point": null}'
        """
        return json.dumps({"env_id": self.env_id, "kwargs": self.kwargs,
                           "entry_point": self.entry_point})


def _plain(value: Any) -> Any:
    # numpy scalars and arrays are the only non-JSON values games put in info
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _as_json_data(result: Sequence[Any]) -> list[Any]:
    data: list[Any] = json.loads(json.dumps(list(result), default=_plain))
    return data


def _call(env: Any, op: str, args: dict[str, Any]) -> list[Any]:
    """Apply one request to an env; the result as JSON data (the same in every backend)."""
    if op == "reset":
        return _as_json_data(env.reset(seed=args.get("seed"), options=args.get("options")))
    if op == "step":
        return _as_json_data(env.step(args["action"]))
    raise ConfigError(f"unknown environment request {op!r}; use 'reset' or 'step'")


def _fault(index: int, exc: BaseException) -> EnvironmentFault:
    fault = EnvironmentFault(f"env {index}: {type(exc).__name__}: {exc}")
    fault.__cause__ = exc
    return fault


def _requests(indices: Sequence[int], op: str, values: dict[str, Sequence[Any] | None]
              ) -> list[tuple[int, dict[str, Any]]]:
    """Pair each index with its arguments; lists must match ``indices`` in length."""
    for name, column in values.items():
        if column is not None and len(column) != len(indices):
            raise ConfigError(f"{op}: {name} has {len(column)} entries for {len(indices)} "
                              "indices; pass one per index (or None)")
    return [(index, {name: (column[i] if column is not None else None)
                     for name, column in values.items()})
            for i, index in enumerate(indices)]


class PendingResults:
    """Results that are on their way; ``wait()`` returns them in the order of the request.

        >>> PendingResults(lambda: [1, 2]).wait()
        [1, 2]
    """

    def __init__(self, collect: Any) -> None:
        self._collect = collect
        self._results: list[EnvResult] | None = None

    def wait(self) -> list[EnvResult]:
        """Block until every result is in (a second call returns the same list)."""
        if self._results is None:
            self._results = self._collect()
        return self._results


class EnvWorkers(Protocol):
    """A fixed set of ``num_envs`` environments addressed by index (0..num_envs-1).

    ``start_reset``/``start_step`` send a batch and return at once; ``reset_many``/``step_many``
    are the same followed by ``wait()``. Results are JSON data, one per index, in order; a
    failure is an :class:`EnvironmentFault` in its slot.
    """

    num_envs: int

    def start_reset(self, indices: Sequence[int], seeds: Sequence[int | None] | None = None,
                    options: Sequence[dict[str, Any] | None] | None = None) -> PendingResults:
        """Begin resetting these envs."""
        ...

    def start_step(self, indices: Sequence[int], actions: Sequence[str]) -> PendingResults:
        """Begin stepping these envs, one action each."""
        ...

    def reset_many(self, indices: Sequence[int], seeds: Sequence[int | None] | None = None,
                   options: Sequence[dict[str, Any] | None] | None = None) -> list[EnvResult]:
        """Reset these envs and wait: ``[(obs, info) or EnvironmentFault, ...]``."""
        ...

    def step_many(self, indices: Sequence[int], actions: Sequence[str]) -> list[EnvResult]:
        """Step these envs and wait: ``[(obs, reward, terminated, truncated, info) or fault]``."""
        ...

    def renew(self, indices: Sequence[int]) -> None:
        """Replace these envs by fresh ones (after a fault left them in an unknown state)."""
        ...

    def close(self) -> None:
        """Release every environment (and worker)."""
        ...


class _BatchedEnvs:
    """The blocking methods and index checks shared by every implementation."""

    num_envs: int

    def _check(self, indices: Sequence[int]) -> None:
        bad = [i for i in indices if isinstance(i, bool) or not isinstance(i, int)
               or not 0 <= i < self.num_envs]
        if bad or len(set(indices)) != len(indices):
            raise ConfigError(f"indices {list(indices)!r} must be distinct ints in "
                              f"0..{self.num_envs - 1}")

    def start_reset(self, indices: Sequence[int], seeds: Sequence[int | None] | None = None,
                    options: Sequence[dict[str, Any] | None] | None = None) -> PendingResults:
        """Begin resetting these envs (see :class:`EnvWorkers`)."""
        self._check(indices)
        return self._start("reset", _requests(indices, "reset",
                                              {"seed": seeds, "options": options}))

    def start_step(self, indices: Sequence[int], actions: Sequence[str]) -> PendingResults:
        """Begin stepping these envs (see :class:`EnvWorkers`)."""
        self._check(indices)
        return self._start("step", _requests(indices, "step", {"action": actions}))

    def reset_many(self, indices: Sequence[int], seeds: Sequence[int | None] | None = None,
                   options: Sequence[dict[str, Any] | None] | None = None) -> list[EnvResult]:
        """Reset these envs and wait for the results."""
        return self.start_reset(indices, seeds, options).wait()

    def step_many(self, indices: Sequence[int], actions: Sequence[str]) -> list[EnvResult]:
        """Step these envs and wait for the results."""
        return self.start_step(indices, actions).wait()

    def _start(self, op: str, requests: list[tuple[int, dict[str, Any]]]) -> PendingResults:
        raise NotImplementedError

    def __enter__(self) -> _BatchedEnvs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every environment."""


class LocalEnvs(_BatchedEnvs):
    """All environments in this process, stepped one after another (lockstep).

        >>> envs = LocalEnvs(EnvRecipe("FrozenLake-4x4-v0"), num_envs=1)
        >>> isinstance(envs.step_many([0], ["up"])[0], EnvironmentFault)  # not reset yet
        True
    """

    def __init__(self, recipe: EnvRecipe | None, num_envs: int, *,
                 envs: Sequence[Any] | None = None,
                 factory: Callable[[], Any] | None = None) -> None:
        if envs is None:
            _check_count(num_envs)
        if recipe is None and factory is None and envs is None:
            raise ConfigError("LocalEnvs needs a recipe, a factory or the envs themselves")
        self.num_envs = num_envs
        self._build: Callable[[], Any] | None = recipe.build if recipe is not None else factory
        self.envs = list(envs) if envs is not None else [self._fresh() for _ in range(num_envs)]

    @classmethod
    def from_envs(cls, envs: Sequence[Any],
                  factory: Callable[[], Any] | None = None) -> LocalEnvs:
        """Wrap environments built elsewhere (any object with Gymnasium's reset/step);
        ``factory`` builds a replacement for :meth:`renew`.

            >>> from memplay.environments import make
            >>> LocalEnvs.from_envs([make("KuhnPoker-v0")]).num_envs
            1
        """
        return cls(None, len(envs), envs=envs, factory=factory)

    def _fresh(self) -> Any:
        if self._build is None:
            raise ConfigError("these envs were given without a factory, so none can be "
                              "rebuilt; pass factory= to LocalEnvs.from_envs")
        return self._build()

    def renew(self, indices: Sequence[int]) -> None:
        """Rebuild these envs in place (the others keep running).

            >>> envs = LocalEnvs(EnvRecipe("KuhnPoker-v0"), num_envs=2)
            >>> old = envs.envs[1]; envs.renew([1]); envs.envs[1] is old
            False
        """
        self._check(indices)
        for index in indices:
            with contextlib.suppress(Exception):  # a broken env may fail to close
                self.envs[index].close()
            self.envs[index] = self._fresh()

    def _start(self, op: str, requests: list[tuple[int, dict[str, Any]]]) -> PendingResults:
        results: list[EnvResult] = []
        for index, args in requests:
            try:
                results.append(tuple(_call(self.envs[index], op, args)))
            except Exception as exc:  # a faulty env must not stop the others
                results.append(_fault(index, exc))
        return PendingResults(lambda: results)

    def close(self) -> None:
        """Close every environment."""
        for env in self.envs:
            env.close()


def _check_count(value: object, name: str = "num_envs") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}={value!r} must be an int >= 1")


# ---- worker processes -------------------------------------------------------------------------

def _serve(conn: Connection, recipe_json: str) -> None:
    """A worker's loop: build the env, then answer JSON requests until told to close."""
    env, build_error = _build(EnvRecipe(**json.loads(recipe_json)))
    while True:
        request = json.loads(conn.recv_bytes())
        if request["op"] == "close":
            break
        reply = _answer(env, build_error, request["op"], request["args"])
        conn.send_bytes(json.dumps(reply, default=_plain).encode("utf-8"))
    if env is not None:
        env.close()


def _answer(env: Any, build_error: str | None, op: str, args: dict[str, Any]
            ) -> dict[str, Any]:
    """A worker's reply to one request: ``{"ok": result}`` or ``{"error", "traceback"}``
    (what a remote worker sends back, whatever carries it: a pipe or Ray).

        >>> _answer(None, "building X: boom", "reset", {})["error"]
        'EnvironmentFault: building X: boom'
    """
    try:
        if env is None:
            raise EnvironmentFault(build_error or "no environment")
        return {"ok": _call(env, op, args)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=8)}


def _build(recipe: EnvRecipe) -> tuple[Any, str | None]:
    """The env, or None and why it could not be built (reported on every request)."""
    try:
        return recipe.build(), None
    except Exception as exc:
        return None, f"building {recipe.env_id}: {type(exc).__name__}: {exc}"


def _from_reply(index: int, reply: dict[str, Any]) -> EnvResult:
    """A worker's reply as the caller's result: the tuple, or the fault with its traceback.

        >>> _from_reply(0, {"ok": ["obs", {}]})
        ('obs', {})
        >>> str(_from_reply(3, {"error": "ValueError: no", "traceback": ""}))
        'env 3: ValueError: no'
    """
    if "error" in reply:
        fault = EnvironmentFault(f"env {index}: {reply['error']}")
        fault.add_note(f"in the worker process:\n{reply['traceback']}")
        return fault
    return tuple(reply["ok"])


@dataclass
class _Worker:
    process: Any
    conn: Connection


class ProcessEnvs(_BatchedEnvs):
    """One environment per worker process (``spawn``); faults stay in their slot.

    Args:
        recipe: How each worker builds its environment.
        num_envs: Number of environments, hence of worker processes.
        timeout_s: A request not answered in this many seconds counts as a dead worker (it is
            killed and restarted); None waits forever.

        >>> with ProcessEnvs(EnvRecipe("FrozenLake-4x4-v0"), num_envs=2) as envs:  # doctest: +SKIP
        ...     results = envs.reset_many([0, 1], seeds=[0, 1])
    """

    def __init__(self, recipe: EnvRecipe, num_envs: int, timeout_s: float | None = None) -> None:
        _check_count(num_envs)
        if timeout_s is not None and not timeout_s > 0:
            raise ConfigError(f"timeout_s={timeout_s!r} must be positive or None")
        self.num_envs, self.recipe, self.timeout_s = num_envs, recipe, timeout_s
        self._context = multiprocessing.get_context("spawn")
        self._workers = [self._spawn() for _ in range(num_envs)]
        self._awaiting: set[int] = set()  # envs whose answer has not been read yet
        self.restarts = 0

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child, self.recipe.to_json()),
                                        daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def renew(self, indices: Sequence[int]) -> None:
        """Restart the workers of these envs with fresh environments."""
        self._check(indices)
        for index in indices:
            self._restart(index, "renewed on request")
            self._awaiting.discard(index)

    def _restart(self, index: int, why: str) -> EnvironmentFault:
        old = self._workers[index]
        if old.process.is_alive():
            old.process.kill()
        old.process.join(timeout=5)
        code = old.process.exitcode
        old.conn.close()
        self._workers[index] = self._spawn()
        self.restarts += 1
        return EnvironmentFault(f"env {index}: worker {why} (exit code {code}); it was restarted "
                                "with a fresh environment: reset it before stepping")

    def _start(self, op: str, requests: list[tuple[int, dict[str, Any]]]) -> PendingResults:
        waiting = sorted(self._awaiting.intersection(i for i, _ in requests))
        if waiting:
            raise ConfigError(f"envs {waiting} still have a request in flight; call wait() on "
                              "its PendingResults before sending them another")
        sent: dict[int, EnvResult | None] = {}
        for index, args in requests:
            message = json.dumps({"op": op, "args": args}, default=_plain).encode("utf-8")
            try:
                self._workers[index].conn.send_bytes(message)
                sent[index] = None
                self._awaiting.add(index)
            except (OSError, ValueError) as exc:  # broken pipe: the worker is gone
                sent[index] = self._restart(index, f"could not be reached ({exc})")
        order = [index for index, _ in requests]
        return PendingResults(lambda: [sent[i] if sent[i] is not None else self._receive(i)
                                       for i in order])

    def _receive(self, index: int) -> EnvResult:
        self._awaiting.discard(index)
        conn = self._workers[index].conn
        try:
            if self.timeout_s is not None and not conn.poll(self.timeout_s):
                return self._restart(index, f"did not answer within {self.timeout_s} s")
            reply = json.loads(conn.recv_bytes())
        except (EOFError, OSError) as exc:
            return self._restart(index, f"died ({type(exc).__name__})")
        return _from_reply(index, reply)

    def close(self) -> None:
        """Ask every worker to close its environment and exit (killed if it does not)."""
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):  # already gone
                worker.conn.send_bytes(b'{"op": "close"}')
        for worker in self._workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []
