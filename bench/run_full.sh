#!/usr/bin/env bash
# Every benchmark in full mode, one after another (never in parallel: they time CPU work),
# writing into bench/results/. Prints each one's wall time; the JSON files record them too.
# Usage: bash bench/run_full.sh [script ...]   (default: the core group, in the order below)
#        bash bench/run_full.sh --group NAME   (core: the small benchmarks and bench_gate;
#                                               learning: the bench_learning matrix; selfplay:
#                                               bench_selfplay; curriculum: bench_curriculum;
#                                               transfer-1 to -11: bench_transfer, a few rows of
#                                               one game each, merged into one JSON; alfworld:
#                                               bench_alfworld's baseline, gated demos,
#                                               demos-flat and none rows; alfworld-3: memrl-flat;
#                                               alfworld-4: demos+play; alfworld-5: the
#                                               default-view rows; alfworld-2: the demos
#                                               and none rows with every score (references);
#                                               distill-1 to -5: bench_distill's parts;
#                                               the ALFWorld curve: distill-3, distill-4, then
#                                               distill-5 and distill-4 once per chunk more)
# Estimated minutes per group on 2 idle cores: docs/speed.md ("Benchmark groups").
# THREADS (default 2): torch threads of the embedded model. 2 suits an idle 2-core machine;
# on a shared, loaded one use THREADS=1 (see bench/README.md). Success tables do not depend on it.
set -u
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
export ALFWORLD_DATA="${ALFWORLD_DATA:-$PWD/.cache/alfworld}"  # where `make` unpacks it
threads="${THREADS:-2}"
py="${PYTHON:-.venv/bin/python}"  # the environment `make test` / `make demo` creates
[ -x "$py" ] || py=python
mkdir -p bench/results/runs  # logs (ignored by git)
group=core
transfer_games=()  # bench_transfer: all games and rows unless a transfer group names some
transfer_rows=()
alfworld_rows=(baseline none demos demos-flat memrl-flat demos+play)  # bench_alfworld alone
distill_parts=(rounds demos new-maps kuhn)  # bench_distill named alone (ALFWorld: distill-3 to -5)
distill_flags=()
# (demos-ungated and none-ungated, the references with every action scored, run only when
# named: --group alfworld-2)
if [ "${1:-}" = "--group" ]; then
    group="${2:?--group needs a name: core or selfplay}"
    shift 2
fi
scripts=("$@")
if [ ${#scripts[@]} -eq 0 ]; then
    case "$group" in  # each group fits the 60-minute budget on 2 idle cores
        core) scripts=(bench_envs bench_soak bench_memory bench_speed bench_llm bench_train
                    bench_scale bench_gate);;
        learning) scripts=(bench_learning);;
        selfplay) scripts=(bench_selfplay);;
        curriculum) scripts=(bench_curriculum);;
        # one game's rows per group, split by the row times measured (bench/README.md)
        transfer-1) transfer_games=(FrozenLake-4x4); transfer_rows=(none rag memrl-state);;
        transfer-2) transfer_games=(FrozenLake-4x4); transfer_rows=(memrl demos demos+play);;
        transfer-3) transfer_games=(FrozenLake-8x8); transfer_rows=(none memrl demos);;
        transfer-4) transfer_games=(FrozenLake-8x8); transfer_rows=(demos+play);;
        transfer-5) transfer_games=(Sokoban-gen); transfer_rows=(none demos);;
        transfer-6) transfer_games=(Sokoban-gen); transfer_rows=(memrl);;
        transfer-7) transfer_games=(Minesweeper); transfer_rows=(none memrl-state memrl);;
        # the demos rows' evaluation is gated (docs/speed.md), so they share a group with none
        alfworld) scripts=(bench_alfworld); alfworld_rows=(baseline demos demos-flat none);;
        alfworld-2) scripts=(bench_alfworld); alfworld_rows=(demos-ungated none-ungated);;
        # own play alone, memory deciding (memrl, the same with the model, runs only when named:
        # at these sizes about 16 hours on 2 cores, docs/ALFWORLD.md)
        alfworld-3) scripts=(bench_alfworld); alfworld_rows=(memrl-flat);;
        alfworld-4) scripts=(bench_alfworld); alfworld_rows=(demos+play);;
        transfer-8) transfer_games=(Sokoban-gen); transfer_rows=(demos+play);;
        transfer-9) transfer_games=(TextWorld-gen); transfer_rows=(none demos memrl);;
        transfer-10) transfer_games=(TextWorld-gen); transfer_rows=(memrl-state demos+play);;
        transfer-11) transfer_games=(Sokoban-gen); transfer_rows=(memrl-state);;
        alfworld-5) scripts=(bench_alfworld); alfworld_rows=(demos-default demos-default-flat);;
        # bench_distill's parts, merged into one JSON (docs/distillation.md)
        distill-1) scripts=(bench_distill); distill_parts=(rounds);;
        distill-2) scripts=(bench_distill); distill_parts=(demos new-maps kuhn);;
        # the ALFWorld curve, a point per chunk: training (about 21 min) and scoring (34-44 min)
        # are separate groups, as together they can pass 60 minutes (65 for chunk 1)
        distill-3) scripts=(bench_distill); distill_parts=(alfworld-train)  # chunk 1, base model
                   distill_flags=(--alfworld-restart);;
        distill-4) scripts=(bench_distill); distill_parts=(alfworld-eval);;  # the last chunk
        distill-5) scripts=(bench_distill); distill_parts=(alfworld-train);;  # one chunk more
        *) echo "unknown group $group (core, learning, selfplay, curriculum, transfer-1 to -11," \
                "alfworld to alfworld-5, distill-1 to -5)" >&2
           exit 2;;
    esac
    [ ${#transfer_games[@]} -gt 0 ] && scripts=(bench_transfer)
fi
for name in "${scripts[@]}"; do
    name="${name%.py}"
    extra=()
    case "$name" in  # the scripts that run the embedded model take --threads
        bench_speed|bench_llm|bench_train|bench_selfplay|bench_curriculum|bench_scale|bench_gate)
            extra=(--threads "$threads");;
        bench_alfworld) extra=(--threads "$threads" --rows "${alfworld_rows[@]}");;
        bench_transfer) extra=(--threads "$threads" --resume)  # keeps an interrupted run's rows
            [ ${#transfer_games[@]} -gt 0 ] && extra+=(--games "${transfer_games[@]}")
            [ ${#transfer_rows[@]} -gt 0 ] && extra+=(--rows "${transfer_rows[@]}");;
        bench_learning) extra=(--threads "$threads" --fresh);;  # the whole matrix, no merge
        bench_distill) extra=(--threads "$threads" --parts "${distill_parts[@]}"
                              ${distill_flags[@]+"${distill_flags[@]}"});;
    esac
    start=$(date +%s)
    "$py" "bench/$name.py" "${extra[@]}" > "bench/results/runs/$name.log" 2>&1
    rc=$?
    echo "$name: rc=$rc, $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "tables (README.md, docs/, bench/README.md): python bench/tables.py --write"
