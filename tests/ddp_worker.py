"""Run by tests/test_distributed.py under torchrun (2 gloo processes); not a test module itself."""
import hashlib
import json
import os
import sys

import numpy as np
import torch

from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.distributed import any_rank, init_from_env
from deepchem_finetune.pretraining import _limited


def main(out: str) -> None:
    rank, world = init_from_env("gloo")
    torch.set_num_threads(1)
    import deepchem as dc

    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "CCCl", "c1ccncc1", "CC(C)O", "OCCO"] * 8
    y = np.array([[len(s) % 2] for s in smiles], dtype=float)
    f = MolGraphFeaturizer("hu2020")
    ds = dc.data.NumpyDataset(f.featurize(smiles), y)
    model = MolGNNModel(1, featurizer=f, num_layers=2, hidden_dim=16, seed=0, batch_size=8, learning_rate=1e-2,
                        model_dir=os.path.join(out, "work"))
    losses = []
    for _ in range(6):
        losses.append(model.fit(ds, nb_epoch=1, checkpoint_interval=2))
    class Bar:
        def update(self, n):
            pass

    # a time budget already spent on rank 1 only: every rank must stop at the same step, none may go on alone
    deadline = 0.0 if rank == 1 else float("inf")
    after_deadline = len(list(_limited(iter(range(5)), model, None, deadline, Bar())))
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.model.parameters())).hexdigest()
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump({"rank": rank, "world": world, "losses": losses, "digest": digest,
                   "steps": model.get_global_step(), "after_deadline": after_deadline,
                   "any_rank": [any_rank(rank == 1), any_rank(False)]}, fh)
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
