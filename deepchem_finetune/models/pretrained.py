"""Saving and loading pretrained backbones for :class:`~deepchem_finetune.models.base.BackboneModel`.

A pretrained file holds the backbone only (heads are task-specific): see :mod:`deepchem_finetune.checkpoint`
for the format. Sources are resolved in this order: an existing folder, a zoo name shipped inside the
package (:func:`zoo_names`), another model instance.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, List, Optional

import torch

from deepchem_finetune.checkpoint import (PretrainedCheckpoint, collect_provenance, load_checkpoint_dir,
                                          load_state_dict_strict, save_checkpoint_dir)
from deepchem_finetune.exceptions import CheckpointError, SpecMismatchError

ZOO_DIR = Path(__file__).resolve().parents[1] / "zoo"

#: Backbone options that do not change the weights and may differ between pretraining and fine-tuning.
NON_ARCHITECTURAL = ("dropout",)


def zoo_names() -> List[str]:
    """Names of the pretrained checkpoints shipped inside the package."""
    if not ZOO_DIR.is_dir():
        return []
    return sorted(p.name for p in ZOO_DIR.iterdir() if (p / "config.json").is_file())


def zoo_table() -> List[Dict]:
    """One row per zoo entry: name, size, backbone, objective, data, steps, date and the exact command."""
    rows = []
    for name in zoo_names():
        folder = ZOO_DIR / name
        cfg = json.loads((folder / "config.json").read_text())
        prov = cfg.get("provenance", {})
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        bb = cfg["backbone"]["config"]
        rows.append({"name": name, "size_mb": size / 1e6,
                     "backbone": (f"{cfg['backbone']['name']} {bb.get('conv')} {bb.get('num_layers')}x"
                                  f"{bb.get('hidden_dim')}" if "num_layers" in bb else
                                  f"{cfg['backbone']['name']} width {bb.get('width')} depth {bb.get('depth')} "
                                  f"({cfg['featurizer']['name']})"),
                     "objective": cfg["objective"]["name"], "data": prov.get("data"), "steps": prov.get("steps"),
                     "created_utc": prov.get("created_utc"), "command": prov.get("command")})
    return rows


def resolve_source(source) -> str:
    """Path of a checkpoint folder given a path or a zoo name.

    Raises
    ------
    CheckpointError
        Neither a path nor a zoo name; the message lists the zoo.
    """
    path = Path(os.fspath(source)).expanduser()
    if path.exists():
        return str(path)
    if str(source) in zoo_names():
        return str(ZOO_DIR / str(source))
    raise CheckpointError(f"{source!r} is neither an existing checkpoint path nor a zoo name; "
                          f"zoo: {zoo_names() or '(empty)'}")


def read_pretrained(source) -> PretrainedCheckpoint:
    """Load a checkpoint from a folder, a zoo name or a pretrain-gnns ``.pth`` file (nothing unpickled)."""
    if isinstance(source, PretrainedCheckpoint):
        return source
    path = resolve_source(source)
    if os.path.isfile(path) and path.endswith((".pth", ".pt")):
        from deepchem_finetune.pretrain_gnns import import_pretrain_gnns  # published Hu et al. weights
        return import_pretrain_gnns(path)
    return load_checkpoint_dir(path)


def _plain(obj):
    return json.loads(json.dumps(obj))


def architecture(config: dict) -> dict:
    """A backbone config without its non-architectural options."""
    return {k: v for k, v in _plain(config).items() if k not in NON_ARCHITECTURAL}


def save_pretrained(model, path, objective: Optional[Dict] = None, provenance: Optional[Dict] = None,
                    extra: Optional[Dict] = None) -> str:
    """Write ``model``'s backbone as a self-describing pretrained checkpoint folder; return the path."""
    if objective is None:
        objective = {"name": model.model.objective.name, "config": _plain(model.model.objective.config)}
    fields = dict(model.pretraining_provenance)
    fields.setdefault("steps", int(getattr(model, "_global_step", 0)))
    fields.setdefault("seed", model.seed)
    if model.parent_provenance is not None:
        fields.setdefault("parent", model.parent_provenance)
    fields.update(provenance or {})
    state = {k: v.detach().cpu() for k, v in model.backbone.state_dict().items()}
    return save_checkpoint_dir(path, state, backbone={"name": type(model.backbone).__name__,
                                                      "config": _plain(model.backbone.config)},
                               featurizer=model.featurizer_spec, objective=objective,
                               provenance=collect_provenance(**fields), extra=extra or {})


def check_backbone_fits(model, name: str, config: dict, source: str) -> None:
    """Raise :class:`SpecMismatchError` showing both sides if the architectures differ."""
    ours = {"name": type(model.backbone).__name__, "config": architecture(model.backbone.config)}
    theirs = {"name": name, "config": architecture(config)}
    if ours != theirs:
        diff = sorted(k for k in set(ours["config"]) | set(theirs["config"])
                      if ours["config"].get(k) != theirs["config"].get(k))
        raise SpecMismatchError(f"backbone of {source} does not match this model (differs in: "
                                f"{diff or ['name']}):\n  model:  {ours}\n  source: {theirs}")


def load_backbone(model, source, check_featurizer: bool = True) -> None:
    """Load backbone weights into ``model`` strictly, by parameter name, from a path, zoo name,
    :class:`PretrainedCheckpoint` or another :class:`BackboneModel`; record the reference weights."""
    from deepchem_finetune.models.base import BackboneModel
    if isinstance(source, BackboneModel):
        label = f"model {type(source).__name__}"
        name, config = type(source.backbone).__name__, source.backbone.config
        feat_spec, state = source.featurizer_spec, source.backbone.state_dict()
        provenance = dict(source.pretraining_provenance) or None
    else:
        ckpt = read_pretrained(source)
        label = f"checkpoint {ckpt.path}"
        name, config = ckpt.backbone["name"], ckpt.backbone["config"]
        feat_spec, state, provenance = ckpt.featurizer, ckpt.state_dict, ckpt.provenance
    check_backbone_fits(model, name, config, label)
    if check_featurizer and _plain(feat_spec) != _plain(model.featurizer_spec):
        raise SpecMismatchError(f"featurizer of {label} differs from this model's:\n"
                                f"  model:  {model.featurizer_spec}\n  source: {feat_spec}\n"
                                "Build the model with from_pretrained(...) to take the source's featurizer.")
    load_state_dict_strict(model.backbone, {k: v.to(model.device) for k, v in state.items()}, source=label)
    model.pretrained_reference = {k: p.detach().clone() for k, p in model.backbone.named_parameters()}
    model.parent_provenance = provenance
    if getattr(model, "_built", False):
        model._rebuild_optimizer()  # a fresh optimizer: no state carried over from the source's training
    torch.nn.Module.train(model.model, model.model.training)
