#!/usr/bin/env bash
# The protein flagship (#25) on FLIP GB1: a leg of seqcnn_uniprot_wide, its scratch twin, the zoo's small
# seqcnn_uniprot_mt, its twin and ridge, 3 seeds, split over two one-core processes so that both cores are busy
# (the wide arms cost ~10x the small ones). Writes $OUT/results.csv, the rows `benchmarks/results/flip_gb1_flagship.csv`
# holds; `make results` turns them into the protein flagship section of benchmarks/RESULTS.md.
#
#   bash benchmarks/flip_gb1_flagship.sh                       # the 180-min leg, split three_vs_rest
#   LEG=60min SPLIT=two_vs_rest bash benchmarks/flip_gb1_flagship.sh
#   SEEDS=0 OUT=/tmp/flip_try bash benchmarks/flip_gb1_flagship.sh --max-epochs 1   # extra arguments go to both runs
#
# Environment: PYTHON (default .venv/bin/python), LEG (default 180min), SPLIT (default three_vs_rest), SEEDS
# (default "0 1 2"), PROTEIN_DIR (default ../shared/data/protein), OUT (default benchmarks/out/flip_gb1_flagship/$LEG:
# one folder per leg, so that rows of two legs never mix). Each process's rows are kept in $OUT/a and $OUT/b (a rerun
# continues them: the benchmark skips finished cells). A run takes hours on two cores: start it from a separate
# `git worktree` of a fixed commit (as benchmarks/flagship_pretrain.sh says), so that edits cannot change later cells.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
LEG="${LEG:-180min}"
SPLIT="${SPLIT:-three_vs_rest}"
SEEDS="${SEEDS:-0 1 2}"
PROTEIN_DIR="${PROTEIN_DIR:-../shared/data/protein}"
OUT="${OUT:-benchmarks/out/flip_gb1_flagship/$LEG}"
WIDE="seqcnn:benchmarks/checkpoints/flagship_legs/seqcnn_uniprot_wide/$LEG"
[ -f "${WIDE#seqcnn:}/config.json" ] || { echo "no leg at ${WIDE#seqcnn:}" >&2; exit 2; }
export OMP_NUM_THREADS=1
extra=("$@")
bench() {
  # shellcheck disable=SC2086
  "$PYTHON" -c 'from deepchem_finetune.cli import main; main()' benchmark --datasets "flip_gb1:$SPLIT" \
    --no-twins --seeds $SEEDS --max-epochs 40 --patience 10 --protein-dir "$PROTEIN_DIR" --no-progress "$@" \
    ${extra[@]+"${extra[@]}"}
}
bench --models "$WIDE" --out "$OUT/a" &
a=$!
bench --models "scratch:$WIDE" seqcnn:seqcnn_uniprot_mt scratch:seqcnn:seqcnn_uniprot_mt ridge --out "$OUT/b" &
b=$!
trap 'kill $a $b 2>/dev/null' INT TERM
# the first process to fail stops the other at once
rc=0
wait -n $a $b || rc=$?
if [ "$rc" -ne 0 ]; then kill $a $b 2>/dev/null || true; wait || true; exit "$rc"; fi
wait $a $b || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
# one results.csv (protocols checked) and a paired summary.md of both processes' rows
"$PYTHON" -c 'from deepchem_finetune.cli import main; main()' report "$OUT/a" "$OUT/b" --out "$OUT"
