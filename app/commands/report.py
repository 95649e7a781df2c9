"""``memplay report``: one self-contained HTML page showing what a run's memory learned.

    >>> from memplay.app.cli import main
    >>> main(["report", "runs/fl", "--compare", "runs/fl-none"])  # doctest: +SKIP
    report: runs/fl/report.html
    0
"""

from __future__ import annotations

import argparse

from memplay.app.cli import Command

__all__ = ["ReportCommand"]


class ReportCommand(Command):
    """Write the HTML report of a run (optionally compared with other runs)."""

    help = ("write one self-contained HTML report of a run: success per epoch (compared with "
            "other runs), Q-values over time, retrieval hits, top memories, step-memory "
            "coverage, playbooks, critique trees, model versions")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory (--run-dir of "
                            "`memplay run`)")
        parser.add_argument("--compare", nargs="+", default=[], metavar="OTHER_RUN",
                            help="other run directories shown next to it in the run table "
                            "and the success and retrieval charts")
        parser.add_argument("--out", metavar="FILE",
                            help="where to write the HTML (default RUN_DIR/report.html)")

    def run(self, args: argparse.Namespace) -> int:
        from memplay.app.report.build import build_report

        path = build_report(args.run_dir, args.compare, args.out)
        print(f"report: {path}")
        return 0
