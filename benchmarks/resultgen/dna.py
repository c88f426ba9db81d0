"""Gene sequences (#27): benchmarks/dna_benchmark.py's rows, k-mer baseline vs SeqCNN scratch twin vs pretrained."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from resultgen.common import read_csv, source

CSV, LEAK_CSV = "dna.csv", "dna_split_leak.csv"
ROOT = Path(__file__).resolve().parents[2]
#: the backbones of the rows: the zoo's genome backbone, and one pretrained on the yeast sequences themselves (labels
#: hidden; its corpus holds the test sequences too, so it is kept out of the zoo)
BACKBONES = {"seqcnn_bacteria_mt": ROOT / "deepchem_finetune" / "hub" / "zoo" / "seqcnn_bacteria_mt",
             "seqcnn_yeast_mt": ROOT / "benchmarks" / "checkpoints" / "seqcnn_yeast_mt"}
COMMAND = ("`python benchmarks/dna_benchmark.py --tasks yeast_expression --splits homology --seeds 0 1 2 "
           "--pretrained seqcnn_bacteria_mt --max-train 4000 --max-valid 2000 --max-epochs 15 --patience 3` (yeast on "
           "the random split: `--splits random --models kmer` only), the same with `--pretrained benchmarks/checkpoints/seqcnn_yeast_mt "
           "--models scratch pretrained`, and `--tasks ecoli_promoters --splits homology random` without "
           "`--max-train`/`--max-valid` (all rows of that task)")
LEAK_COMMAND = ("`python benchmarks/dna_benchmark.py --tasks yeast_expression --splits homology random --models kmer "
                "scratch --width 128 --depth 6 --max-valid 2000 --max-epochs 5 --patience 2 --out "
                "benchmarks/results/dna_split_leak.csv` (all 55,392 training rows)")


def _report(rows) -> list:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from dna_benchmark import report  # the script's own report, one definition
    # the script writes a document of its own (## headings); here it sits under a ### section
    return [("#### " + line[3:]) if line.startswith("## ") else line for line in report(rows)]


def pretraining_cost(name: str) -> str:
    """One line: what a backbone of the rows cost (from its provenance)."""
    prov = json.loads((BACKBONES[name] / "config.json").read_text())["provenance"]
    data = prov["data"]
    return (f"- `{name}` (from its provenance): {prov['training_seconds'] / 3600:.2f} h of "
            f"training, wall clock, in {prov['processes']} process(es) on a 2-core machine; {prov['steps']:,} steps, "
            f"{prov['molecules_seen']:,} sequences seen ({prov['molecules_seen'] / data['train_size']:.1f} passes "
            f"over the {data['train_size']:,} training sequences of `{data['name']}`); held-out masked-token accuracy "
            f"{prov['eval_masked_accuracy']:.3f}, perplexity {prov['eval_perplexity']:.2f}.")


def dna(results_dir: Path) -> str:
    """RESULTS.md: the DNA tasks, per arm and paired, and the random-split leak."""
    rows, leak = read_csv(results_dir, CSV), read_csv(results_dir, LEAK_CSV)
    lines = ["Pretraining cost:", ""] + [pretraining_cost(name) for name in BACKBONES
                                         if rows["model"].str.endswith(name).any()]
    lines += ["", "### Pretrained vs scratch twin vs k-mer baseline", ""] + _report(rows)
    lines += ["", source([CSV], len(rows), COMMAND), "",
              "### How much a random split overestimates (yeast, all 55,392 training rows)", ""] + _report(leak)
    lines += ["", source([LEAK_CSV], len(leak), LEAK_COMMAND)]
    return "\n".join(lines) + "\n"
