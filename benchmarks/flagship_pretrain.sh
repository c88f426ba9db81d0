#!/usr/bin/env bash
# The flagship pretraining (#25), run as legs of cumulative training so the gain-vs-budget curve has a snapshot
# at each budget. Each leg continues the previous one (`pretrain --resume` on the same --out and its .work/ training
# checkpoints; the first leg too, so a killed first leg also continues) and is then copied to $OUT/legs/<minutes>min/;
# a leg whose copy exists is skipped, so rerunning the script after a kill continues where it stopped. One core:
# OMP_NUM_THREADS=1.
#
# A leg is named by its nominal minutes of one idle core but bounded by optimizer steps: leg L stops at global step
# L * STEPS_PER_MIN (default 155: the first leg's 4,662 steps in 1,800 s of training on an idle core). A wall-clock
# bound made the legs depend on what else the machine ran (the 30 -> 60 min leg managed 2,230 steps in its 30
# minutes, half the first leg's rate) and restarted its clock after a kill; a step bound gives every leg the same
# compute whatever happens. Each leg's provenance records its steps, molecules seen and actual training seconds.
# (The 30- and 60-minute legs of 2026-12-05 were bounded by time: 4,662 and 6,892 steps.)
#
# LEG_BOUND=minutes bounds a leg by recorded training minutes instead: leg L trains until the budget the provenance
# records (`pretraining_budget`: training minutes times data-parallel processes, over the whole --init/--resume
# chain) reaches L, i.e. for (L - recorded minutes so far) / NPROC minutes of wall time (a leg killed and rerun
# starts that clock again, so it may overshoot; its provenance records what it did). With NPROC > 1 every leg runs
# as NPROC data-parallel processes of one core each (torch.distributed.run, gloo; BATCH_SIZE per process, so the
# optimizer step sees NPROC x BATCH_SIZE molecules):
#
#   # the 240-min GIN leg continued to 8 core-hours on 2 cores, a global batch of 2 x 64 = 128 as before
#   INIT=benchmarks/checkpoints/flagship_legs/gin_zinc250k_am_desc/240min DONE_MIN=240 LEG_BOUND=minutes NPROC=2 \
#   BATCH_SIZE=64 LEGS=480 bash benchmarks/flagship_pretrain.sh
#
# A finished leg is committed by copying it to benchmarks/checkpoints/flagship_legs/$NAME/<N>min/ (`make results`
# reads its provenance for the cost table; the benchmark fine-tunes it from there).
#
#   bash benchmarks/flagship_pretrain.sh                 # all legs: 30, 60, 120, 240, 480 nominal minutes
#   LEGS="30 60" bash benchmarks/flagship_pretrain.sh    # only the first two
#
# Environment: PYTHON (default .venv/bin/python), OUT (default benchmarks/out/flagship), CORPUS, WORKERS
# (featurization processes of the first leg, default 2), LEGS, STEPS_PER_MIN, BATCH_SIZE (default 128), INIT and
# DONE_MIN (continue from a committed leg, e.g. INIT=benchmarks/checkpoints/flagship_legs/gin_zinc250k_am_desc/60min DONE_MIN=60, when $OUT was
# lost: its weights start the next leg, with fresh optimizer state), NAME, OBJECTIVE (default
# attr_masking+descriptors) and MODEL_ARGS (default the 5 x 300 GIN on the rich featurizer; with an INIT none, its
# architecture and featurizer are kept). Other runs of the same script:
#
#   # the Hu et al. GCN continued with descriptor prediction
#   NAME=gcn_hu_supcp_desc OBJECTIVE=descriptors MODEL_ARGS= INIT=hu2020_gcn_supervised_contextpred DONE_MIN=0 \
#   LEGS="30 60" bash benchmarks/flagship_pretrain.sh
#   # the protein flagship: a wider, deeper SeqCNN (CARP-style: 16 dilated ByteNet blocks of width 128) with masked tokens
#   # on the UniProt corpus (a step is a batch of BATCH_SIZE sequences: set STEPS_PER_MIN to its own rate, measured
#   # with a few minutes of `pretrain ... --time-budget 5` on an idle core)
#   NAME=seqcnn_uniprot_wide OBJECTIVE=masked_tokens CORPUS=../shared/data/protein/corpus/uniprot_proteomes_15sp.fasta.gz \
#   MODEL_ARGS="--backbone seq_cnn --tokenizer protein --max-length 400 --truncate --width 128 --depth 16 --lr 2e-3" \
#   BATCH_SIZE=32 STEPS_PER_MIN=<its measured rate> LEGS="60 120 180" bash benchmarks/flagship_pretrain.sh
# (only GNN legs pair with the MoleculeNet grid's twins and chemprop in RESULTS.md; protein legs are scored on FLIP)
#
# The package is imported from the folder the script lies in (`python -m` puts the working directory first on
# sys.path): for a run of many hours start it from a separate `git worktree` of a fixed commit, with absolute
# OUT/CORPUS/PYTHON and $DEEPCHEM_FINETUNE_CACHE, so that editing the main checkout cannot change the code of a later
# leg.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
OUT="${OUT:-benchmarks/out/flagship}"
CORPUS="${CORPUS:-../shared/data/corpora/zinc250k_rndm_zinc_drugs_clean.smi.gz}"
WORKERS="${WORKERS:-2}"
LEGS="${LEGS:-30 60 120 240 480}"
NAME="${NAME:-gin_zinc250k_am_desc}"
OBJECTIVE="${OBJECTIVE:-attr_masking+descriptors}"
if [ -n "${INIT:-}" ]; then default_args=""; else default_args="--featurizer rich --num-layers 5 --hidden-dim 300"; fi
MODEL_ARGS="${MODEL_ARGS-$default_args}"
read -ra model_args <<< "$MODEL_ARGS"  # words, no globbing
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
BATCH_SIZE="${BATCH_SIZE:-128}"
LEG_BOUND="${LEG_BOUND:-steps}"
NPROC="${NPROC:-1}"
if [ "$LEG_BOUND" != steps ] && [ "$LEG_BOUND" != minutes ]; then echo "LEG_BOUND is steps or minutes" >&2; exit 2; fi
if ! [[ "$NPROC" =~ ^[1-9][0-9]*$ ]]; then echo "NPROC is a number of processes, got '$NPROC'" >&2; exit 2; fi
if [ "$NPROC" -gt 1 ] && [ "$LEG_BOUND" = steps ] && [ -z "${STEPS_PER_MIN:-}" ]; then
  # a step is NPROC x BATCH_SIZE molecules: the one-core default rate would not stand for the same minutes
  echo "NPROC=$NPROC needs LEG_BOUND=minutes, or its own STEPS_PER_MIN" >&2; exit 2
