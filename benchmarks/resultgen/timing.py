"""Wall time of the main job (#24): benchmarks/workflow_timing.py's rows (one per command and run)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from resultgen.common import read_csv, source, table

CSV = "workflow_timing.csv"
COMMAND = "`python benchmarks/workflow_timing.py` (nothing else running on the machine)"


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def workflow_timing(results_dir: Path) -> str:
    """README: what `finetune --ensemble 5` on 1,000 molecules and `predict` on 10,000 SMILES cost, per run."""
    rows = read_csv(results_dir, CSV)
    body = []
    for _, r in rows.iterrows():
        if r["command"] == "finetune":
            options = "" if pd.isna(r.get("options")) or not str(r.get("options")).strip() else f" {r['options']}"
            what = (f"`finetune{options}` on {int(r['molecules']):,} molecules (ESOL example; {int(r['ensemble'])} "
                    f"members from `{r['pretrained']}`, recipe {r['recipe']}, at most {int(r['max_epochs'])} epochs: "
                    f"stopped after {str(r['member_epochs']).replace(' ', ', ')}; ensemble test RMSE "
                    f"{r['test_rmse']:.2f})")
        else:
            what = f"`predict` on {int(r['molecules']):,} SMILES with that {int(r['ensemble'])}-member model"
        body.append((what, _minutes(r["wall_seconds"]), f"{int(r['cpu_count'])} cores, {r['cpu']}",
                     str(r["date"])[:10]))
    lines = table(["command", "wall time", "machine", "date"], body)
    return "\n".join(lines + ["", source([CSV], len(rows), COMMAND, noun="timed commands")]) + "\n"
