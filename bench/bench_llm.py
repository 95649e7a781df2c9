"""Benchmark: action decisions/s of the embedded model by scoring, and generation tokens/s.

Scenario: N parallel FrozenLake-like environments, 4 admissible moves each. Every prompt is
a long shared system message (rules + retrieved memory, the same for all envs and steps)
plus a short per-env observation that changes every step. We time:

- decisions/s for N = 1, 8, 32 with one batched ``score`` call per step, with and without
  prefix KV reuse (``prefix_reuse=False`` runs every prompt in full);
- "one at a time": the N = 1 rate is the baseline of scoring envs one after another;
- generation tokens/s for 1 and 8 prompts (greedy);
- whole episodes (issue 23): N = 1, 8, 32 episodes in lockstep, each prompt = shared rules
  and memory + the episode's goal and growing history + the current board; with per-episode
  KV reuse (``sessions=``), with the batch-shared prefix only, and with no reuse; decisions/s
  and the cache hit rate (fraction of prompt tokens not run through the model);
- many candidates sharing leading tokens (26 ALFWorld-like actions), with and without the
  candidate trie;
- with ``--quantize-decisions N``: float32 against int8 Linear layers on N recorded agent
  decisions (speed and agreement of the chosen action).

Goals (issue 4): batched 32 envs >= 8x the decisions/s of one env at a time; prefix reuse
>= 2x faster per decision when the shared prefix is > 80% of the prompt.

    python bench/bench_llm.py --quick
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import transformers
from _common import add_common_args, write_record
from _llm_cases import (
    MEMORY,
    MOVES,
    RULES,
    compare_quantized,
    recorded_decisions,
    time_candidates,
    time_episodes,
)
from rich.console import Console
from rich.table import Table

from memplay.llm.base import Prompt, SamplingParams
from memplay.llm.transformers_backend import TransformersLLM


def env_prompt(env: int, step: int) -> Prompt:
    """Shared rules + memory, then this env's current position (changes every step)."""
    row, col = (env + step) % 4, (env * 3 + step) % 4
    grid = "\n".join("".join("P" if (r, c) == (row, col) else "F" for c in range(4))
                     for r in range(4))
    return [{"role": "system", "content": RULES + MEMORY},
            {"role": "user", "content": f"Grid:\n{grid}\nYou are at row {row}, column {col}. "
                                        "Your move?"}]


def time_decisions(llm: TransformersLLM, envs: int, steps: int) -> dict[str, float]:
    """Median seconds per step (one batched score call over ``envs`` prompts)."""
    llm.score([env_prompt(0, -1)], [MOVES])  # warm-up (and fills the prefix cache)
    per_step = []
    for step in range(steps):
        prompts = [env_prompt(e, step) for e in range(envs)]
        start = time.perf_counter()
        llm.score(prompts, [MOVES] * envs)
        per_step.append(time.perf_counter() - start)
    median = statistics.median(per_step)
    return {"envs": envs, "steps": steps, "median_step_s": median,
            "decisions_per_s": envs / median}


