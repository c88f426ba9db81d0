#!/usr/bin/env bash
# Run benchmarks/hu2020_finetune.py as one process per (weights, seed), all at the same time: the way to fill one
# GPU with several small fine-tuning runs (or several CPU cores with one run each).
#
# Usage (repository root):
#   benchmarks/hu2020_parallel.sh DATASET OUT_ROOT "WEIGHTS ..." "SEEDS ..." [hu2020_finetune.py options]
# e.g.
#   HU_DEADLINE=$(( $(date +%s) + 3600 )) benchmarks/hu2020_parallel.sh hiv benchmarks/out/hu_hiv \
#       "scratch gcn_contextpred" "1 2" --epochs 100 --threads 2 --compile
#
# Each run writes to OUT_ROOT/WEIGHTS_sSEED/ (the layout of the one-process commands in benchmarks/RESULTS.md: its
# results.csv, curves/, and state/ while unfinished) with its log in log.txt there, and featurizes into its own
# cache (OUT_ROOT/WEIGHTS_sSEED/cache), so concurrent runs never write the same DeepChem cache folder. Rerunning
# the same command continues unfinished runs from their saved state.
#
# HU_DEADLINE (unix seconds, optional): no run starts an epoch after it (each start gets --time-budget set to the
# time left) and a run still busy 60 s past it is killed (its state of the last finished epoch stays valid).
# A run given --compile that fails (other than by the deadline, a signal or a missing interpreter) is started once
# more without --compile; it continues from its state. PYTHON (default .venv/bin/python if present, else python)
# may hold several words, e.g. an interpreter and a wrapper script. Exit status: 0 when every run exited 0, else 1.
# Ctrl-C / SIGTERM stops all runs.
set -uo pipefail
if [ $# -lt 4 ]; then
    grep '^#' "$0" | sed -n '2,$p' >&2
    exit 2
fi
dataset=$1 root=$2 weights=$3 seeds=$4
shift 4
if [ -x .venv/bin/python ]; then PYTHON=${PYTHON:-.venv/bin/python}; else PYTHON=${PYTHON:-python}; fi
plain=()
for a in "$@"; do [ "$a" = --compile ] || plain+=("$a"); done

one_run() {  # one_run OUT WEIGHTS SEED ARGS...
    local out=$1 w=$2 s=$3
    shift 3
    local budget=() limit=()
    if [ -n "${HU_DEADLINE:-}" ]; then
        local left=$(( HU_DEADLINE - $(date +%s) ))
        [ "$left" -gt 0 ] || { echo "deadline passed, not started" >>"$out/log.txt"; return 124; }
        budget=(--time-budget "$(awk "BEGIN{print $left / 60}")")
        limit=(timeout --foreground --signal=KILL $(( left + 60 )))  # --foreground: stays in our process group
    fi
    DEEPCHEM_FINETUNE_CACHE=$out/cache "${limit[@]}" $PYTHON benchmarks/hu2020_finetune.py --datasets "$dataset" \
        --weights "$w" --seeds "$s" --out "$out" "${budget[@]}" "$@" >>"$out/log.txt" 2>&1
}

trap 'trap - INT TERM; kill -TERM 0' INT TERM  # background jobs ignore SIGINT: stop every run explicitly
pids=()
for w in $weights; do
    for s in $seeds; do
        out=$root/${w}_s$s
        mkdir -p "$out"
        (
            one_run "$out" "$w" "$s" "$@"
            rc=$?
            case $rc in
                0|124|126|127|130|137|143) ;;  # done, deadline, no interpreter, signals: retrying cannot help
                *) if [ ${#plain[@]} -ne $# ]; then
                       echo "exit $rc with --compile: starting again without it" >>"$out/log.txt"
                       one_run "$out" "$w" "$s" "${plain[@]}"
                       rc=$?
                   fi ;;
            esac
            echo "${w}_s$s: exit $rc"
            exit $rc
        ) &
        pids+=($!)
    done
done
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done
exit $failed
