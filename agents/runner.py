"""The episode runner: epochs over a task set, environments in lockstep, resumable.

Episode ``e`` of a run is task ``tasks[e % len(tasks)]`` in epoch ``e // len(tasks)``, unless
a curriculum (``config.curriculum``, :mod:`memplay.agents.curriculum`) chooses each batch's
tasks instead; the number of episodes and the epochs stay the same.
Finished episodes are appended to ``episodes.jsonl`` / ``trajectories.jsonl`` as they end;
a restarted run skips every episode already there (memory is reloaded by whoever builds
the context, see :mod:`memplay.agents.agent`).

    >>> from memplay.agents.config import AgentConfig
    >>> [(e.episode, e.epoch, e.seed) for e in schedule(AgentConfig(tasks=[7, 8], epochs=2))]
    [(0, 0, 7), (1, 0, 8), (2, 1, 7), (3, 1, 8)]
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.curriculum.base import Planned
from memplay.agents.curriculum.log import Curriculum
from memplay.agents.graph import build_agent_graph
from memplay.agents.metrics import compute_metrics, plot_learning_curves
from memplay.agents.progress import RunProgress
from memplay.agents.run_files import RunFiles
from memplay.agents.state import Slot, initial_state
from memplay.errors import LLMError
from memplay.memory.persistence import DirectoryLock

__all__ = ["Planned", "RunResult", "dump_run_config", "public_llm_kwargs", "run_episodes",
           "schedule"]

log = logging.getLogger(__name__)

# Words that mark an llm_kwargs entry as a secret (matched against the parts of its name,
# so ``max_prompt_tokens`` is kept while ``api_key``, ``hf_token`` or ``password`` are not).
_SECRET_WORDS = {"key", "apikey", "token", "password", "passwd", "secret", "credential",
                 "credentials", "auth", "authorization", "bearer", "cookie"}
_NAME_PARTS = re.compile(r"[^a-z0-9]+")


@dataclass
class RunResult:
    """What a run produced: its directory and metrics (see :func:`compute_metrics`)."""

    run_dir: Path
    metrics: dict[str, Any]

    @property
    def last_epoch_success(self) -> float | None:
        """Success rate of the last epoch that has results."""
        return self.metrics["last_epoch_success"]

    @property
    def success_per_epoch(self) -> list[float | None]:
        """Success rate of each epoch (None when it has no results yet)."""
        return list(self.metrics["success_per_epoch"])

    @property
    def errored(self) -> int:
        """How many episodes an environment or LLM fault ended (they count as failures)."""
        return int(self.metrics.get("errored") or 0)

    @property
    def errors(self) -> list[tuple[str, int]]:
        """The most frequent distinct error messages of errored episodes, with counts."""
        return [(str(m), int(n)) for m, n in self.metrics.get("error_messages") or []]


def schedule(config: AgentConfig) -> list[Planned]:
    """Every episode of the run, in order."""
    n = len(config.tasks)
    return [Planned(e, e // n, config.tasks[e % n]) for e in range(n * config.epochs)]


def _is_secret(name: str) -> bool:
    parts = _NAME_PARTS.split(name.lower())
    # "api_key_env" names the variable holding the key, not the key: it is kept
    return parts[-1] != "env" and any(part in _SECRET_WORDS for part in parts)


def public_llm_kwargs(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``kwargs`` without secrets (at any depth), and the dotted names of what was dropped.

    >>> kept, dropped = public_llm_kwargs({"api_key": "sk-1", "api_key_env": "K",
    ...     "max_prompt_tokens": 512, "headers": {"Authorization": "Bearer x"}})
    >>> kept
    {'api_key_env': 'K', 'max_prompt_tokens': 512, 'headers': {}}
    >>> dropped
    ['api_key', 'headers.Authorization']
    """
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in kwargs.items():
        if _is_secret(str(name)):
            dropped.append(str(name))
        elif isinstance(value, Mapping):
            kept[name], inner = public_llm_kwargs(value)
            dropped += [f"{name}.{part}" for part in inner]
        else:
            kept[name] = value
    return kept, dropped


