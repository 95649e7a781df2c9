"""Where the embedded model's time goes in bench_alfworld's gated rows: each scoring call's
rows, split into an episode's first call (its whole prompt runs) and the later ones (only
what a step adds), with the first prompts' tokens counted by part.

Runs ``bench_alfworld.main`` with the same arguments (give ``--out`` elsewhere) while timing
every batched call of :class:`memplay.llm.cached_scorer.CachedScorer`, then writes
``first_calls.json`` beside the run's JSON::

    python bench/probe_alfworld_calls.py --split dev --rows demos --out /tmp/probe
    python bench/probe_alfworld_calls.py --split dev --rows demos --gated-prompt one-memory \\
        --out /tmp/probe-one

A row's new tokens are read from the call's own look-up of the states it starts from, so
the probe adds no work to the calls it times and leaves the run's cache counters as they are.

The parts are found in the decoded prompt by their markers (the ``<memories>`` block, the
``<hint>`` line, the observation up to its blank line); ``rest`` is the system message,
goal, task line and chat markers.

    >>> found = parts_of("<memories>\\nm\\n</memories>\\n<hint>h</hint>\\nObservation:\\nA\\n\\nG")
    >>> found["hint"], found["observation"]
    ('<hint>h</hint>\\n', 'Observation:\\nA\\n\\n')
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from memplay.llm import cached_scorer

PART_PATTERNS = {"memories": r"<memories>.*?</memories>\n", "hint": r"<hint>.*?</hint>\n",
                 "observation": r"Observation:\n.*?\n\n"}
CALLS: list[dict[str, Any]] = []


def parts_of(prompt: str) -> dict[str, str]:
    """The marked parts of a decoded prompt (a part it lacks is left out)."""
    found = {name: re.search(pattern, prompt, re.S) for name, pattern in PART_PATTERNS.items()}
    return {name: m.group(0) for name, m in found.items() if m}


def _timed(original: Any) -> Any:
    """``CachedScorer._score_rows`` that records each row's new tokens and the call's time."""
    seen: set[str | None] = set()

    def score_rows(self: Any, ids: list[list[int]], cands: Any, keys: list[Any]) -> Any:
        starts: list[int] = []  # per row, the tokens its starting states cover
        lookup = self._pasts

        def pasts(rows: list[list[int]], row_keys: list[Any]) -> Any:
            chains = lookup(rows, row_keys)
            starts.extend(chain.length for chain in chains)
            return chains

        self._pasts = pasts  # for this call only: the call's own lookup reports its lengths
        began = time.perf_counter()
        try:
            out = original(self, ids, cands, keys)
        finally:
            del self._pasts
        firsts = [key not in seen for key in keys]
        rows = [{"new": len(row) - start, "first": first, "ids": row if first else None}
                for row, start, first in zip(ids, starts, firsts)]
        CALLS.append({"s": time.perf_counter() - began, "rows": rows})
        seen.update(keys)
        return out

    return score_rows


def summary(tokenizer: Any) -> dict[str, Any]:
    """Seconds and new tokens of first and later rows; the first prompts' tokens by part."""
    first = [r for call in CALLS for r in call["rows"] if r["first"]]
    later = [r for call in CALLS for r in call["rows"] if not r["first"]]
    by_part: dict[str, int] = {"memories": 0, "hint": 0, "observation": 0, "rest": 0}
    for row in first:
        found = parts_of(tokenizer.decode(row["ids"]))
        sizes = {name: len(tokenizer(text)["input_ids"]) for name, text in found.items()}
        by_part.update({name: by_part[name] + n for name, n in sizes.items()})
        by_part["rest"] += len(row["ids"]) - sum(sizes.values())
    with_first = [c["s"] for c in CALLS if any(r["first"] for r in c["rows"])]
    padded = sum(len(c["rows"]) * max(r["new"] for r in c["rows"]) for c in CALLS)
    return {"calls": len(CALLS), "model_s": round(sum(c["s"] for c in CALLS), 1),
            "calls_with_first_rows_s": round(sum(with_first), 1),
            "first_rows": len(first), "later_rows": len(later),
            "first_new_tokens": sum(r["new"] for r in first),
            "later_new_tokens": sum(r["new"] for r in later),
            "padded_tokens": padded,
            "first_prompt_median_tokens": statistics.median(len(r["ids"]) for r in first),
            "first_prompt_tokens_by_part": by_part}


def main(argv: list[str]) -> None:
    """Run bench_alfworld with ``argv`` under the timer, then write the summary."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_alfworld  # bench/ is not a package
    from transformers import AutoTokenizer

    from memplay.llm.embedded import embedded_model_path

    rows = cached_scorer.CachedScorer._score_rows
    cached_scorer.CachedScorer._score_rows = _timed(rows)  # type: ignore[method-assign]
    args = bench_alfworld.parse_args(argv)
    bench_alfworld.main(argv)
    record = summary(AutoTokenizer.from_pretrained(embedded_model_path()))
    path = args.out / "first_calls.json"
    path.write_text(json.dumps({"argv": argv, **record}, indent=1))
    print(json.dumps(record, indent=1), f"\nwrote {path}")


if __name__ == "__main__":  # the guard matters: the walkthroughs' workers start by spawning
    main(sys.argv[1:])
