"""The model folder written by ``deepchem-finetune finetune`` and read by ``predict`` and
:class:`~deepchem_finetune.workflow.ensemble.EnsembleModel`: safetensors and plain JSON only, no pickle.

::

    MODEL_DIR/
      deepchem_finetune_model.json   format marker and description: format, format_version, input (kind, column),
                                     targets, task_type, featurizer spec, transformers (e.g. the regression
                                     normalisation: mean / std per target), members, training options, command,
                                     provenance (package versions, date)
      members/<k>/backbone/          member k's backbone in the pretrained format (weights.safetensors, config.json)
      members/<k>/head.safetensors   its task head
      members/<k>/member.json        model class, tasks, mode, head options, seed, its fit (best epoch, scores)
      metrics.json, split.json, command.txt, calibration.png, skipped_rows.csv   (written by ``finetune``)

A folder without the marker, with another ``format`` or a newer ``format_version`` is refused.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Sequence

import numpy as np

from deepchem_finetune._compat import import_deepchem_quietly

dc = import_deepchem_quietly()

__all__ = ["MARKER", "FORMAT", "FORMAT_VERSION", "ModelFolderError", "read_marker", "write_member", "read_member",
           "transformers_to_json", "transformers_from_json", "normalization", "json_safe"]

MARKER = "deepchem_finetune_model.json"
FORMAT, FORMAT_VERSION = "deepchem-finetune-model", 1


class ModelFolderError(ValueError):
    """A folder that ``predict`` / ``EnsembleModel.load`` cannot read (not written by ``finetune``, or damaged)."""


def read_marker(path) -> dict:
    """The folder's description, after checking that ``finetune`` wrote it."""
    path = os.fspath(path)
    marker = os.path.join(path, MARKER)
    if not os.path.isdir(path):
        raise ModelFolderError(f"{path} is not a folder")
    if not os.path.isfile(marker):
        raise ModelFolderError(f"{path} was not written by deepchem-finetune finetune (no {MARKER}); refusing to "
                               "read it. A pretrained backbone folder is loaded with --pretrained or "
                               "MolGNNModel.from_pretrained instead")
    try:
        with open(marker) as fh:
            info = json.load(fh)
    except (OSError, json.JSONDecodeError) as err:
        raise ModelFolderError(f"{marker} is not readable JSON: {err}") from err
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise ModelFolderError(f"{marker} has format {info.get('format') if isinstance(info, dict) else None!r}, "
                               f"not {FORMAT!r}: not a deepchem-finetune model folder")
    if int(info.get("format_version", 0)) > FORMAT_VERSION:
        raise ModelFolderError(f"{path} has format version {info['format_version']}, newer than this package reads "
                               f"({FORMAT_VERSION}): upgrade deepchem-finetune")
    return info


def write_member(model, folder: str, fit: dict, provenance: dict) -> str:
    """Write one fine-tuned model as ``folder/{backbone/, head.safetensors, member.json}`` with the weights it predicts
    with (the averaged ones when its recipe averages weights); returns ``folder``."""
    import contextlib

    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    recipe = getattr(model, "recipe", None)  # the weights it predicts with: the averaged ones if its recipe averages
    with recipe.averaged_weights(model.model) if recipe is not None else contextlib.nullcontext():
        model.save_pretrained(os.path.join(folder, "backbone"), provenance=provenance)
        save_file({k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()},
                  os.path.join(folder, "head.safetensors"))
    description = {"model_class": type(model).__name__, "n_tasks": model.n_tasks, "mode": model.mode,
                   "n_classes": model.n_classes, "head": model.head_config, "batch_size": model.batch_size,
                   "seed": model.seed, "fit": json_safe(fit)}
    with open(os.path.join(folder, "member.json"), "w") as fh:
        json.dump(description, fh, indent=1)
    return folder


def read_member(folder: str):
    """A member model (a MolGNNModel or SeqCNNModel with its head) from :func:`write_member`'s files."""
    from safetensors.torch import load_file

    from deepchem_finetune import hub
    from deepchem_finetune.models import MolGNNModel, SeqCNNModel
    try:
        with open(os.path.join(folder, "member.json")) as fh:
            info = json.load(fh)
        artifact = hub.read_pretrained_dir(os.path.join(folder, "backbone"))
        head = load_file(os.path.join(folder, "head.safetensors"))
    except (OSError, json.JSONDecodeError) as err:
        raise ModelFolderError(f"member {folder} is incomplete or damaged: {err}") from err
    classes = {"MolGNN": MolGNNModel, "SeqCNN": SeqCNNModel}
    cls = classes.get(artifact.backbone["name"])
    if cls is None:
        raise ModelFolderError(f"member {folder} has a {artifact.backbone['name']!r} backbone; this package reads "
                               f"{sorted(classes)}")
    model = cls.from_pretrained(artifact, n_tasks=info["n_tasks"], mode=info["mode"], n_classes=info["n_classes"],
                                head_hidden=info["head"]["hidden_dims"], head_dropout=info["head"]["dropout"],
                                batch_size=info["batch_size"], seed=info["seed"])
    hub.load_state_dict_strict(model.head, head, source=f"head of member {folder}")
    model.member_info = info
    return model


def normalization(mean: Sequence[float], std: Sequence[float]) -> "dc.trans.NormalizationTransformer":
    """DeepChem's ``NormalizationTransformer`` of ``y`` with the given per-target mean and std.

    Examples
    --------
    >>> t = normalization([1.0], [2.0])
    >>> t.untransform(np.array([[0.5]])).tolist()
    [[2.0]]
    """
    t = dc.trans.NormalizationTransformer(transform_y=True)
    t.y_means = np.asarray(mean, dtype=float)
    t.y_stds = np.asarray(std, dtype=float)
    return t


def transformers_to_json(transformers: Sequence) -> List[Dict]:
    """Plain-JSON description of the transformers (only ``y`` normalisation is supported)."""
    out = []
    for t in transformers:
        if not (isinstance(t, dc.trans.NormalizationTransformer) and t.transform_y and not t.transform_X):
            raise TypeError(f"only a y NormalizationTransformer can be stored in a model folder, got {t!r}")
        out.append({"name": "normalization_y", "mean": np.asarray(t.y_means, dtype=float).ravel().tolist(),
                    "std": np.asarray(t.y_stds, dtype=float).ravel().tolist()})
    return out


def transformers_from_json(specs: Sequence[Dict]) -> list:
    """Inverse of :func:`transformers_to_json`."""
    out = []
    for spec in specs:
        if spec.get("name") != "normalization_y":
            raise ModelFolderError(f"unknown transformer {spec.get('name')!r} in the model folder")
        out.append(normalization(spec["mean"], spec["std"]))
    return out


def json_safe(obj):
    """JSON-safe copy: numpy numbers become Python numbers, NaN becomes None."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    return obj
