"""Import the published pretrain-gnns weights (Hu et al., ICLR 2020) into our format.

The reference code (snap-stanford/pretrain-gnns) saves the state dict of its ``GNN`` module. Its layers
are reproduced by :class:`~deepchem_finetune.backbones.MolGNN` with ``conv`` in gin / gcn / gat /
graphsage, 5 layers x 300, ``jk="last"``, mean pooling, and inputs from ``MolGraphFeaturizer("hu2020")``.
Parameter names map one to one:

=====================================  =============================================
theirs                                 ours
=====================================  =============================================
``x_embedding{1,2}.weight``            ``atom_encoder.tables.{0,1}.weight``
``gnns.L.edge_embedding{1,2}.weight``  ``layers.L.bond_encoder.tables.{0,1}.weight``
``gnns.L.<rest>``                      ``layers.L.<rest>`` (mlp.*, linear.*, weight_linear.*, att, bias)
``batch_norms.L.<rest>``               ``norms.L.<rest>``
=====================================  =============================================

Files are read with ``torch.load(weights_only=True)`` only; a file that needs unpickling is refused.
"""
from __future__ import annotations

import os
import re
from typing import Dict, Optional

import torch

from deepchem_finetune.backbones import MolGNN
from deepchem_finetune.exceptions import PretrainedError
from deepchem_finetune.hub.format import (FORMAT_NAME, FORMAT_VERSION, PretrainedArtifact, collect_provenance,
                                          file_sha256, load_state_dict_strict, safe_torch_load)
from deepchem_finetune.featurizers import MolGraphFeaturizer

GNN_TYPES = ("gin", "gcn", "gat", "graphsage")
PAPER = "Hu, W. et al. Strategies for Pre-training Graph Neural Networks. ICLR 2020"
SOURCE_REPO = "snap-stanford/pretrain-gnns"

_RULES = [
    (re.compile(r"^x_embedding([12])\.weight$"), lambda m: f"atom_encoder.tables.{int(m[1]) - 1}.weight"),
    (re.compile(r"^gnns\.(\d+)\.edge_embedding([12])\.weight$"),
     lambda m: f"layers.{m[1]}.bond_encoder.tables.{int(m[2]) - 1}.weight"),
    (re.compile(r"^gnns\.(\d+)\.(.+)$"), lambda m: f"layers.{m[1]}.{m[2]}"),
    (re.compile(r"^batch_norms\.(\d+)\.(.+)$"), lambda m: f"norms.{m[1]}.{m[2]}"),
]
_REVERSE = [
    (re.compile(r"^atom_encoder\.tables\.([01])\.weight$"), lambda m: f"x_embedding{int(m[1]) + 1}.weight"),
    (re.compile(r"^layers\.(\d+)\.bond_encoder\.tables\.([01])\.weight$"),
     lambda m: f"gnns.{m[1]}.edge_embedding{int(m[2]) + 1}.weight"),
    (re.compile(r"^layers\.(\d+)\.(.+)$"), lambda m: f"gnns.{m[1]}.{m[2]}"),
    (re.compile(r"^norms\.(\d+)\.(.+)$"), lambda m: f"batch_norms.{m[1]}.{m[2]}"),
]


def _rename(key: str, rules) -> str:
    for pattern, fn in rules:
        m = pattern.match(key)
        if m:
            return fn(m)
    raise PretrainedError(f"parameter {key!r} has no counterpart (not a pretrain-gnns GNN state dict?)")


