"""Reading pretrained artifacts from any source and checking that they fit a backbone.

Sources are resolved in this order: an artifact already in memory, an existing folder, a foreign pretrain-gnns
``.pth`` file (imported, nothing unpickled), a zoo name shipped inside the package (:func:`zoo_names`).
Models use :func:`read_pretrained`, :func:`check_fits` and :func:`load_weights`; this module never imports
the models (a model passes its backbone, featurizer spec and provenance in).
"""
from __future__ import annotations

import json
import os
from typing import Dict, Optional, Sequence

import torch

from deepchem_finetune.exceptions import SpecMismatchError
from deepchem_finetune.hub.format import (PretrainedArtifact, collect_provenance, load_state_dict_strict,
                                          read_pretrained_dir)
from deepchem_finetune.hub.zoo import resolve_source

__all__ = ["NON_ARCHITECTURAL", "read_pretrained", "architecture", "check_fits", "load_weights", "backbone_artifact"]

#: Backbone options that do not change the weights and may differ between pretraining and fine-tuning.
NON_ARCHITECTURAL = ("dropout",)


def read_pretrained(source) -> PretrainedArtifact:
    """Load a pretrained artifact from a folder, a zoo name or a pretrain-gnns ``.pth`` file (nothing unpickled).

    Examples
    --------
    >>> read_pretrained("gin_zinc60k_desc30").backbone["name"]
    'MolGNN'
    """
    if isinstance(source, PretrainedArtifact):
        return source
    path = resolve_source(source)
    if os.path.isfile(path) and path.endswith((".pth", ".pt")):
        from deepchem_finetune.hub.pretrain_gnns import import_pretrain_gnns  # published Hu et al. weights
        return import_pretrain_gnns(path)
    return read_pretrained_dir(path)


def _plain(obj):
    return json.loads(json.dumps(obj))


def architecture(config: dict) -> dict:
    """A backbone config without its non-architectural options.

    Examples
    --------
    >>> architecture({"hidden_dim": 8, "dropout": 0.5})
    {'hidden_dim': 8}
    """
    return {k: v for k, v in _plain(config).items() if k not in NON_ARCHITECTURAL}


def backbone_inputs(featurizer_spec: dict) -> dict:
    """What of a featurizer spec the backbone reads: molecule-level ``extra_features`` go to the task head only, so
    a backbone pretrained without them fits a model with them.

    Examples
    --------
    >>> backbone_inputs({"name": "MolGraphFeaturizer", "config": {"preset": "rich", "extra_features": ["ecfp4"]}})
    {'name': 'MolGraphFeaturizer', 'config': {'preset': 'rich'}}
    """
    spec = _plain(featurizer_spec)
    if isinstance(spec.get("config"), dict):
        spec["config"].pop("extra_features", None)
    return spec


def with_extra_features(featurizer_spec: dict, kinds: Sequence[str]) -> dict:
    """``featurizer_spec`` with molecule-level ``extra_features`` set to ``kinds`` (removed when empty): what a
    model reads when it adds features for its task head beside a pretrained backbone.

    Examples
    --------
    >>> with_extra_features({"name": "MolGraphFeaturizer", "config": {"preset": "rich"}}, ["ecfp4"])
    {'name': 'MolGraphFeaturizer', 'config': {'preset': 'rich', 'extra_features': ['ecfp4']}}
    """
    spec = backbone_inputs(featurizer_spec)
    if kinds:
        spec["config"]["extra_features"] = list(kinds)
    return spec


def check_fits(artifact: PretrainedArtifact, backbone: torch.nn.Module, featurizer_spec: Optional[dict],
               label: Optional[str] = None) -> None:
    """Raise :class:`SpecMismatchError` showing both sides if ``artifact`` was made for another architecture or,
    unless ``featurizer_spec`` is None, another featurizer."""
    label = label or f"pretrained {artifact.path}"
    ours = {"name": type(backbone).__name__, "config": architecture(backbone.config)}
    theirs = {"name": artifact.backbone["name"], "config": architecture(artifact.backbone["config"])}
    if ours != theirs:
        diff = sorted(k for k in set(ours["config"]) | set(theirs["config"])
                      if ours["config"].get(k) != theirs["config"].get(k))
        raise SpecMismatchError(f"backbone of {label} does not match this model (differs in: "
                                f"{diff or ['name']}):\n  model:  {ours}\n  source: {theirs}")
    if featurizer_spec is not None and backbone_inputs(artifact.featurizer) != backbone_inputs(featurizer_spec):
        raise SpecMismatchError(f"featurizer of {label} differs from this model's:\n"
                                f"  model:  {featurizer_spec}\n  source: {artifact.featurizer}\n"
                                "Build the model with from_pretrained(...) to take the source's featurizer.")


def load_weights(backbone: torch.nn.Module, artifact: PretrainedArtifact, featurizer_spec: Optional[dict],
                 label: Optional[str] = None) -> None:
    """Check that ``artifact`` fits (:func:`check_fits`), then load its weights into ``backbone`` strictly, by name."""
    label = label or f"pretrained {artifact.path}"
    check_fits(artifact, backbone, featurizer_spec, label)
    device = next(backbone.parameters()).device
    load_state_dict_strict(backbone, {k: v.to(device) for k, v in artifact.state_dict.items()}, source=label)


def backbone_artifact(backbone: torch.nn.Module, featurizer_spec: dict, objective: dict, provenance: Dict,
                      extra: Optional[Dict] = None, path: str = "<in memory>") -> PretrainedArtifact:
    """An in-memory artifact of ``backbone`` (CPU copies of its weights); ``provenance`` is completed with the
    package versions (:func:`collect_provenance`). Write it with :meth:`PretrainedArtifact.save`."""
    config = {"backbone": {"name": type(backbone).__name__, "config": _plain(backbone.config)},
              "featurizer": _plain(featurizer_spec), "objective": _plain(objective),
              "extra": extra or {}, "provenance": collect_provenance(**provenance)}
    state = {k: v.detach().cpu().clone() for k, v in backbone.state_dict().items()}
    return PretrainedArtifact(path=path, config=config, state_dict=state)
