"""Published reference numbers drawn beside ours. Only numbers we could find in a stored source are listed;
each entry names its source, its split and its metric (ROC-AUC as a fraction, RMSE, Spearman).

Splits differ between sources and from ours (DeepChem's scaffold split unless a run says otherwise), so these
are anchors, not like-for-like comparisons.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

_HU = ("Hu et al., ICLR 2020, Table 1 (GIN 5 x 300, their scaffold split, 10 seeds), as quoted in "
       "PaddlePaddle/PaddleHelix apps/pretrained_compound/pretrain_gnns/README.md ('Paper' rows), "
       "THUDM/GraphMAE README.md (AttrMasking row) and Papers with Code (Supervised + ContextPred)")

REFERENCES: Dict[str, Dict] = {
    "Hu2020 GIN no pretrain": {
        "metric": "roc_auc", "split": "Hu et al. scaffold", "source": _HU,
        "values": {"bbbp": 0.658, "tox21": 0.740, "toxcast": 0.634, "clintox": 0.580, "bace_classification": 0.701}},
    "Hu2020 GIN AttrMasking": {
        "metric": "roc_auc", "split": "Hu et al. scaffold", "source": _HU,
        "values": {"bbbp": 0.643, "tox21": 0.767, "toxcast": 0.642, "clintox": 0.718, "hiv": 0.772,
                   "bace_classification": 0.793}},
    "Hu2020 GIN sup+AttrMasking": {
        "metric": "roc_auc", "split": "Hu et al. scaffold", "source": _HU,
        "values": {"bbbp": 0.665, "tox21": 0.779, "toxcast": 0.651, "clintox": 0.737, "bace_classification": 0.803}},
    "Hu2020 GIN sup+ContextPred": {
        "metric": "roc_auc", "split": "Hu et al. scaffold", "source": _HU,
        "values": {"bbbp": 0.687, "clintox": 0.726, "bace_classification": 0.845}},
    # Wu et al. 2018 (MoleculeNet, Chem. Sci.), test: regression Table 8 (random split); classification
    # GraphConv as quoted in chemprop's early README (scaffold split for BBBP/BACE/HIV, random for the others)
    "MoleculeNet GraphConv": {
        "metric": "mixed", "split": "MoleculeNet (random; scaffold for BBBP/BACE/HIV)",
        "source": "Wu et al. 2018, MoleculeNet; Table 8 and chemprop README 'GraphConv (deepchem)' column",
        "values": {"delaney": 0.97, "freesolv": 1.40, "lipo": 0.655, "bbbp": 0.690, "bace_classification": 0.783,
                   "hiv": 0.763, "tox21": 0.829, "toxcast": 0.716, "clintox": 0.807}},
    "MoleculeNet RF": {
        "metric": "rmse", "split": "MoleculeNet random", "source": "Wu et al. 2018, MoleculeNet, Table 8",
        "values": {"delaney": 1.07, "freesolv": 2.03, "lipo": 0.876}},
    # deepchem/moleculenet README leaderboard: scaffold split, 3 runs, test (GCN = dc.models.GCNModel)
    "DeepChem leaderboard GCN": {
        "metric": "mixed", "split": "DeepChem scaffold", "source": "deepchem/moleculenet README.md leaderboard",
        "values": {"delaney": 0.885, "lipo": 0.781, "bace_classification": 0.818, "clintox": 0.907}},
    "DeepChem leaderboard RF": {
        "metric": "mixed", "split": "DeepChem scaffold", "source": "deepchem/moleculenet README.md leaderboard",
        "values": {"delaney": 1.741, "lipo": 0.962, "bace_classification": 0.851, "clintox": 0.783}},
}

#: FLIP (Dallago et al. 2021, NeurIPS Datasets & Benchmarks, openreview p2dMLEwL8tF), GB1, test Spearman of the
#: "Ridge" (one-hot) and "CNN" baselines, as transcribed in SpectrAI-Initiative/bio-benchmark-atlas
#: (registry/evaluations/flip-gb1-*.yaml); not re-checked against the PDF here.
FLIP_REFERENCES = {
    "FLIP ridge": {"flip_gb1:one_vs_rest": 0.28, "flip_gb1:two_vs_rest": 0.59, "flip_gb1:three_vs_rest": 0.76,
                   "flip_gb1:low_vs_high": 0.34, "flip_gb1:sampled": 0.82},
    "FLIP CNN": {"flip_gb1:one_vs_rest": 0.17, "flip_gb1:two_vs_rest": 0.32, "flip_gb1:three_vs_rest": 0.83,
                 "flip_gb1:low_vs_high": 0.51, "flip_gb1:sampled": 0.91},
}


def references_for(dataset: str, metric: str) -> List[Tuple[str, float]]:
    """Published (name, value) pairs for a dataset in a metric's units.

    Examples
    --------
    >>> dict(references_for("bbbp", "roc_auc"))["Hu2020 GIN no pretrain"]
    0.658
    >>> references_for("bbbp", "rmse")
    []
    """
    if metric == "spearman":
        return [(n, r[dataset]) for n, r in FLIP_REFERENCES.items() if dataset in r]
    from deepchem_finetune.data import dataset_mode
    own = "roc_auc" if dataset_mode(dataset) == "classification" else "rmse"  # what a 'mixed' entry holds
    return [(name, ref["values"][dataset]) for name, ref in REFERENCES.items()
            if dataset in ref["values"] and metric == (own if ref["metric"] == "mixed" else ref["metric"])]
