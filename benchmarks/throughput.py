"""Throughput benchmark: featurization, GNN training and inference (molecules/s) on BBBP, CPU.

Run from the repository root:

    .venv/bin/python benchmarks/throughput.py [--quick] [--threads 2] [--dataset ../shared/data/moleculenet/BBBP.csv]

Prints a markdown report, then one greppable ``metric: value`` line per figure.
Default takes ~2-3 minutes on 2 cores; ``--quick`` well under one minute.
"""
import argparse
import logging
import os
import platform
import time

import deepchem_finetune as dcf  # before deepchem: silences DeepChem's import chatter
import deepchem as dc
import numpy as np
import pandas as pd
import torch
from rdkit import RDLogger
from deepchem_finetune import MolGNNModel, MolGraphFeaturizer, featurize_smiles

REFERENCES = [  # measured earlier on this same machine (team notes); quoted, not re-measured here
    ("chemprop 2.3.1 default D-MPNN, BBBP, batch 32", "~575 mol/s training"),
    ("torch-geometric GINE 5x300", "~370 mol/s training, ~1,500 mol/s inference"),
    ("DeepChem MolGraphConvFeaturizer(use_edges=True)", "~150 mol/s featurization"),
]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_model(featurizer, feats, y, epochs, label):
    """Warm up on 64 molecules, then time fit (E epochs) and predict on the whole set."""
    ds = dc.data.NumpyDataset(feats, y)
    model = MolGNNModel(n_tasks=1, mode="classification", featurizer=featurizer, num_layers=5,
                        hidden_dim=300, batch_size=32, seed=0)
    model.fit(dc.data.NumpyDataset(feats[:64], y[:64]), nb_epoch=1, checkpoint_interval=0)
    _, t_fit = timed(lambda: model.fit(ds, nb_epoch=epochs, checkpoint_interval=0))
    _, t_pred = timed(lambda: model.predict(ds))
    return {"label": label, "n": len(ds), "epochs": epochs, "t_fit": t_fit, "t_pred": t_pred,
            "train": epochs * len(ds) / t_fit, "infer": len(ds) / t_pred}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test, < 1 min)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--dataset", default="../shared/data/moleculenet/BBBP.csv",
                    help="CSV with columns 'smiles' and 'p_np'")
    args = ap.parse_args()
    n = 300 if args.quick else 2000
    n_dc = 300  # DeepChem featurizer is ~150 mol/s: time it on fewer molecules
    n_dense = 300 if args.quick else 600  # dense (DeepChem) features for the training comparison
    epochs = 1 if args.quick else 2
    torch.set_num_threads(args.threads)
    logging.getLogger("deepchem").setLevel(logging.ERROR)  # DeepChem logs each unparsable SMILES
    logging.getLogger("deepchem_finetune").setLevel(logging.ERROR)
    load_start = os.getloadavg()[0]

    df = pd.read_csv(args.dataset)
    smiles = df["smiles"].astype(str).tolist()[:n]
    labels = df["p_np"].to_numpy(dtype=np.float32)[:n]

    # 1. featurization
    hu, t_hu = timed(lambda: featurize_smiles(smiles, MolGraphFeaturizer("hu2020"), skip_invalid=True))
    rich, t_rich = timed(lambda: featurize_smiles(smiles, MolGraphFeaturizer("rich"), skip_invalid=True))
    dc_feat = dc.feat.MolGraphConvFeaturizer(use_edges=True)
    RDLogger.DisableLog("rdApp.*")  # RDKit's valence warnings (featurize_smiles re-enables them on exit)
    _, t_dc = timed(lambda: dc_feat.featurize(smiles[:n_dc]))
    feat = {"hu2020": len(smiles) / t_hu, "rich": len(smiles) / t_rich, "deepchem": min(n_dc, n) / t_dc}

    # 2. training / inference (dense DeepChem features: featurized once, on a subset)
    dense = featurize_smiles(smiles[:n_dense], dc_feat, skip_invalid=True)
    runs = [bench_model(MolGraphFeaturizer("hu2020"), hu.features, labels[hu.indices][:, None], epochs,
                        'MolGraphFeaturizer("hu2020")'),
            bench_model(dc_feat, dense.features, labels[dense.indices][:, None], epochs,
                        "dc MolGraphConvFeaturizer(use_edges=True)")]

    # report
    print("# deepchem_finetune throughput" + (" (--quick)" if args.quick else ""))
    print(f"\n- CPU: {cpu_model()}, {os.cpu_count()} cores"
          f" ({len(os.sched_getaffinity(0))} usable)")
    print(f"- torch {torch.__version__}, {torch.get_num_threads()} threads; deepchem {dc.__version__};"
          f" deepchem_finetune {dcf.__version__}; python {platform.python_version()}")
    load_end, cores = os.getloadavg()[0], len(os.sched_getaffinity(0))
    print(f"- load average (1 min): {load_start:.2f} at start, {load_end:.2f} at end")
    if max(load_start, load_end) > cores - 0.5:
        print(f"- **WARNING: machine busy (load > {cores} cores - 0.5); other processes compete for the CPU"
              " and multi-threaded torch suffers most. Figures are depressed; re-run on an idle machine.**")
    print(f"- data: {args.dataset}, first {len(smiles)} SMILES ({len(hu.errors)} invalid skipped)")
    print("\n## Featurization\n\n| featurizer | molecules | mol/s | vs DeepChem |\n|---|---|---|---|")
    print(f'| MolGraphFeaturizer("hu2020") | {len(smiles)} | {feat["hu2020"]:,.0f} |'
          f' {feat["hu2020"] / feat["deepchem"]:.1f}x |')
    print(f'| MolGraphFeaturizer("rich") | {len(smiles)} | {feat["rich"]:,.0f} |'
          f' {feat["rich"] / feat["deepchem"]:.1f}x |')
    print(f'| dc MolGraphConvFeaturizer(use_edges=True) | {min(n_dc, n)} | {feat["deepchem"]:,.0f} | 1.0x |')
    print("\n## GNN (MolGNNModel, GIN 5x300, batch 32) inside DeepChem fit / predict\n")
    print("| features | molecules | epochs | train s | train mol/s | predict s | inference mol/s |")
    print("|---|---|---|---|---|---|---|")
    for r in runs:
        print(f'| {r["label"]} | {r["n"]} | {r["epochs"]} | {r["t_fit"]:.1f} | {r["train"]:,.0f} |'
              f' {r["t_pred"]:.2f} | {r["infer"]:,.0f} |')
    print("\n## Reference peers (quoted from team notes, same machine; NOT measured by this run)\n")
    for name, fig in REFERENCES:
        print(f"> {name}: {fig}")

    print("\n```")
    print(f"featurize_hu2020_mol_per_s: {feat['hu2020']:.1f}")
    print(f"featurize_rich_mol_per_s: {feat['rich']:.1f}")
    print(f"featurize_deepchem_mol_per_s: {feat['deepchem']:.1f}")
    print(f"featurize_hu2020_speedup_vs_deepchem: {feat['hu2020'] / feat['deepchem']:.2f}")
    print(f"featurize_rich_speedup_vs_deepchem: {feat['rich'] / feat['deepchem']:.2f}")
    for key, r in zip(("hu2020", "deepchem_dense"), runs):
        print(f"train_{key}_mol_per_s: {r['train']:.1f}")
        print(f"infer_{key}_mol_per_s: {r['infer']:.1f}")
    print(f"torch_threads: {torch.get_num_threads()}")
    print(f"load_avg_1min_start: {load_start:.2f}")
    print(f"load_avg_1min_end: {load_end:.2f}")
    print("```")


if __name__ == "__main__":
    main()