def time_generation(llm: TransformersLLM, batch: int, new_tokens: int) -> dict[str, float]:
    prompts = [env_prompt(e, 0) for e in range(batch)]
    sampling = SamplingParams(max_new_tokens=new_tokens)
    llm.generate(prompts[:1], SamplingParams(max_new_tokens=2))  # warm-up
    start = time.perf_counter()
    texts = llm.generate(prompts, sampling)
    wall = time.perf_counter() - start
    tokens = sum(len(llm.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    return {"batch": batch, "tokens": tokens, "wall_s": wall, "tokens_per_s": tokens / wall}


def shared_fraction(llm: TransformersLLM) -> float:
    a, b = llm.encode(env_prompt(0, 0)), llm.encode(env_prompt(1, 1))
    shared = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return shared / len(a)


def run_episodes(reuse: TransformersLLM, plain: TransformersLLM, quick: bool) -> list[dict]:
    """Whole episodes per size: sessions and batch-shared prefix only; no reuse at one env
    (the existing rows show that its rate is flat in size). Sized to add about two minutes
    to the full run on 2 idle cores."""
    steps, sizes = (3, (1, 4)) if quick else (5, (1, 8, 32))
    rows = []
    for envs in sizes:
        rows.append(time_episodes(reuse, envs, steps, "sessions"))
        rows.append(time_episodes(reuse, envs, steps, "prefix"))
        if envs == 1:
            rows.append(time_episodes(plain, envs, steps, "no-reuse"))
    return rows


def run_candidates(reuse: TransformersLLM, threads: int, quick: bool) -> list[dict]:
    """26 ALFWorld-like actions per prompt, with and without the candidate trie."""
    envs = 2 if quick else 8
    alone = TransformersLLM(share_candidates=False, num_threads=threads)
    return [time_candidates(reuse, envs, 1), time_candidates(alone, envs, 1)]


def run(quick: bool, threads: int, quantize_decisions: int = 0) -> dict[str, Any]:
    # Full: 3 steps per size, except the slowest cell (32 envs, no reuse: 45-75 s a step),
    # timed once: that rate is flat across sizes (compute-bound) and one step keeps the run
    # inside the 60-minute budget of all full benchmarks; quick is a CI smoke run.
    steps, sizes = (1, (1, 4)) if quick else (3, (1, 8, 32))
    reuse = TransformersLLM(prefix_reuse=True, num_threads=threads)
    plain = TransformersLLM(prefix_reuse=False, num_threads=threads)
    rows = []
    for envs in sizes:
        for name, llm in (("reuse", reuse), ("no-reuse", plain)):
            n_steps = 1 if name == "no-reuse" and envs > 8 else steps
            rows.append({"prefix": name, **time_decisions(llm, envs, n_steps)})
    gen = [time_generation(reuse, b, 8 if quick else 32) for b in ((1,) if quick else (1, 8))]
    result = {"decisions": rows, "generation": gen,
              "shared_prefix_fraction": shared_fraction(reuse),
              "prompt_tokens": len(reuse.encode(env_prompt(0, 0))), "steps": steps,
              "episodes": run_episodes(reuse, plain, quick),
              "candidates": run_candidates(reuse, threads, quick)}
    if quantize_decisions:
        result["quantization"] = compare_quantized(recorded_decisions(quantize_decisions),
                                                   threads, "int8")
    return result


def ratios(result: dict[str, Any]) -> dict[str, float]:
    """Speed-ups: largest batch vs one env at a time, and prefix reuse vs none, per size.

    >>> rows = [{"prefix": p, "envs": n, "decisions_per_s": r} for p, n, r in
    ...         [("reuse", 1, 2.0), ("no-reuse", 1, 0.5), ("reuse", 4, 3.0), ("no-reuse", 4, 1.0)]]
    >>> ratios({"decisions": rows})["batch4_vs_one_at_a_time_reuse"]
    1.5
    """
    rate = {(r["prefix"], r["envs"]): r["decisions_per_s"] for r in result["decisions"]}
    top = max(n for _, n in rate)
    out = {
        f"batch{top}_vs_one_at_a_time_reuse": rate[("reuse", top)] / rate[("reuse", 1)],
        f"batch{top}_vs_one_at_a_time_no_reuse": rate[("no-reuse", top)] / rate[("no-reuse", 1)],
        f"batch{top}_reuse_vs_one_no_reuse": rate[("reuse", top)] / rate[("no-reuse", 1)],
    }
    for n in sorted({n for _, n in rate}):
        out[f"prefix_reuse_speedup_{n}env"] = rate[("reuse", n)] / rate[("no-reuse", n)]
    return out


def report(result: dict[str, Any]) -> None:
    console = Console()
    table = Table(title=f"decisions/s (shared prefix {result['shared_prefix_fraction']:.0%} "
                        f"of {result['prompt_tokens']} tokens)")
    for col in ("envs", "prefix", "median s/step", "decisions/s"):
        table.add_column(col)
    for r in result["decisions"]:
        table.add_row(str(r["envs"]), r["prefix"], f"{r['median_step_s']:.3f}",
                      f"{r['decisions_per_s']:.1f}")
    console.print(table)
    gen = Table(title="generation (greedy)")
    for col in ("batch", "tokens", "wall s", "tokens/s"):
        gen.add_column(col)
    for g in result["generation"]:
        gen.add_row(str(g["batch"]), str(g["tokens"]), f"{g['wall_s']:.2f}",
                    f"{g['tokens_per_s']:.1f}")
    console.print(gen)
    for key, value in result["ratios"].items():
        console.print(f"{key}: {value:.2f}x")
    report_cases(console, result)


def report_cases(console: Console, result: dict[str, Any]) -> None:
    """Tables of the episode, candidate and quantisation cases."""
    eps = Table(title="whole episodes (growing history, one score call per step)")
    for col in ("envs", "steps", "reuse", "decisions/s", "after step 1", "cache hit rate",
                "from sessions", "tokens run / prompt tokens"):
        eps.add_column(col)
    for r in result["episodes"]:
        eps.add_row(str(r["envs"]), str(r["steps"]), r["mode"], f"{r['decisions_per_s']:.1f}",
                    f"{r['later_steps_decisions_per_s']:.1f}", f"{r['hit_rate']:.0%}",
                    f"{r['session_rate']:.0%}",
                    f"{r['computed_tokens_per_decision']:.0f} / "
                    f"{r['prompt_tokens_per_decision']:.0f}")
    console.print(eps)
    cands = Table(title="many candidates sharing leading tokens")
    for col in ("envs", "candidates", "trie", "decisions/s", "candidate tokens run / all"):
        cands.add_column(col)
    for r in result["candidates"]:
        cands.add_row(str(r["envs"]), str(r["candidates"]), str(r["trie"]),
                      f"{r['decisions_per_s']:.2f}",
                      f"{r['candidate_tokens_run']} / {r['candidate_tokens']}")
    console.print(cands)
    q = result.get("quantization")
    if q:
        console.print(f"{q['mode']} vs float32 on {q['decisions']} recorded decisions: "
                      f"{q['speedup']:.2f}x faster, chosen action agrees on "
                      f"{q['agreement']:.1%}")


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("reuse", "no-reuse"):
        rows = [r for r in result["decisions"] if r["prefix"] == name]
        ax.plot([r["envs"] for r in rows], [r["decisions_per_s"] for r in rows], "o-", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("parallel environments (one batched score call per step)")
    ax.set_ylabel("decisions / s")
    ax.set_title("embedded SmolLM2-135M, scoring 4 moves")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)  # --quick: fewer steps and one batch size less
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest on a shared, loaded machine)")
    parser.add_argument("--quantize-decisions", type=int, default=0, metavar="N",
                        help="also compare float32 with int8 on N recorded agent decisions")
    args = parser.parse_args()
    torch.manual_seed(0)
    start = time.perf_counter()
    result = run(args.quick, args.threads, args.quantize_decisions)
    result["ratios"] = ratios(result)
    result["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                         "torch_threads": torch.get_num_threads(),
                         "load_avg_1m": os.getloadavg()[0]}
    result["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                          "python": platform.python_version()}
    result["seed"], result["quick"] = 0, args.quick
    result["wall_s"] = time.perf_counter() - start
    out = write_record(args.out, "bench_llm", args.quick, result)
    plot(result, out.with_suffix(".png"))
    report(result)


if __name__ == "__main__":
    main()