def dump_run_config(config: AgentConfig, path: str | Path) -> None:
    """Write the run's ``config.yaml`` atomically, with no secret in it.

    Secret-looking ``llm_kwargs`` (``api_key``, tokens, passwords...) are left out, with a
    warning saying how to supply the key on resume: through an environment variable named
    by ``api_key_env`` (``--api-key-env``; default ``OPENAI_API_KEY``), which is kept.

    >>> import tempfile
    >>> from memplay.run_dir import RunDir
    >>> p = RunDir(tempfile.mkdtemp()).config
    >>> dump_run_config(AgentConfig(llm_kwargs={"api_key_env": "MY_KEY"}), p)
    >>> AgentConfig.from_source(p).llm_kwargs
    {'api_key_env': 'MY_KEY'}
    """
    kept, dropped = public_llm_kwargs(config.llm_kwargs)
    data = config.model_copy(update={"llm_kwargs": kept}).model_dump(mode="json")
    if dropped:
        log.warning("llm_kwargs %s not saved in %s: secrets never go to disk. To resume, put "
                    "the API key in an environment variable and name it with --api-key-env "
                    "NAME (llm_kwargs api_key_env; default OPENAI_API_KEY)",
                    ", ".join(dropped), path)
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    os.replace(tmp, target)


def _batches(pending: Sequence[Planned], size: int) -> Iterator[list[Planned]]:
    """Chunks of at most ``size`` episodes, never mixing epochs (memory learns in between)."""
    batch: list[Planned] = []
    for item in pending:
        if batch and (len(batch) == size or batch[0].epoch != item.epoch):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _run_batch(graph: Any, ctx: AgentContext, batch: list[Planned], tasks: list[Any],
               check_llm: Path | None = None) -> list[Slot]:
    """Play ``batch``; episode ``i`` plays ``tasks[i]`` (its seed and label, a curriculum
    :class:`~memplay.agents.curriculum.Task`). With ``check_llm`` (the run directory), an
    LLM that failed every episode the same way stops the run (:func:`_check_llm_answers`)."""
    slots = [Slot(i, episode=p.episode, epoch=p.epoch, task=t.label, seed=t.seed)
             for i, (p, t) in enumerate(zip(batch, tasks))]
    config = {"recursion_limit": 6 * ctx.config.max_steps + 20,
              "configurable": {"thread_id": f"batch-{batch[0].episode}"}}
    final: list[Slot] = graph.invoke(initial_state(slots), config, context=ctx)["slots"]
    if check_llm is not None:
        _check_llm_answers(final, check_llm)
    return final


def _check_llm_answers(slots: Sequence[Slot], run_dir: Path) -> None:
    """Stop the run when the LLM never answered in its first batch: every episode ended on
    its first decision with the same LLM error.

    A server that cannot be reached, a wrong model name or a backend that raises on every
    call would otherwise turn into a run of failed episodes and a success rate of 0 that
    looks like a result. The batch is not recorded, so the run resumes from its start.
    Faults after the LLM has answered stay isolated to their episodes.
    """
    errors = {s.error for s in slots}
    if not slots or len(errors) != 1 or not all(s.llm_faults and not s.steps for s in slots):
        return
    raise LLMError(f"{next(iter(errors))} (in all {len(slots)} episodes of the first batch; "
                   f"nothing was recorded: fix it, then run again or resume with `memplay run "
                   f"--resume {run_dir}`)")


def _recreate_crashed(ctx: AgentContext, slots: Sequence[Slot]) -> None:
    """A crashed environment may be in any state: renew it before its next episode."""
    crashed = [s.index for s in slots if s.error is not None and "LLM failed" not in s.error]
    if crashed and ctx.env_factory is not None:
        ctx.workers.renew(crashed)


def _finish(files: RunFiles, config: AgentConfig, label: str, fixed_tasks: bool) -> RunResult:
    rows = files.read_results()
    # a curriculum chooses the tasks: "solved at least once" counts over those it played
    tasks = [str(t) for t in config.tasks] if fixed_tasks else sorted({r.task for r in rows})
    metrics = compute_metrics(rows, tasks, config.epochs)
    metrics.update(variant=config.variant, env_id=config.env_id, seed=config.seed)
    files.write_json(files.metrics, metrics)
    plot_learning_curves({label: metrics["success_per_epoch"]}, files.curve,
                         title=f"{config.env_id}: success per epoch")
    return RunResult(files.root, metrics)


