#!/usr/bin/env bash
# Every benchmark in full mode, one after another (never in parallel: they time CPU work),
# writing into bench/results/. Prints each one's wall time; the JSON files record them too.
# Usage: bash bench/run_full.sh [script ...]   (default: all, in the order below)
set -u
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
mkdir -p bench/results/runs  # logs (ignored by git)
scripts=("$@")
if [ ${#scripts[@]} -eq 0 ]; then
    scripts=(bench_envs bench_soak bench_speed bench_transfer bench_llm bench_memory
             bench_learning bench_train)
fi
for name in "${scripts[@]}"; do
    start=$(date +%s)
    python "bench/${name%.py}.py" > "bench/results/runs/${name%.py}.log" 2>&1
    rc=$?
    echo "${name%.py}: rc=$rc, $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
done
