"""Training throughput side by side on one BBBP split (#23): benchmarks/throughput_vs_chemprop.py's rows."""
from __future__ import annotations

from pathlib import Path

from resultgen.common import ResultsError, read_csv, source, table

CSV = "throughput_vs_chemprop.csv"
COMMAND = ("`OMP_NUM_THREADS=1 python benchmarks/throughput_vs_chemprop.py --epochs 30 --out "
           "benchmarks/results/throughput_vs_chemprop.csv` (one core; the other core ran another benchmark)")


def throughput_vs_chemprop(results_dir: Path) -> str:
    """RESULTS.md: molecules/s in training and wall time to the best validation epoch, per model."""
    rows = read_csv(results_dir, CSV)
    for col in ("split_hash", "seed", "batch_size", "torch_threads"):
        if rows[col].nunique() != 1:
            raise ResultsError(f"{CSV}: the rows differ in {col} ({sorted(rows[col].unique())}); one run per table")
    body = [(r["model"], f"{r['train_mol_per_s']:.0f}", f"{r['wall_s']:.0f} s", f"{int(r['best_epoch'])}",
             f"{r['to_best_s']:.0f} s", f"{r['test_roc_auc']:.3f}", r["note"]) for _, r in rows.iterrows()]
    first = rows.iloc[0]
    lines = [f"BBBP, DeepChem scaffold split (`{first['split_hash']}`), seed {int(first['seed'])}, batch "
             f"{int(first['batch_size'])}, {int(rows['epochs'].max())} epochs, {int(first['torch_threads'])} torch "
             f"thread(s), {first['date']}:", ""]
    lines += table(["model", "training molecules/s", "wall time", "best epoch", "time to best epoch",
                    "test ROC-AUC (one seed)", "how it was timed"], body)
    return "\n".join(lines + ["", source([CSV], len(rows), COMMAND, noun="rows, one per model")]) + "\n"
