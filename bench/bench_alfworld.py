"""ALFWorld that learns: memory from train-split walkthroughs, used on valid_seen games.

Every row plays the same valid_seen (``eval_in_distribution``) games, evenly spread over the
six task types, with a 30-step cap; success is reported per task type with the wall time:

- ``baseline``: no LLM, no agent: the scripted policy fitted on the same walkthroughs
  (:mod:`_alfworld_baseline`), the reference a learning agent must beat.
- ``none``: the embedded SmolLM2-135M alone, with the ``demos`` row's policy settings but no
  memory: it scores the actions the view does not mark as not needed, with none listed in the
  prompt, so the two rows differ in memory alone.
- ``none-ungated``: the model alone as ``none`` was before (every action of every step scored,
  all listed in the prompt; what bench_distill's ALFWorld learner is compared with): slow, so
  it runs only when named.
- ``demos``: MemRL whose memory was written from the train walkthroughs
  (``Agent.learn_from``; they were played in the environment, so not replayed again), frozen,
  with the decision gate on (:func:`memplay.agents.policy.judge`: the LLM term is bounded to
  ``GATE_CLIP`` nats and the model is asked only when it could change the choice, about the
  actions that can still win and that the view does not mark as not needed; a score the
  model gave stands for the rest of its episode: ``REUSE_SCORES``).
- ``demos-ungated``: the same memory, every action of every step scored, the LLM term
  unbounded (the ``demos`` row before the gate): what the gate costs in games.
- ``demos-flat``: the same memory, with the LLM's scores flat (the registered ``scripted``
  backend scores every action alike), so memory decides alone: the gap to ``demos`` is what
  the LLM adds.
- ``memrl``: MemRL that learned from its own play on train games only, frozen.
- ``memrl-flat``: the same own play with the LLM's scores flat, in play and in the
  evaluation: what own play learns with memory deciding alone, at a fraction of the time.
- ``demos+play``: the demos' memory, then own play on train games (without hindsight
  relabelling: ``PLAY_SETTINGS``), frozen; evaluated with the gate on, like ``demos``.
- ``demos-default`` and ``demos-default-flat``: ``demos`` and ``demos-flat`` with the default
  view (:mod:`memplay.environments.default_view`, derived from the text alone) in place of
  ALFWorld's hand-written one, in memory and in play (the same policy settings, the gate's
  included): what the hand view is worth.

``--split eval_out_of_distribution`` plays valid_unseen games instead (rooms that no train
game has: the out-of-distribution check, with the same rows and sizes), into its own
``bench_alfworld_unseen.json``. That split comes with ``alfworld-download``; a machine without
it stops at once with a message that says so. ``--split dev`` plays 7 train games per type
that no row learns from (not the walkthroughs' games, not own play's), into
``bench_alfworld_dev.json``: settings such as ``--clip``, ``--list-actions`` and
``--gated-prompt`` are chosen there, never on valid_seen. ``--memory DIR --out OTHER``
evaluates a memory a run saved (such as ``runs/alfworld/demos+play/memory``) instead of
learning one, so a setting can be tried on own play's memory without playing again.

The decision stays the agent's: the LLM's scores plus step memory's values over ALFWorld's
portable view (:mod:`memplay.environments.alfworld.view`); nothing scripted acts inside it.
The evaluation is greedy (``policy.temperature=0``): among many places to go whose learned
values are close, sampling at the training temperature (0.5) wanders off the demonstrated
path. It also sets ``policy.memory_novelty=False``: in memory written from walkthroughs a
visit count says how often the teacher went somewhere, and a bonus for rare ones would send
the agent to the places the teacher seldom needed. Walkthrough demos are played once into a
resumable cache (``--demo-cache``).

The rows are run in parts (``bash bench/run_full.sh --group alfworld`` to ``alfworld-4``, each
under 60 minutes); rows asked for now replace those rows of an earlier JSON of the same mode,
which keeps the others if they played the same games at the same sizes from the same
walkthroughs (``--fresh`` starts a new JSON). Each row records its own wall time, LLM and load.

    python bench/bench_alfworld.py --quick                 # CI smoke run (a few minutes)
    python bench/bench_alfworld.py --rows baseline demos   # some of docs/RESULTS.md's rows
    python bench/bench_alfworld.py --rows demos --llm openai --base-url http://HOST:PORT/v1
    python bench/bench_alfworld.py --split eval_out_of_distribution   # valid_unseen rooms

``--llm openai`` plays the same rows with any OpenAI-compatible server (vLLM, llama.cpp,
Ollama) instead of the embedded model; llama.cpp's server needs ``--score-mode top_logprobs``
(its echoed prompt log-probs are wrong, see :mod:`memplay.llm.openai_backend`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _alfworld_play import PLAY, curriculum, train_summary
from _common import RESULTS as PUBLISHED  # where the benchmark's own JSON lives
from _common import add_common_args, add_threads_arg, finish, llm_config, machine, result_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SPLIT = "eval_in_distribution"
# each evaluation split has its own JSON: an out-of-distribution run never merges with the other
# train games that no walkthrough and no own-play row uses, 7 per type: where a setting such
# as --clip is chosen, so that valid_seen only ever measures it
DEV = "dev"
RESULT_NAMES = {SPLIT: "bench_alfworld", "eval_out_of_distribution": "bench_alfworld_unseen",
                DEV: "bench_alfworld_dev"}
ROWS = ("baseline", "none", "none-ungated", "demos", "demos-ungated", "demos-flat", "memrl",
        "memrl-flat", "demos+play", "demos-default", "demos-default-flat")
LLM_ROWS = {  # row -> (variant, learns from demos, plays train games)
    "none": ("none", False, False), "none-ungated": ("none", False, False),
    "demos": ("memrl", True, False),
    "demos-ungated": ("memrl", True, False), "demos-flat": ("memrl", True, False),
    "memrl": ("memrl", False, True), "memrl-flat": ("memrl", False, True),
    "demos+play": ("memrl", True, True),
    "demos-default": ("memrl", True, False), "demos-default-flat": ("memrl", True, False)}
DEFAULT_VIEW_ROWS = frozenset({"demos-default", "demos-default-flat"})
# (eval games per task type, train demos per task type, train games per type, epochs, steps)
SIZES = {"quick": (1, 1, 1, 1, 3), "full": (7, 100, 2, 2, 30)}
FLAT_ROWS = frozenset({"demos-flat", "demos-default-flat", "memrl-flat"})  # all scored alike
OWN_PLAY_ROWS = frozenset({"memrl", "memrl-flat"})  # own play alone: PLAY sizes, curriculum
# rows that no run_full group runs (memrl: about 16 hours on 2 cores): run only when named,
# so a group total leaves them out
GROUPLESS_ROWS = frozenset({"memrl"})
GATE_CLIP = 4.0  # nats: the LLM term's range in gated rows (docs/speed.md)
# the prompt lists no action (policy.list_actions): score mode scores each candidate as the
# prompt's continuation, and the list was most of a call's new tokens (docs/speed.md); chosen
# on the dev games over listing the candidates (41 of 42 either way, 26% less time)
# a score the model gave stands for the rest of its episode (policy.reuse_scores: 30 is the
# step cap): the calls the gate leaves are mostly searches, asked again one step later about
# the same places less one. Chosen on the dev games, with the walkthroughs' memory (41 of 42
# either way, 369 -> 128 calls) and with own play's (38 of 42 either way, 443 -> 159 calls)
REUSE_SCORES = 30
GATED: dict[str, Any] = {"gate": "on", "llm_clip": GATE_CLIP, "prune_unneeded": True,
                         "list_actions": "none", "reuse_scores": REUSE_SCORES}
# the prompt of the calls the gate leaves (--gated-prompt): 'full' is the agent's usual one;
# 'bare' leaves out memory's text (task memories, step hint) and the recent moves. The gate
# asks the model only where memory's values tie, so the text memory would add is about
# other actions than the tied ones, while its new tokens were most of each call's cost;
# 'log' is the append-only layout (prompt.layout), whose episode part a session keeps;
# 'one-memory' keeps memory's text but only the first task memory (one memory line fits 450
# characters), as the task memories are half of an episode's first call (docs/speed.md)
GATED_PROMPTS: dict[str, dict[str, Any]] = {
    "full": {}, "bare": {"memory_text": False, "recent_steps": 0}, "log": {"layout": "log"},
    "one-memory": {"max_context_chars": 450}}
# 'full': on the dev games (the walkthroughs' memory) 'bare' solved as many (41 of 42) with
# 43-46% less model time, but on valid_seen demos+play's memory (own play on top) it solved 34
# of 42 against 37 with 'full' (docs/speed.md); on the dev games with that memory 'full' 38,
# 'bare' 36, 'log' 33 and slower (bench/results/alfworld_dev/demos_play_memory.json);
# 'one-memory' solved as many dev games with either memory, 16% less model time with the
# walkthroughs' and none with own play's (bench/results/alfworld_first_call/)
GATED_PROMPT = "full"
# policy settings of the evaluation beyond greedy choice without memory's novelty
# (``none`` and ``demos-default`` too, so that each differs from ``demos`` in one thing: no
# memory, or the default view in place of ALFWorld's)
ROW_POLICY = {row: GATED for row in ("none", "demos", "demos+play", "demos-default")}


@dataclass(frozen=True)
class GatedEvaluation:
    """How the gated rows (``ROW_POLICY``) evaluate: the command line's ``--clip``,
    ``--list-actions`` and ``--gated-prompt``; the other rows only play greedy.

    >>> GatedEvaluation(clip=2.0).policy("demos")["llm_clip"]
    2.0
    >>> GatedEvaluation().policy("demos-flat"), GatedEvaluation("bare").prompt_for("demos-flat")
    ({'temperature': 0.0, 'memory_novelty': False}, {})
    >>> GatedEvaluation("bare").prompt_for("demos")
    {'memory_text': False, 'recent_steps': 0}
    """

    prompt: str = GATED_PROMPT
    clip: float = GATE_CLIP
    list_actions: str = GATED["list_actions"]
    reuse_scores: int = REUSE_SCORES

    def policy(self, row: str) -> dict[str, Any]:
        """The policy settings ``row`` evaluates with (recorded in its JSON entry)."""
        policy = {"temperature": 0.0, "memory_novelty": False, **ROW_POLICY.get(row, {})}
        if row in ROW_POLICY:
            policy.update(llm_clip=self.clip, list_actions=self.list_actions,
                          reuse_scores=self.reuse_scores)
        return policy

    def prompt_for(self, row: str) -> dict[str, Any]:
        """The prompt settings of ``row``'s evaluation ({}: the agent's usual prompt)."""
        return dict(GATED_PROMPTS[self.prompt]) if row in ROW_POLICY else {}


# settings of a row's own play beyond the variant's: demos+play plays without hindsight
# relabelling, whose relabelled episodes lowered what the walkthroughs had taught (train
# success in its second epoch 0.17 with it, 0.50 without; held out 32 and 40 of 42)
PLAY_SETTINGS: dict[str, dict[str, Any]] = {"demos+play": {"memory": {"hindsight": False}}}
# rows that need the train walkthroughs (the baseline and every row that learns from demos)
DEMO_ROWS = frozenset({"baseline", *(row for row, (_, learns, _) in LLM_ROWS.items() if learns)})
QUICK_GAMES = 2  # a smoke run plays the first two eval games and one train game


def split_games(split: str) -> list[str]:
    """Every game file of ``split`` in the order task seeds index them.

    >>> len(split_games("eval_in_distribution"))  # doctest: +SKIP
    140
    """
    from memplay.environments.alfworld.env import TASK_TYPES, alfworld_data_dir, collect_games

    data = data_split(split)
    return list(collect_games(str(alfworld_data_dir(None, data)), data, TASK_TYPES))


def data_split(split: str) -> str:
    """The ALFWorld split that ``split``'s games come from.

    >>> data_split("dev"), data_split("eval_in_distribution")
    ('train', 'eval_in_distribution')
    """
    return "train" if split == DEV else split


def dev_games(per_type: int) -> list[str]:
    """``per_type`` train games of each task type that neither the walkthroughs
    (``SIZES["full"][1]`` per type) nor own play (``PLAY`` and ``SIZES``) use, evenly spread."""
    from memplay.environments.alfworld.demos import demo_games

    used = {g for n in (SIZES["full"][1], SIZES["full"][2], PLAY["full"]["per_type"])
            for g in demo_games("train", per_task_type=n)}
    return demo_games("train", per_task_type=per_type, exclude=used)


def eval_games(per_type: int, split: str = SPLIT) -> list[int]:
    """Indices (into the split's games, which task seeds name) of the games every row plays.

    >>> eval_games(1)  # doctest: +SKIP
    [0, 13, 48, 75, 100, 116]
    """
    from memplay.environments.alfworld.demos import demo_games

    every = split_games(split)
    chosen = dev_games(per_type) if split == DEV else demo_games(split, per_task_type=per_type)
    return sorted(every.index(g) for g in chosen)


def per_task_type(seeds: list[int], successes: list[bool],
                  split: str = SPLIT) -> dict[str, dict[str, int]]:
    """Games and successes per task type of the games ``seeds`` name."""
    from memplay.environments.alfworld.env import task_type_of

    every = split_games(split)
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"games": 0, "solved": 0})
    for seed, success in zip(seeds, successes):
        cell = out[task_type_of(every[seed])]
        cell["games"] += 1
        cell["solved"] += int(success)
    return dict(sorted(out.items()))


def baseline_row(demos: list[Any], games: list[int], steps: int,
                 split: str = SPLIT) -> dict[str, Any]:
    """The no-LLM baseline fitted on ``demos``, on the same games."""
    from _alfworld_baseline import evaluate_baseline, fit_baseline

    started = time.perf_counter()
    every = split_games(split)
    rows = evaluate_baseline(fit_baseline(demos), [every[i] for i in games], data_split(split),
                             max_steps=steps, workers=2)
    wins = [bool(r["success"]) for r in rows]
    return {"success": sum(wins) / len(wins), "per_task_type": per_task_type(games, wins, split),
            "wall_s": round(time.perf_counter() - started, 1)}


def agent_row(row: str, demos: list[Any], games: list[int], size: tuple[int, ...], llm: Any,
              embedder: Any, root: Path, quick: bool = False, split: str = SPLIT,
              evaluation: GatedEvaluation | None = None, memory: Path | None = None
              ) -> dict[str, Any]:
    """Teach (demos, then own play on train games), then play ``games`` frozen and greedy.
    With ``memory`` (a saved memory folder) the row learns nothing and plays on a copy of it."""
    from memplay.agents import Agent
    from memplay.environments.default_view import with_default_views

    variant, learns, plays = LLM_ROWS[row]
    shutil.rmtree(root, ignore_errors=True)  # a left-over run dir would be resumed
    started, out = time.perf_counter(), {}
    options = {"variant": variant, "llm": llm, "embedder": embedder, "max_steps": size[4],
               "parallel_envs": 8, "seed": 0}
    view = {"view_source": "default"} if row in DEFAULT_VIEW_ROWS else {}
    if row in DEFAULT_VIEW_ROWS:
        demos = [with_default_views(d) for d in demos]
    if memory is not None:  # a copy: the frozen run must leave the saved one as it is
        shutil.copytree(memory, root / "memory")
        learns = plays = False
        out["memory_from"] = str(memory)
    if learns:
        teacher = Agent("ALFWorld-v0", env_kwargs={"split": "train", **view}, **options)
        out["demos"] = teacher.learn_from(demos, root / "memory", replay=False).episodes
        teacher.close()
    if plays:
        out.update(own_play(row, options, size, quick, root))
    evaluation = evaluation or GatedEvaluation()
    policy, prompt = evaluation.policy(row), evaluation.prompt_for(row)
    student = Agent("ALFWorld-v0", env_kwargs={"split": data_split(split), "games_by_seed": True,
                                               **view},
                    policy=policy, **({"prompt": prompt} if prompt else {}), **options)
    evaluated = time.perf_counter()
    result = student.run(epochs=1, tasks=games, run_dir=root / "eval", progress=False,
                         memory_dir=root / "memory", frozen=True)
    student.close()
    wins = episode_successes(root / "eval", games)
    return {**out, "success": result.metrics["success_rate"],
            "per_task_type": per_task_type(games, wins, split),
            "model_call_fraction": result.metrics.get("model_call_fraction"),
            "decision_stats": result.metrics.get("decision_stats"), "policy": policy,
            "prompt": prompt,
            "eval_s": round(time.perf_counter() - evaluated, 1),
            "wall_s": round(time.perf_counter() - started, 1)}


def own_play(row: str, options: dict[str, Any], size: tuple[int, ...], quick: bool,
             root: Path) -> dict[str, Any]:
    """Play train games and learn. ``memrl`` (own play alone) plays its own sizes (``PLAY``)
    with a curriculum over task types and reports what it learned (:mod:`_alfworld_play`);
    ``demos+play`` plays the benchmark's sizes in order."""
    from memplay.agents import Agent
    from memplay.environments.alfworld.env import TASK_TYPES, alfworld_data_dir, collect_games

    started = time.perf_counter()
    own = row in OWN_PLAY_ROWS
    play = PLAY["quick" if quick else "full"]
    per_type, epochs = (play["per_type"], play["epochs"]) if own else (size[2], size[3])
    train = train_games(per_type)[:1 if quick else None]
    every = list(collect_games(str(alfworld_data_dir(None, "train")), "train", TASK_TYPES))
    extra = {"curriculum": curriculum(every, train)} if own else {}
    extra.update(PLAY_SETTINGS.get(row, {}))
    player = Agent("ALFWorld-v0", env_kwargs={"split": "train", "games_by_seed": True},
                   **options, **extra)
    result = player.run(epochs=epochs, tasks=train, run_dir=root / "train",
                        memory_dir=root / "memory", progress=False)
    player.close()
    if not own:
        return {"train": result.success_per_epoch, "play_settings": PLAY_SETTINGS.get(row, {})}
    return {**train_summary(root / "train", every, result.metrics),
            "play": {"train_games": len(train), **play, "curriculum": "sec by task type"},
            "train_s": round(time.perf_counter() - started, 1)}


def train_games(per_type: int) -> list[int]:
    """Indices of train games the own-play rows learn on (evenly spread over the types)."""
    from memplay.environments.alfworld.demos import demo_games
    from memplay.environments.alfworld.env import TASK_TYPES, alfworld_data_dir, collect_games

    every = list(collect_games(str(alfworld_data_dir(None, "train")), "train", TASK_TYPES))
    return sorted(every.index(g) for g in demo_games("train", per_task_type=per_type))


def episode_successes(run_dir: Path, games: list[int]) -> list[bool]:
    """Success of each game of ``games`` (by seed) from the run's ``episodes.jsonl``."""
    rows = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    won = {r["seed"]: bool(r["success"]) for r in rows}
    return [won.get(seed, False) for seed in games]


def earlier_record(path: Path) -> dict[str, Any]:
    """The JSON at ``path``, or {} when there is none.

    >>> earlier_record(Path("/nonexistent.json"))
    {}
    """
    return json.loads(path.read_text()) if path.is_file() else {}


def walkthroughs(args: argparse.Namespace, size: tuple[int, ...], earlier: dict[str, Any]
                 ) -> tuple[list[Any], dict[str, Any]]:
    """The train walkthroughs the asked rows learn from (played once into the demo cache),
    and what the record says of them. Rows that use none (``none``, ``memrl``) play none
    and keep the earlier record's statistics, so their JSON still merges with its rows. A
    ``--memory`` run learns from none either, and its record says so (``demos`` is None).

    >>> walkthroughs(parse_args(["--rows", "memrl"]), (1, 1), {"demos": {"games": 6},
    ...              "demo_seconds": 2.0})
    ([], {'demos': {'games': 6}, 'demo_seconds': 2.0})
    >>> saved = argparse.Namespace(rows=["demos"], memory=Path("saved-memory"))
    >>> walkthroughs(saved, (1, 1), {"demos": {"games": 6}, "demo_seconds": 2.0})
    ([], {'demos': None, 'demo_seconds': 0.0})
    """
    if args.memory is not None:  # the saved memory's own walkthroughs are in its files
        return [], {"demos": None, "demo_seconds": 0.0}
    if not set(args.rows) & DEMO_ROWS:
        return [], {"demos": earlier.get("demos"), "demo_seconds": earlier.get(
            "demo_seconds", 0.0)}
    from memplay.environments.alfworld.demos import alfworld_demos, demo_statistics

    started = time.perf_counter()
    demos = [d for d in alfworld_demos("train", per_task_type=size[1], cache=args.demo_cache,
                                       workers=2) if d.success]
    return demos, {"demos": demo_statistics(demos),
                   "demo_seconds": round(time.perf_counter() - started, 1)}


def earlier_rows(path: Path, setting: dict[str, Any], asked: list[str]) -> dict[str, Any]:
    """Rows of the JSON at ``path`` that were not ``asked`` for now, kept only if that run had
    the same ``setting`` (mode, games, sizes; and for rows that learn from walkthroughs, the
    same walkthroughs): rows run in parts merge into one.

    >>> earlier_rows(Path("/nonexistent.json"), {"quick": False}, ["none"])
    {}
    """
    old = earlier_record(path)
    if not old or any(old.get(key) != value for key, value in setting.items()
                      if key != "demos"):
        return {}
    same_demos = old.get("demos") == setting.get("demos")
    return {row: r for row, r in old.get("results", {}).items()
            if row not in asked and (same_demos or row not in DEMO_ROWS)}


def plot(results: dict[str, Any], path: Path) -> None:
    """Grouped bars: success per task type, one bar per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = sorted({t for r in results.values() for t in r["per_task_type"]})
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / max(len(results), 1)
    for i, (row, r) in enumerate(results.items()):
        cells = [r["per_task_type"].get(t, {"games": 0, "solved": 0}) for t in types]
        ax.bar([x + i * width for x in range(len(types))],
               [c["solved"] / c["games"] if c["games"] else 0.0 for c in cells], width,
               label=f"{row} ({r['success']:.2f})")
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(types))],
                  [t.replace("_", " ") for t in types], rotation=20, fontsize=7)
    ax.set(ylabel="success", ylim=(0, 1.05), title="ALFWorld valid_seen, per task type")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    add_threads_arg(parser)
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS))
    parser.add_argument("--split", choices=list(RESULT_NAMES), default=SPLIT,
                        help="the games every row plays: valid_seen (default, docs/RESULTS.md), "
                             "valid_unseen (rooms no train game has; `alfworld-download`), or "
                             "dev: train games no row learns from, to choose settings on")
    parser.add_argument("--fresh", action="store_true",
                        help="replace the JSON instead of merging these rows into it")
    parser.add_argument("--clip", type=float, default=GATE_CLIP,
                        help="gated rows: the LLM term's range in nats (policy.llm_clip); "
                             "smaller settles more decisions without the model")
    parser.add_argument("--list-actions", choices=["all", "candidates", "none"],
                        default=GATED["list_actions"],
                        help="gated rows: the prompt lists every action ('all'), only "
                             "the ones the model scores, or none (policy.list_actions)")
    parser.add_argument("--reuse-scores", type=int, default=REUSE_SCORES, metavar="N",
                        help="gated rows: keep each model score for the episode's next N "
                             "decisions instead of asking again (policy.reuse_scores; 0: "
                             "always ask, as before)")
    parser.add_argument("--gated-prompt", choices=list(GATED_PROMPTS), default=GATED_PROMPT,
                        help="gated rows: the prompt of the calls the gate leaves: the "
                             "agent's usual one, 'bare' (no memory text, no recent moves), "
                             "'log' (prompt.layout log) or 'one-memory' (only the first "
                             "task memory)")
    parser.add_argument("--memory", type=Path,
                        help="evaluate this saved memory folder instead of learning one "
                             "(rows that use memory only; needs --out elsewhere)")
    parser.add_argument("--demo-cache", type=Path,
                        default=ROOT / ".cache" / "alfworld_demos" / "train_walkthrough.jsonl",
                        help="JSONL cache of played walkthroughs (resumable)")
    parser.add_argument("--llm", choices=["transformers", "openai"], default="transformers",
                        help="the embedded model (default) or an OpenAI-compatible server")
    parser.add_argument("--two-forwards", action="store_true",
                        help="the embedded model runs each call's prompt and candidate trie "
                             "as two forwards (one_forward=False), to time the one-forward "
                             "scorer against; needs --out elsewhere")
    parser.add_argument("--base-url", help="--llm openai: the server's root with /v1")
    parser.add_argument("--score-mode", choices=["auto", "logprobs", "top_logprobs", "generate"],
                        help="--llm openai: how the server scores actions (default auto)")
    args = parser.parse_args(argv)
    if args.llm != "openai" and (args.base_url or args.score_mode):
        parser.error("--base-url and --score-mode need --llm openai")
    if args.memory is not None:
        check_memory_args(parser, args)
    published = args.out.resolve() == PUBLISHED.resolve()
    if args.two_forwards and (args.llm != "transformers" or published):
        parser.error("--two-forwards is a timing comparison of the embedded model: use it with "
                     "--llm transformers and --out DIR other than bench/results")
    return args


def check_memory_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--memory``: an existing folder, rows that use memory, and an ``--out`` of its own
    (its rows are not the benchmark's and must not merge into the published JSON).

    >>> parse_args(["--memory", ".", "--rows", "none", "--out", "/tmp/x"])
    Traceback (most recent call last):
    SystemExit: 2
    """
    if not args.memory.is_dir():
        parser.error(f"--memory {args.memory}: no such folder; give a run's memory folder, "
                     "such as bench/results/runs/alfworld/demos+play/memory")
    without = [row for row in args.rows if row not in LLM_ROWS or LLM_ROWS[row][0] == "none"]
    if without:
        parser.error(f"--memory: rows {without} use no memory; ask for rows such as demos, "
                     "demos-flat or demos+play")
    if args.out.resolve() == PUBLISHED.resolve():
        parser.error("--memory needs --out DIR other than bench/results: rows on a saved "
                     "memory must not replace the benchmark's")


def row_llm(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The LLM the agent rows play with, and what the JSON records of it (never a key).

    >>> row_llm(parse_args(["--llm", "openai", "--base-url", "http://h:1/v1"]))[1]
    {'backend': 'openai', 'base_url': 'http://h:1/v1'}
    >>> parse_args(["--two-forwards"])
    Traceback (most recent call last):
    SystemExit: 2
    """
    from memplay.agents.components import make_llm
    from memplay.agents.config import AgentConfig

    if args.llm == "transformers":
        config = llm_config(args.threads)
        record: dict[str, Any] = {"backend": "transformers (embedded)", "threads": args.threads}
        if args.two_forwards:
            config.llm_kwargs["one_forward"] = False
            record["one_forward"] = False
        return make_llm(config), record
    kwargs = {"base_url": args.base_url, "score_mode": args.score_mode}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return make_llm(AgentConfig(llm="openai", llm_kwargs=kwargs)), {"backend": "openai", **kwargs}


def flat_llm() -> Any:
    """An LLM that scores every action alike (the ``scripted`` backend): memory decides.

    >>> flat_llm().name
    'scripted'
    """
    from memplay.agents.components import make_llm
    from memplay.agents.config import AgentConfig

    return make_llm(AgentConfig(llm="scripted"))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the asked rows on the same games, print the table, write the JSON."""
    args = parse_args(argv)
    from memplay.environments.alfworld.env import alfworld_data_dir
    from memplay.errors import DataNotFound

    try:  # before anything is played: valid_unseen is often the one missing
        alfworld_data_dir(None, data_split(args.split))
    except DataNotFound as err:
        raise SystemExit(f"bench_alfworld.py --split {args.split}: {err}") from None
    size = SIZES["quick" if args.quick else "full"]
    started, load = time.perf_counter(), list(os.getloadavg())
    games = eval_games(size[0], args.split)[:QUICK_GAMES if args.quick else None]
    setting = {"quick": args.quick, "split": args.split, "games": games, "max_steps": size[4],
               "sizes": dict(zip(("eval_per_type", "demos_per_type", "train_per_type",
                                  "epochs", "max_steps"), size))}
    path = result_path(args.out, RESULT_NAMES[args.split], args.quick)
    demos, played = walkthroughs(args, size, {} if args.fresh else earlier_record(path))
    setting["demos"] = played["demos"]
    results = {} if args.fresh else earlier_rows(path, setting, args.rows)
    results.update(play_rows(args, demos, games, size))
    results = {row: results[row] for row in ROWS if row in results}  # the table's order
    demo_s = played["demo_seconds"]
    record = {**setting, "demo_seconds": demo_s, "load_avg_at_start": load,
              "machine": machine(), "results": results,
              "wall_s": group_seconds(demo_s, results),
              "this_run_s": round(time.perf_counter() - started, 1)}
    finish(args.out, RESULT_NAMES[args.split], args.quick, record, lambda png: plot(results, png))
    return record


def group_seconds(demo_s: float, results: dict[str, Any]) -> float:
    """What a merged record's run_full groups take: the walkthroughs and every row's wall
    time, less the rows no group runs (``GROUPLESS_ROWS``).

    >>> group_seconds(10.0, {"demos": {"wall_s": 5.0}, "memrl": {"wall_s": 99.0}})
    15.0
    """
    return round(demo_s + sum(r["wall_s"] for row, r in results.items()
                              if row not in GROUPLESS_ROWS), 1)


def play_rows(args: argparse.Namespace, demos: list[Any], games: list[int],
              size: tuple[int, ...]) -> dict[str, Any]:
    """Every asked row on ``games``; each row records its wall time, LLM and load at its end."""
    from memplay.agents.components import make_embedder
    from memplay.agents.config import AgentConfig

    llm = embedder = llm_record = None
    if set(args.rows) & set(LLM_ROWS):
        embedder = make_embedder(AgentConfig())
    if set(args.rows) & (set(LLM_ROWS) - FLAT_ROWS):
        llm, llm_record = row_llm(args)
    root = args.out / "runs" / (RESULT_NAMES[args.split].replace("bench_", "")
                                + ("_quick" if args.quick else ""))
    results: dict[str, Any] = {}
    evaluation = GatedEvaluation(args.gated_prompt, args.clip, args.list_actions,
                                 args.reuse_scores)
    for row in args.rows:
        print(f"ALFWorld: {row}", flush=True)
        if row == "baseline":
            results[row] = baseline_row(demos, games, size[4], args.split)
        else:
            flat = row in FLAT_ROWS
            results[row] = {**agent_row(row, demos, games, size, flat_llm() if flat else llm,
                                        embedder, root / row, args.quick, args.split,
                                        evaluation, args.memory),
                            "llm": {"backend": "scripted (flat)"} if flat else llm_record}
        results[row]["load_avg_at_end"] = list(os.getloadavg())
        print(f"ALFWorld: {row}: {results[row]['success']:.2f} "
              f"({results[row]['wall_s']:.0f} s)", flush=True)
    return results


if __name__ == "__main__":
    main()
