"""Shared plumbing of the benchmark scripts: ``--quick``/``--out`` options and the JSON record.

Every script writes ``<out>/<name>.json`` (full mode) or ``<out>/<name>_quick.json`` (quick
mode) plus a PNG of the same stem, so a CI smoke run never overwrites the numbers the README
quotes, and tests can point ``--out`` at a temporary folder.

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_common_args(p)
    >>> p.parse_args(["--quick", "--out", "/tmp/x"]).out
    PosixPath('/tmp/x')
    >>> result_path(Path("/tmp/x"), "bench_llm", quick=True)
    PosixPath('/tmp/x/bench_llm_quick.json')
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ("memplay", "numpy", "torch", "transformers", "faiss-cpu", "langgraph",
            "sentence-transformers")


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--quick`` (CI smoke size) and ``--out DIR`` (default ``bench/results``)."""
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (CI)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder for the JSON and PNG (default: bench/results)")


def add_threads_arg(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` for scripts that run the embedded model (default 1)."""
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads of the embedded model (1 is fastest on a "
                             "loaded 2-core machine: 4-6x faster than 2 under load)")


def llm_config(threads: int | None) -> Any:
    """AgentConfig of the embedded model with ``threads`` torch threads (None: torch's own).

    >>> llm_config(1).llm_kwargs
    {'num_threads': 1}
    """
    from memplay.agents.config import AgentConfig

    return AgentConfig(llm_kwargs={} if threads is None else {"num_threads": threads})


def parse_embedded_args(doc: str | None, argv: list[str] | None) -> argparse.Namespace:
    """The options of a script that runs the embedded model: ``--quick``, ``--out``,
    ``--threads`` (description: the first line of ``doc``).

    >>> parse_embedded_args("Demo.", ["--quick", "--threads", "2"]).threads
    2
    """
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    add_common_args(parser)
    add_threads_arg(parser)
    return parser.parse_args(argv)


def embedded_parts(threads: int | None) -> tuple[Any, Any]:
    """The embedded LLM (``threads`` torch threads) and the default MiniLM embedder."""
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    return make_llm(llm_config(threads)), make_embedder(AgentConfig())


def wilson(wins: int, n: int, z: float = 1.96) -> list[float]:
    """The 95% Wilson score interval of a success rate ``wins / n`` (rounded): what a held-out
    number of a few dozen tasks can and cannot tell apart.

    >>> wilson(16, 32), wilson(0, 64)
    ([0.336, 0.664], [0.0, 0.057])
    """
    if n <= 0:
        return [0.0, 1.0]
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5 / (1 + z * z / n)
    return [round(max(centre - half, 0.0), 3), round(min(centre + half, 1.0), 3)]


def result_path(out: Path, name: str, quick: bool) -> Path:
    """Where a run's JSON goes; the PNG is the same path with ``.png``."""
    return Path(out) / f"{name}{'_quick' if quick else ''}.json"


def machine() -> dict[str, Any]:
    """Machine, load and package versions: the load average matters because the development
    box is shared, so absolute speeds measured under load are pessimistic.

    >>> sorted(machine())[:3]
    ['cpu_count', 'load_avg', 'platform']
    """
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # an optional package may be absent
            versions[name] = None
    torch = sys.modules.get("torch")  # threads matter for speed; only if torch is in use
    return {"cpu_count": os.cpu_count(), "load_avg": list(os.getloadavg()),
            "torch_threads": torch.get_num_threads() if torch else None,
            "platform": platform.platform(), "python": platform.python_version(),
            "versions": versions}


def write_record(out: Path, name: str, quick: bool, record: dict[str, Any]) -> Path:
    """Write ``record`` (plus quick flag and machine, load average at the end) as JSON.

    >>> import tempfile
    >>> p = write_record(Path(tempfile.mkdtemp()), "demo", True, {"wall_s": 1.0})
    >>> json.loads(p.read_text())["quick"]
    True
    """
    path = result_path(out, name, quick)
    path.parent.mkdir(parents=True, exist_ok=True)
    full = {"benchmark": name, "quick": quick, **record, "machine_at_end": machine()}
    from memplay._atomic import write_text_atomic  # a crash mid-write keeps the old file

    write_text_atomic(path, json.dumps(full, indent=2, default=str))
    return path


def finish(out: Path, name: str, quick: bool, record: dict[str, Any],
           draw: Callable[[Path], None]) -> Path:
    """The last step of every script: write the JSON record, draw its PNG beside it (``draw``
    gets the PNG's path), and say where both went and how long the run took.

    >>> import tempfile
    >>> p = finish(Path(tempfile.mkdtemp()), "demo", True, {"wall_s": 2.0},
    ...            lambda png: png.write_bytes(b""))  # doctest: +ELLIPSIS
    wrote .../demo_quick.json and .png in 2 s
    >>> p.with_suffix(".png").exists()
    True
    """
    path = write_record(out, name, quick, record)
    draw(path.with_suffix(".png"))
    print(f"wrote {path} and .png in {float(record.get('wall_s', 0.0)):.0f} s")
    return path
