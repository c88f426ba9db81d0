"""Masked-token objective: selection fraction, 80/10/10 corruption, loss decreasing through DeepChem fit."""
import numpy as np
import torch

import deepchem as dc
from deepchem_finetune import ProteinTokenizer, SeqCNNModel
from deepchem_finetune.objectives.masked_tokens import MaskedTokens

SEQS = ["MKTAYIAKQRQISFVKSHFSRQ", "GSHMLEDPVDAFQGSHMLEDPV", "MKVLAAGIVGLLLAMKVLAAGI",
        "MSTNPKPQRKTKRNTNRRPQDV"] * 8


def test_selection_fraction_and_80_10_10_corruption():
    tok = ProteinTokenizer(max_length=40)
    obj = MaskedTokens(tok.get_spec())
    tokens = torch.as_tensor(tok.featurize(SEQS * 20))  # 640 rows of 22 residues, 18 pads each
    inp, labels, _ = obj.transform(tokens, torch.Generator().manual_seed(0))
    selected = torch.zeros(tokens.numel(), dtype=torch.bool)
    selected[inp.positions] = True
    selected = selected.view(tokens.shape)
    assert (selected.sum(1) == round(22 * 0.15)).all() and not selected[tokens == tok.input_encoding()["pad_id"]].any()
    before, after = tokens[selected], inp.tokens[selected]
    masked = (after == obj.mask_id).float().mean().item()
    kept = (after == before).float().mean().item()
    assert 0.75 < masked < 0.85 and 0.06 < kept < 0.16  # kept = 10% unchanged + random draws of the same token
    assert torch.equal(inp.tokens[~selected], tokens[~selected])
    assert torch.equal(labels[0].view(-1).long(), before)


def test_masked_token_loss_decreases_through_fit(tmp_path):
    tok = ProteinTokenizer(max_length=24)
    X = tok.featurize(SEQS)
    ds = dc.data.NumpyDataset(X, np.zeros((len(X), 0)), np.zeros((len(X), 0)))
    model = SeqCNNModel(featurizer=tok, objective="masked_tokens", width=32, depth=2, seed=0, batch_size=8,
                        learning_rate=3e-3, model_dir=str(tmp_path), log_frequency=5)
    losses = []
    model.fit(ds, nb_epoch=40, checkpoint_interval=0, all_losses=losses)
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:10])
