"""The run directory: the one module that knows which files a run writes, and where.

A run (``memplay run``, ``Agent.run``) keeps everything it records in one directory. Every
other module asks :class:`RunDir` for a path instead of spelling a file name
(tests/memplay/test_core_run_dir.py checks that the names appear here only):

======================  ===================================================================
``config.yaml``         the run's AgentConfig, without secrets; a resume reads it back
``llm.json``            the backend that played (registry name, class, model name)
``episodes.jsonl``      one EpisodeResult per finished episode (a resume skips these)
``episodes.lock``       the run's one-writer lock (``flock``; see ``episodes_lock``)
``trajectories.jsonl``  one Trajectory per episode: what the trainers learn from
``metrics.json``        success per epoch and the other metrics of the run
``learning_curve.png``  success per epoch, plotted
``memory_stats.jsonl``  memory after each epoch: Q-values, retrieval hits, step coverage
``curriculum.jsonl``    a stateful curriculum's outcomes (its sampler is rebuilt from them)
``tensorboard/``        TensorBoard scalars (``log=["tensorboard"]``)
``memory/``             the memory directory, unless config.yaml's ``memory_dir`` names one
``models/``             trained weights: ``vN/`` per round, ``rounds.jsonl``
``selfplay/``           self-play: ``pool/epoch-N.jsonl``, ``games.jsonl``, ``measures.jsonl``
``report.html``         the page ``memplay report`` writes
======================  ===================================================================

What is inside ``memory/`` (``store/``, ``steps/``, playbooks, critiques) is the memory
layer's business, and a model version's files the trainers'.

    >>> run = RunDir("runs/fl")
    >>> run.episodes.name, run.memory.name, run.rounds.parent.name
    ('episodes.jsonl', 'memory', 'models')
"""

from __future__ import annotations

from pathlib import Path

import yaml

from memplay.errors import ConfigError

__all__ = ["RunDir"]


class RunDir:
    """The paths of one run directory (nothing is created until :meth:`ensure_writable`).

    >>> RunDir("runs/x").selfplay_measures.as_posix()
    'runs/x/selfplay/measures.jsonl'
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    def __repr__(self) -> str:
        return f"RunDir({str(self.root)!r})"

    @property
    def config(self) -> Path:
        """``config.yaml``: the run's settings (secrets left out)."""
        return self.root / "config.yaml"

    @property
    def llm(self) -> Path:
        """``llm.json``: which backend played."""
        return self.root / "llm.json"

    @property
    def episodes(self) -> Path:
        """``episodes.jsonl``: one EpisodeResult row per episode."""
        return self.root / "episodes.jsonl"

    @property
    def episodes_lock(self) -> Path:
        """The path a ``DirectoryLock`` takes (its lock file is ``episodes.lock``): one
        writer per run directory."""
        return self.episodes.with_suffix("")

    @property
    def trajectories(self) -> Path:
        """``trajectories.jsonl``: one Trajectory row per episode."""
        return self.root / "trajectories.jsonl"

    @property
    def metrics(self) -> Path:
        """``metrics.json``: the run's metrics."""
        return self.root / "metrics.json"

    @property
    def curve(self) -> Path:
        """``learning_curve.png``: success per epoch."""
        return self.root / "learning_curve.png"

    @property
    def memory_stats(self) -> Path:
        """``memory_stats.jsonl``: one row of memory statistics per epoch."""
        return self.root / "memory_stats.jsonl"

    @property
    def curriculum(self) -> Path:
        """``curriculum.jsonl``: the outcomes a stateful curriculum observed."""
        return self.root / "curriculum.jsonl"

    @property
    def tensorboard(self) -> Path:
        """``tensorboard/``: TensorBoard event files."""
        return self.root / "tensorboard"

    @property
    def memory(self) -> Path:
        """``memory/``: the default memory directory."""
        return self.root / "memory"

    @property
    def models(self) -> Path:
        """``models/``: one ``vN/`` folder per trained version."""
        return self.root / "models"

    @property
    def rounds(self) -> Path:
        """``models/rounds.jsonl``: one row per training round."""
        return self.models / "rounds.jsonl"

    @property
    def selfplay(self) -> Path:
        """``selfplay/``: what self-play records."""
        return self.root / "selfplay"

    @property
    def selfplay_pool(self) -> Path:
        """``selfplay/pool/``: frozen step-memory snapshots, ``epoch-N.jsonl``."""
        return self.selfplay / "pool"

    @property
    def selfplay_games(self) -> Path:
        """``selfplay/games.jsonl``: the other seat's side of every game."""
        return self.selfplay / "games.jsonl"

    @property
    def selfplay_measures(self) -> Path:
        """``selfplay/measures.jsonl``: the game's exact measure per epoch (or per
        ``measure_every`` games)."""
        return self.selfplay / "measures.jsonl"

    @property
    def report(self) -> Path:
        """``report.html``: ``memplay report``'s default output."""
        return self.root / "report.html"

    def ensure_writable(self) -> RunDir:
        """Create the directory and check that files can be written in it.

        >>> import tempfile
        >>> RunDir(tempfile.mkdtemp()).ensure_writable().root.is_dir()
        True
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".write-test"
            probe.write_text("ok", encoding="utf-8")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"run dir {str(self.root)!r} is not writable ({exc.strerror or exc}); "
                "pass a directory you can write to with --run-dir"
            ) from None
        return self

    def recorded_memory_dir(self) -> Path | None:
        """The memory directory an earlier run here used: ``memory_dir`` of its config.yaml,
        else ``memory/``; None when no run has written a config.yaml yet.

        >>> import tempfile
        >>> RunDir(tempfile.mkdtemp()).recorded_memory_dir() is None
        True
        """
        if not self.config.is_file():
            return None
        saved = self._saved_memory_dir()
        return Path(saved) if saved else self.memory

    def memory_dir_setting(self, memory: Path) -> str | None:
        """What config.yaml records for ``memory``: None for ``memory/`` (it moves with the
        run), else the absolute path (a resume from another working directory finds it).

        >>> RunDir("runs/x").memory_dir_setting(Path("runs/x/memory")) is None
        True
        """
        if Path(memory).resolve() == self.memory.resolve():
            return None
        return str(Path(memory).resolve())

    def _saved_memory_dir(self) -> str | None:
        """``memory_dir`` of config.yaml, read alone: the rest may name plug-ins (a variant
        of your own) that only the program that registers them can validate."""
        try:
            data = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{str(self.config)!r} is not readable YAML ({exc}); restore it "
                              "or start a new run directory") from None
        value = data.get("memory_dir") if isinstance(data, dict) else None
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"memory_dir={value!r} in {str(self.config)!r} must be a path; "
                              "fix it or remove the line (then <run>/memory is used)")
        return value
