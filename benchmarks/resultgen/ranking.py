"""The transferability estimate vs measured fine-tuning gains (#26): benchmarks/rank_validation.py's rows."""
from __future__ import annotations

import sys
from pathlib import Path

from resultgen.common import read_csv, source

CSV = "rank_validation.csv"
COMMAND = ("`python benchmarks/rank_validation.py --short-finetune 2` (estimates on the training split each protocol's "
           "rows used; measured gains from `descriptor_ablation.csv`, `hu2020_gcn.csv` and the paired grid)")


def rank_validation(results_dir: Path) -> str:
    """RESULTS.md: per protocol, each estimator's Spearman with the measured gains and how often its pick is the best,
    against fixed policies ("always <entry>")."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from rank_validation import summary_markdown  # the script's own summary, one definition
    rows = read_csv(results_dir, CSV)
    return "\n".join(summary_markdown(rows) + ["", source([CSV], len(rows), COMMAND)]) + "\n"
