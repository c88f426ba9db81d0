#!/usr/bin/env bash
# The flagship GNN pretraining (#25), run as legs of cumulative training time so the gain-vs-budget curve has
# a snapshot at each budget. Each leg continues the previous one (`pretrain --resume` on the same --out and its
# .work/ training checkpoints; the first leg too, so a killed first leg also continues) and is then copied to $OUT/legs/<minutes>min/; a leg whose copy exists is skipped,
# so rerunning the script after a kill continues where it stopped. One core: OMP_NUM_THREADS=1.
#
#   bash benchmarks/flagship_pretrain.sh                 # all legs: 30, 60, 120, 240, 480 min of training
#   LEGS="30 60" bash benchmarks/flagship_pretrain.sh    # only the first two
#
# Environment: PYTHON (default .venv/bin/python), OUT (default benchmarks/out/flagship), CORPUS, WORKERS
# (featurization processes of the first leg, default 2), LEGS, INIT (a pretrained folder to start from when OUT has
# no training checkpoints yet: a later session continues the last committed leg; the objective heads and Adam state
# restart, the provenance keeps the earlier legs as `parent`, and the budget counts them), DONE_MIN (the training
# minutes INIT already holds, so the legs keep their cumulative meaning). The package is imported from the folder the script
# lies in (`python -m` puts the working directory first on sys.path): for a run of many hours start it from a
# separate `git worktree` of a fixed commit, with absolute OUT/CORPUS/PYTHON and $DEEPCHEM_FINETUNE_CACHE, so that
# editing the main checkout cannot change the code of a later leg.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
OUT="${OUT:-benchmarks/out/flagship}"
CORPUS="${CORPUS:-../shared/data/corpora/zinc250k_rndm_zinc_drugs_clean.smi.gz}"
WORKERS="${WORKERS:-2}"
LEGS="${LEGS:-30 60 120 240 480}"
NAME="${NAME:-gin_zinc250k_am_desc}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$OUT/legs"
done_min="${DONE_MIN:-0}"
init=()
if [ -n "${INIT:-}" ] && ! ls "$OUT/$NAME.work"/checkpoint*.pt >/dev/null 2>&1; then init=(--init "$INIT"); fi
for leg in $LEGS; do
  if [ "$leg" -le "$done_min" ]; then continue; fi
  if [ -f "$OUT/legs/${leg}min/config.json" ]; then done_min=$leg; continue; fi
  budget=$((leg - done_min))
  echo "== leg to ${leg} min of training (+${budget} min) $(date -u +%FT%TZ)"
  "$PYTHON" -m deepchem_finetune.cli pretrain --objective attr_masking+descriptors --featurizer rich \
    --corpus "$CORPUS" --workers "$WORKERS" --num-layers 5 --hidden-dim 300 --batch-size 128 --epochs 1000 \
    --time-budget "$budget" --checkpoint-every 500 --no-progress --out "$OUT/$NAME" --resume "${init[@]}"
  init=()
  rm -rf "$OUT/legs/${leg}min.tmp"
  cp -r "$OUT/$NAME" "$OUT/legs/${leg}min.tmp"
  mv "$OUT/legs/${leg}min.tmp" "$OUT/legs/${leg}min"
  done_min=$leg
done
echo "== all legs done $(date -u +%FT%TZ)"
