"""Convert the published pretrain-gnns weights (Hu et al., ICLR 2020; MIT license) into zoo entries.

Run once from the repository root (seconds):

    .venv/bin/python benchmarks/convert_hu2020_weights.py --source ../shared/data/pretrain_gnns/chem_model_architecture

Each ``<gnn>_<method>.pth`` (gcn / graphsage / gat x contextpred / supervised_contextpred) becomes
``deepchem_finetune/hub/zoo/hu2020_<gnn>_<method>/`` in our pretrained format: the same weights mapped by name
(:mod:`deepchem_finetune.hub.pretrain_gnns`), with the source file's sha256, repository and commit, the license
(text in ``deepchem_finetune/hub/licenses/pretrain-gnns_MIT.txt``), the citation, what they were pretrained on and
this command in the provenance.
"""
import argparse
import os
import shutil

import deepchem_finetune  # noqa: F401  (silences DeepChem's import chatter)
from deepchem_finetune.hub import ZOO_DIR, import_pretrain_gnns

SOURCE_COMMIT = "8b20528a83b8869ce16451305b32c827258d19a3"
METHODS = {  # what each released model was pretrained on (Hu et al. 2020, section 5.1 and their README)
    "contextpred": {"objective": "context prediction (self-supervised)",
                    "datasets": ["zinc15_2m"],
                    "data": {"name": "ZINC15, 2 million molecules (self-supervised context prediction)"}},
    "supervised_contextpred": {"objective": "context prediction, then supervised multitask",
                               "datasets": ["zinc15_2m", "chembl_456k"],
                               "data": {"name": "ZINC15, 2 million molecules (context prediction), then ChEMBL, "
                                                "456k molecules x 1,310 assays (supervised multitask)"}},
}
GNNS = ("gcn", "graphsage", "gat")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default="../shared/data/pretrain_gnns/chem_model_architecture")
    args = ap.parse_args()
    command = f"python benchmarks/convert_hu2020_weights.py --source {args.source}"
    for gnn in GNNS:
        for method, facts in METHODS.items():
            src = os.path.join(args.source, f"{gnn}_{method}.pth")
            out = ZOO_DIR / f"hu2020_{gnn}_{method}"
            if out.exists():
                shutil.rmtree(out)
            import_pretrain_gnns(src, save_to=str(out), provenance={
                "source_commit": SOURCE_COMMIT, "source_path": f"chem/model_architecture/{gnn}_{method}.pth",
                "license": "MIT (Copyright (c) 2020 snap-stanford)",
                "license_file": "hub/licenses/pretrain-gnns_MIT.txt",  # inside the installed package
                "citation": "Hu, W., Liu, B., Gomes, J., Zitnik, M., Liang, P., Pande, V., Leskovec, J. Strategies for "
                            "Pre-training Graph Neural Networks. ICLR 2020",
                "pretraining": facts["objective"], "datasets": facts["datasets"], "data": facts["data"],
                "command": command, "steps": None})
            print(f"{out.name}: {sum(f.stat().st_size for f in out.iterdir()) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