def run_episodes(
    ctx: AgentContext,
    run_dir: str | Path,
    *,
    graph: Any = None,
    on_batch_end: Callable[[], None] | None = None,
    on_epoch_end: Callable[[int], Any] | None = None,
    progress: bool = True,
    llm_record: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run every scheduled episode not yet in ``run_dir`` and return the run's metrics.

    ``ctx.envs`` holds one environment per slot of a batch (``num_envs`` of them).
    ``on_batch_end`` runs after each batch's rows are on disk (the agent saves memory there, so
    a resumed run's memory matches its episodes). ``on_epoch_end(epoch)`` runs after the last
    batch of each epoch (the agent trains weights there, see :mod:`memplay.agents.training`); a
    run resumed at an epoch boundary calls it once first for the epoch before, so work cut off
    there is finished (the hook must be idempotent). Pass ``graph`` to run a custom graph.
    ``config.yaml`` (no secrets, see :func:`dump_run_config`) and ``llm_record`` (as
    ``llm.json``: which backend plays, see :class:`memplay.agents.agent.RunRecord`) are written
    first.

    >>> # see memplay.agents.agent.Agent.run for the one-call version
    """
    files = RunFiles(run_dir)
    # One writer per run directory: a second run would append the same episodes again.
    lock = DirectoryLock(files.episodes_lock)
    try:
        dump_run_config(ctx.config, files.config)
        if llm_record is not None:
            files.write_json(files.llm, dict(llm_record))
        return _run_locked(ctx, files, graph, _Hooks(on_batch_end, on_epoch_end), progress)
    finally:
        lock.release()


class _Hooks(NamedTuple):
    batch_end: Callable[[], None] | None
    epoch_end: Callable[[int], Any] | None


def _epoch_ends(batch: Sequence[Planned], n_tasks: int) -> int | None:
    """The epoch this batch completes, if its last episode is the epoch's last one."""
    last = batch[-1]
    return last.epoch if last.episode % n_tasks == n_tasks - 1 else None


def _resume_boundary(hooks: _Hooks, pending: Sequence[Planned], n_tasks: int) -> None:
    first = pending[0] if pending else None
    if hooks.epoch_end is not None and first is not None and first.epoch > 0 \
            and first.episode % n_tasks == 0:
        hooks.epoch_end(first.epoch - 1)


def _run_locked(ctx: AgentContext, files: RunFiles, graph: Any, hooks: _Hooks,
                progress: bool) -> RunResult:
    cfg = ctx.config
    graph = graph if graph is not None else build_agent_graph(cfg.variant)
    done = files.done_episodes()
    pending = [p for p in schedule(cfg) if p.episode not in done]
    curriculum = Curriculum(ctx, files.root, done)  # rebuilt from the recorded outcomes
    _resume_boundary(hooks, pending, len(cfg.tasks))
    bar = RunProgress(len(pending), f"{cfg.env_id} {cfg.variant}", enabled=progress)
    try:
        for number, batch in enumerate(_batches(pending, ctx.workers.num_envs)):
            # the first batch proves the LLM answers, before the curriculum records it
            check = files.root if number == 0 else None
            slots = curriculum.play(batch, lambda tasks, b=batch, c=check: _run_batch(
                graph, ctx, b, tasks, c))
            files.append(files.episodes, [s.to_result(cfg.env_id) for s in slots])
            files.append(files.trajectories, [s.to_trajectory(cfg.env_id) for s in slots
                                              if cfg.keeps_trajectory(s.episode)])
            if hooks.batch_end is not None:
                hooks.batch_end()
            _recreate_crashed(ctx, slots)
            bar.advance([s.success for s in slots])
            ended = _epoch_ends(batch, len(cfg.tasks))
            if hooks.epoch_end is not None and ended is not None:
                hooks.epoch_end(ended)
    finally:
        bar.close()
    return _finish(files, cfg, cfg.variant, not curriculum.sampler.stateful)