def to_ours(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename a pretrain-gnns ``GNN`` state dict to :class:`MolGNN` names."""
    return {_rename(k, _RULES): v for k, v in state.items()}


def to_theirs(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename a :class:`MolGNN` state dict (hu2020 inputs) to pretrain-gnns names."""
    return {_rename(k, _REVERSE): v for k, v in state.items()}


def infer_gnn_type(state: Dict[str, torch.Tensor], path: str = "") -> str:
    """gin / gat from the keys; gcn vs graphsage (same keys) from the file name."""
    keys = set(state)
    if any(k.endswith(".mlp.0.weight") for k in keys):
        return "gin"
    if any(k.endswith(".att") for k in keys):
        return "gat"
    name = os.path.basename(path).lower()
    for t in ("graphsage", "gcn"):
        if name.startswith(t):
            return t
    raise PretrainedError(f"cannot tell gcn from graphsage for {path!r} (same parameter names): "
                          "pass gnn_type='gcn' or 'graphsage'")


def import_pretrain_gnns(path, gnn_type: Optional[str] = None, save_to: Optional[str] = None,
                         provenance: Optional[Dict] = None) -> PretrainedArtifact:
    """Read a pretrain-gnns ``.pth`` file and return it as one of our pretrained artifacts (optionally saved).

    Parameters
    ----------
    path: str
        e.g. ``../shared/data/pretrain_gnns/chem_model_architecture/gcn_supervised_contextpred.pth``.
    gnn_type: str, optional
        gin, gcn, gat or graphsage; inferred from the keys and the file name when omitted.
    save_to: str, optional
        Also write the result as a pretrained folder there (then usable like any zoo entry).
    provenance: dict, optional
        Fields added to the provenance (e.g. what the weights were pretrained on, the license, the command).

    Returns
    -------
    PretrainedArtifact

    Raises
    ------
    PretrainedError
        The file needs unpickling, or its keys / shapes do not map one to one onto ``MolGNN``.

    Examples
    --------
    >>> ckpt = import_pretrain_gnns("gcn_contextpred.pth")  # doctest: +SKIP
    >>> model = MolGNNModel.from_pretrained(ckpt, n_tasks=1, dropout=0.5)  # doctest: +SKIP
    """
    path = os.fspath(path)
    raw = safe_torch_load(path)
    if not isinstance(raw, dict) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise PretrainedError(f"{path} is not a state dict of tensors")
    gnn_type = gnn_type or infer_gnn_type(raw, path)
    if gnn_type not in GNN_TYPES:
        raise ValueError(f"gnn_type must be one of {GNN_TYPES}, got {gnn_type!r}")
    ours = to_ours(raw)
    featurizer = MolGraphFeaturizer("hu2020")
    n_layers = len({k.split(".")[1] for k in ours if k.startswith("layers.")})
    hidden = int(ours["atom_encoder.tables.0.weight"].shape[1])
    heads = int(ours["layers.0.att"].shape[1]) if gnn_type == "gat" else 2
    backbone = MolGNN(featurizer.input_encoding(), num_layers=n_layers, hidden_dim=hidden, conv=gnn_type,
                      heads=heads, dropout=0.0, jk="last", pooling="mean")
    if "norms.0.num_batches_tracked" not in ours:  # older torch files lack the counters
        for k, v in backbone.state_dict().items():
            if k.endswith("num_batches_tracked"):
                ours[k] = torch.zeros_like(v)
    load_state_dict_strict(backbone, ours, source=path)
    method = os.path.splitext(os.path.basename(path))[0]
    method = method[len(gnn_type) + 1:] if method.startswith(gnn_type + "_") else method
    config = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
              "backbone": {"name": "MolGNN", "config": backbone.config},
              "featurizer": featurizer.get_spec(),
              "objective": {"name": f"pretrain-gnns:{method}", "config": {}},
              "extra": {},
              "provenance": collect_provenance(source_file=os.path.basename(path), source_sha256=file_sha256(path),
                                               source_repo=SOURCE_REPO, paper=PAPER, imported=True,
                                               **(provenance or {}))}
    state = {k: v.detach().clone() for k, v in backbone.state_dict().items()}
    artifact = PretrainedArtifact(path=path, config=config, state_dict=state)
    if save_to is not None:
        artifact.save(save_to)
    return artifact