fi
launch=("$PYTHON" -m deepchem_finetune.cli)
if [ "$NPROC" -gt 1 ]; then
  launch=("$PYTHON" -m torch.distributed.run --standalone --nproc_per_node "$NPROC" -m deepchem_finetune.cli)
fi
if [ "$LEG_BOUND" = steps ] && [ "$BATCH_SIZE" != 128 ] && [ -z "${STEPS_PER_MIN:-}" ]; then
  echo "BATCH_SIZE=$BATCH_SIZE needs its own STEPS_PER_MIN (the default 155 is the GIN's rate at batch 128)" >&2; exit 2
fi
STEPS_PER_MIN="${STEPS_PER_MIN:-155}"
mkdir -p "$OUT/legs"
done_min="${DONE_MIN:-0}"
init=()
offset=0  # steps the run's global step does not count: those of an --init artifact (its step count starts at 0)
# every leg names INIT (its architecture and featurizer; the provenance's parent); --resume then restores the
# weights, optimizer state and step of the training checkpoints in $OUT/$NAME.work when there are some
if [ -n "${INIT:-}" ]; then init=(--init "$INIT"); fi
if [ -n "${INIT:-}" ]; then
  if [ -z "${DONE_MIN:-}" ]; then echo "INIT needs DONE_MIN (the nominal minutes its weights stand for)" >&2; exit 2; fi
  # the steps in the INIT weights: its run's global step plus those of the stages it was itself --init'ed from
  offset=$("$PYTHON" -c '
import sys
from deepchem_finetune.hub import read_pretrained
p, n = read_pretrained(sys.argv[1]).provenance, 0
while isinstance(p, dict) and p.get("steps"):
    n, p = n + int(p["steps"]), p.get("parent")
print(n)' "$INIT" | tail -n 1)
fi
for leg in $LEGS; do
  if [ "$leg" -le "$done_min" ]; then continue; fi
  if [ -f "$OUT/legs/${leg}min/config.json" ]; then done_min=$leg; continue; fi
  if [ "$LEG_BOUND" = minutes ]; then
    # the recorded minutes so far: those of the last finished run on $OUT/$NAME, else of INIT
    src="$OUT/$NAME"; [ -f "$src/config.json" ] || src="${INIT:-}"
    wall=$("$PYTHON" -c '
import sys
from deepchem_finetune.hub import read_pretrained
from deepchem_finetune.hub.budget import minutes_text, pretraining_budget
budget = pretraining_budget(read_pretrained(sys.argv[1]).provenance) if sys.argv[1] else {"minutes": 0.0}
if budget["minutes"] is None:
    sys.exit(f"{sys.argv[1]}: its provenance records no training time, so a leg cannot be bounded by minutes")
if budget.get("inexact"):  # e.g. untimed steps of runs killed before the clock: the leg will train longer
    print(f"note: the minutes so far are {minutes_text(budget)}", file=sys.stderr)
print(round((float(sys.argv[2]) - budget["minutes"]) / int(sys.argv[3]), 2))' "$src" "$leg" "$NPROC" | tail -n 1)
    if ! awk -v w="$wall" 'BEGIN { exit !(w > 0) }'; then echo "leg ${leg}: already reached (${src})" >&2; exit 2; fi
    bound=(--time-budget "$wall")
    echo "== leg to ${leg} recorded min: ${wall} min of wall time on ${NPROC} process(es) $(date -u +%FT%TZ)"
  else
    steps=$((leg * STEPS_PER_MIN - offset))
    if [ "$steps" -le 0 ]; then
      echo "leg ${leg}: its step bound ${leg} x ${STEPS_PER_MIN} is not above the ${offset} steps of INIT" >&2; exit 2
    fi
    bound=(--max-steps "$steps")
    echo "== leg to ${leg} nominal min of training: global step ${steps} (+${offset} from --init) $(date -u +%FT%TZ)"
  fi
  "${launch[@]}" pretrain --objective "$OBJECTIVE" "${model_args[@]}" \
    --corpus "$CORPUS" --workers "$WORKERS" --batch-size "$BATCH_SIZE" --epochs 1000 \
    "${bound[@]}" --checkpoint-every 500 --no-progress --out "$OUT/$NAME" --resume "${init[@]}"
  rm -rf "$OUT/legs/${leg}min.tmp"
  cp -r "$OUT/$NAME" "$OUT/legs/${leg}min.tmp"
  mv "$OUT/legs/${leg}min.tmp" "$OUT/legs/${leg}min"
  done_min=$leg
done
echo "== all legs done $(date -u +%FT%TZ)"
