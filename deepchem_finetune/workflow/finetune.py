"""``finetune_csv`` (``deepchem-finetune finetune``): an ensemble fine-tuned on the user's CSV, written as a model
folder (:mod:`deepchem_finetune.workflow.folder`) with its metrics, split, calibration picture and command."""
from __future__ import annotations

import json
import os
import time
from typing import Callable, Dict, Optional, Sequence

import numpy as np
from tqdm.auto import tqdm

from deepchem_finetune import hub, storage
from deepchem_finetune.recipe import get_recipe, preset
from deepchem_finetune.workflow import evaluation, folder, prepare as prep, table
from deepchem_finetune.workflow.ensemble import EnsembleModel
from deepchem_finetune.workflow.table import InputError

__all__ = ["finetune_csv"]


def _check_out(out: str, overwrite: bool) -> None:
    if not os.path.exists(out) or (os.path.isdir(out) and not os.listdir(out)):
        return
    try:
        folder.read_marker(out)
    except folder.ModelFolderError:
        raise InputError(f"{out} exists and is not a model folder written by finetune: choose another --out") from None
    if not overwrite:
        raise InputError(f"{out} holds a fine-tuned model already: pass --overwrite to replace it")


def _member(prepared: prep.Prepared, artifact, k: int, seed: int, strategy: str, strategy_options: dict,
            opts: dict, batch_size: int, model_options: dict):
    """Member ``k`` (seed ``seed + k``) with the learning rates and recipe of ``opts`` (:func:`preset`)."""
    from deepchem_finetune.models import MolGNNModel, SeqCNNModel
    common = dict(n_tasks=len(prepared.targets), mode=prepared.task_type, seed=seed + k, batch_size=batch_size,
                  learning_rate=opts["learning_rate"], recipe=opts["recipe"], strategy=strategy,
                  strategy_options={"head_lr_mult": opts["head_lr_mult"], **strategy_options}, **model_options)
    if artifact is not None:  # the prepared featurizer may add molecule features beside the backbone (#28)
        cls = MolGNNModel if artifact.backbone["name"] == "MolGNN" else SeqCNNModel
        return cls.from_pretrained(artifact, extra_features=list(getattr(prepared.featurizer, "extra_features", ())),
                                   **common)
    cls = MolGNNModel if prepared.kind == "smiles" else SeqCNNModel
    return cls(featurizer=prepared.featurizer, **common)


def _scores(ensemble, prepared, part, transformers) -> tuple:
    """(per-target metrics, uncertainty metrics, labels, weights, mean, std) of the ensemble on one part."""
    ds = prepared.dataset(part, transformers)
    mean, std = ensemble.predict_uncertainty(ds, transformers)
    y = prepared.y[prepared.parts[part]]
    w = np.isfinite(y).astype(float)
    targets, mode = prepared.targets, prepared.task_type
    return (evaluation.target_metrics(y, w, mean, mode, targets),
            evaluation.uncertainty_metrics(y, w, mean, std, mode, targets), y, w, mean, std)


def _table(metrics: Dict[str, Dict[str, Dict]]) -> str:
    lines = []
    for part, per_target in metrics.items():
        for target, row in per_target.items():
            shown = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
            lines.append(f"  {part:5s} {target}: {shown}")
    return "\n".join(lines)


def finetune_csv(data: str, out: str, targets: Sequence[str], smiles_column: Optional[str] = None,
                 sequence_column: Optional[str] = None, alphabet: str = "protein", task_type: str = "auto",
                 pretrained: Optional[str] = None, strategy: str = "full", strategy_options: Optional[dict] = None,
                 recipe: str = "stable", lr: Optional[float] = None, backbone_lr_ratio: Optional[float] = None,
                 split: Optional[str] = None,
                 split_sizes: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, ensemble: int = 5,
                 max_epochs: int = 100, patience: Optional[int] = 20, batch_size: int = 32,
                 metric: Optional[str] = None,
                 model_options: Optional[dict] = None, max_length: Optional[int] = None,
                 extra_features: Sequence[str] = (),
                 time_budget: Optional[float] = None, skip_invalid: bool = False, progress: bool = True,
                 overwrite: bool = False, command: Optional[str] = None,
                 echo: Callable[[str], None] = tqdm.write) -> Dict:
    """Fine-tune ``ensemble`` members on a CSV and write the model folder ``out``; returns what ``metrics.json``
    holds. The arguments are those of ``deepchem-finetune finetune --help``; ``echo`` receives the console lines.

    Raises
    ------
    InputError
        Unusable rows (unless ``skip_invalid``), missing columns, a bad split, an ``out`` that is not ours.
    """
    from deepchem_finetune.training import fit_with_early_stopping
    start = time.time()
    if (smiles_column is None) == (sequence_column is None):
        raise InputError("give exactly one of --smiles-column and --sequence-column")
    if ensemble < 1:
        raise InputError(f"--ensemble must be >= 1, got {ensemble}")
    get_recipe(recipe)  # an unknown recipe fails before any work
    if "head_lr_mult" in (strategy_options or {}) and backbone_lr_ratio is not None:
        raise InputError("give --backbone-lr-ratio or --strategy-option head_lr_mult, not both: they set the same "
                         "ratio of the head's and the backbone's learning rates")
    try:  # a bad ratio fails before any work
        preset(recipe, pretrained=True, lr=lr, backbone_lr_ratio=backbone_lr_ratio)
    except ValueError as err:
        raise InputError(f"--backbone-lr-ratio: {err}") from None
    if backbone_lr_ratio is not None and pretrained is not None and str(pretrained).lower() == "none":
        raise InputError("--backbone-lr-ratio sets a pretrained backbone's learning rate: it does not apply with "
                         "--pretrained none")
    _check_out(out, overwrite)
    kind = "smiles" if smiles_column is not None else alphabet
    prep.check_extra_features(kind, list(extra_features))  # before any ranking or featurizing
    column = smiles_column or sequence_column
    ranking = p = None
    if str(pretrained).lower() == "auto":  # #26: the top entry of `deepchem-finetune rank` on the training part
        from deepchem_finetune.transfer import rank_prepared
        scratch = prep.prepare(data, column, kind, list(targets), task_type, "none", split, split_sizes, seed,
                               skip_invalid, max_length, extra_features)
        ranking = rank_prepared(scratch, split, split_sizes, seed)
        pretrained = ranking.best_pretrained or "none"
        echo(f"--pretrained auto ranked the zoo on the training part:\n{ranking.table()}")
        p = prep.reuse(scratch, pretrained, max_length, extra_features)  # None: the pick reads other inputs
    if strategy == "l2_sp" and prep.default_pretrained(kind, pretrained) is None:
        raise InputError("--strategy l2_sp pulls the weights toward the pretrained ones: it needs --pretrained")
    if p is None:
        p = prep.prepare(data, column, kind, list(targets), task_type, pretrained, split, split_sizes, seed,
                         skip_invalid, max_length, extra_features)
    echo(f"read {data}: {p.n_rows} rows; input column {p.column!r} ({kind}); targets {p.targets} "
         f"({p.task_type}, {'inferred from the labels' if p.inferred else 'as given'})")
    if p.problems:
        echo(f"skipped {len(p.problems)} row(s) that cannot be used (listed in {out}/skipped_rows.csv):\n"
             f"{prep.first_problems(p)}")
    split_name = split or ("scaffold" if kind == "smiles" else "random")
    echo(f"split {split_name}: " + " / ".join(f"{k} {len(v)}" for k, v in p.parts.items()))
    artifact = hub.read_pretrained(p.source) if p.source is not None else None
    if backbone_lr_ratio is not None and artifact is None:  # --pretrained auto picked training from scratch
        echo("--backbone-lr-ratio ignored: no pretrained backbone (the backbone and the head share one learning rate)")
        backbone_lr_ratio = None
    preset_opts = preset(recipe, pretrained=artifact is not None, lr=lr, backbone_lr_ratio=backbone_lr_ratio)
    head_mult = (strategy_options or {}).get("head_lr_mult", preset_opts["head_lr_mult"])
    head_lr = preset_opts["learning_rate"] * float(head_mult)
    echo(f"backbone: {p.source or 'none (trained from scratch)'}; strategy {strategy}; recipe {recipe} "
         f"{get_recipe(recipe).config}; head lr {head_lr:g}, backbone lr {preset_opts['learning_rate']:g}"
         + (f"; molecule features beside the embedding: {', '.join(extra_features)}" if extra_features else ""))
    transformers, mean, std = prep.normalisation(p)
    train, valid = p.dataset("train", transformers), p.dataset("valid", transformers)
    test = p.dataset("test", transformers) if len(p.parts["test"]) else None
    metric_name = metric or ("roc_auc" if p.task_type == "classification" else "rmse")
    deadline = None if time_budget is None else start + 60.0 * time_budget
    members, fits, not_started = [], [], []
    for k in range(ensemble):
        if deadline is not None and time.time() >= deadline:
            not_started = list(range(k, ensemble))
            echo(f"time budget of {time_budget:g} min reached: member(s) {[m + 1 for m in not_started]} not started")
            break
        model = _member(p, artifact, k, seed, strategy, dict(strategy_options or {}), preset_opts, batch_size,
                        dict(model_options or {}))
        fit = fit_with_early_stopping(model, train, valid, test, transformers, max_epochs=max_epochs,
                                      patience=patience, progress=progress, desc=f"member {k + 1}/{ensemble}",
                                      metric=metric, time_limit=None if deadline is None else deadline - time.time())
        fit = {key: fit[key] for key in ("best_epoch", "valid_score", "test_score", "epochs_run", "completed",
                                         "seconds")}
        fit["seed"] = seed + k
        fits.append(fit)
        if fit["best_epoch"] == 0:
            echo(f"member {k + 1}: no epoch could be selected (stopped by the time budget or no validation score); "
                 "left out")
            continue
        model.member_info = {"fit": fit}
        members.append(model)
        echo(f"member {k + 1}/{ensemble} (seed {seed + k}): best epoch {fit['best_epoch']} of {fit['epochs_run']}, "
             f"valid {metric_name} {fit['valid_score']:.4g}"
             + ("" if fit["test_score"] is None else f", test {metric_name} {fit['test_score']:.4g}")
             + f" ({fit['seconds']:.0f} s)" + ("" if fit["completed"] else ", stopped by the time budget"))
    if not members:
        raise RuntimeError("no member could be trained (time budget too short?); nothing written")
    model = EnsembleModel(members, transformers, p.targets)
    metrics = {"task_type": p.task_type, "targets": p.targets, "selection_metric": metric_name, "members": fits,
        "members_not_started": [seed + k for k in not_started], "ensemble_size": len(members),
        "rows": {"file": p.n_rows, "used": len(p.rows), "skipped": len(p.problems),
                 **{part: len(idx) for part, idx in p.parts.items()}},
        "ensemble": {}, "uncertainty": {}, "seconds": None}
    pictures = {}
    for part in ("valid", "test") if test is not None else ("valid",):
        scores, uncertainty, y, w, mean_pred, std_pred = _scores(model, p, part, transformers)
        metrics["ensemble"][part], metrics["uncertainty"][part] = scores, uncertainty
        pictures[part] = (y, w, mean_pred, std_pred)
    echo(f"ensemble of {len(members)} (mean of the members):\n{_table(metrics['ensemble'])}")
    calibration_part = "test" if test is not None else "valid"
    for target, row in metrics["uncertainty"][calibration_part].items():
        ece = "" if row.get("ece") is None else f", expected calibration error {row['ece']:.3f}"
        rho = row["spearman_abs_error_std"]
        echo(f"uncertainty on {calibration_part}, {target}: Spearman(|error|, std) "
             f"{'n/a' if rho is None else f'{rho:.3f}'}{ece}")
    info = {"input": {"kind": kind, "column": p.column}, "data": {"file": os.path.basename(p.path),
            "sha256": p.sha256, "rows": p.n_rows}, "command": command,
            "training": {"pretrained": p.source, "pretrained_sha256": members[0].pretrained_sha256,
                         "strategy": strategy, "strategy_options": members[0].strategy.options, "recipe": recipe,
                         "recipe_options": get_recipe(recipe).config, "learning_rate": preset_opts["learning_rate"],
                         "head_lr": head_lr, "backbone_lr_ratio": preset_opts["learning_rate"] / head_lr,
                         "batch_size": batch_size, "max_epochs": max_epochs,
                         "patience": patience, "extra_features": list(extra_features),
                         "metric": metrics["selection_metric"], "split": split_name,
                         "split_sizes": list(split_sizes), "seed": seed, "ensemble": ensemble,
                         "model_options": dict(model_options or {})}}
    metrics["seconds"] = round(time.time() - start, 1)
    with storage.atomic_folder(out) as tmp:
        model.save(tmp, info)
        _write_extras(tmp, p, metrics, command, pictures.get(calibration_part), calibration_part)
        if ranking is not None:
            ranking.save(tmp)  # ranking.json, ranking.txt
    echo(f"wrote {out} ({len(members)} member(s); metrics.json, split.json"
         f"{', calibration.png' if os.path.exists(os.path.join(out, 'calibration.png')) else ''}) in "
         f"{metrics['seconds']:.0f} s")
    return metrics


def _write_extras(path: str, p: prep.Prepared, metrics: dict, command: Optional[str], picture, part: str) -> None:
    with open(os.path.join(path, "metrics.json"), "w") as fh:
        json.dump(folder.json_safe(metrics), fh, indent=1)
    rows = {part_name: [int(p.rows[i]) for i in idx] for part_name, idx in p.parts.items()}
    with open(os.path.join(path, "split.json"), "w") as fh:
        json.dump({"rows": rows, "row_convention": "0-based data rows of the input file, the header not counted"},
                  fh)
    with open(os.path.join(path, "command.txt"), "w") as fh:
        fh.write((command or "(Python API: deepchem_finetune.workflow.finetune_csv)") + "\n")
    if p.problems:
        with open(os.path.join(path, "skipped_rows.csv"), "w", newline="") as fh:
            fh.write(table.skipped_rows_csv(p.problems, p.lines, p.values))
    if picture is not None:
        y, w, mean, std = picture
        evaluation.plot_calibration(os.path.join(path, "calibration.png"), y, w, mean, std, p.task_type, p.targets,
                                    title=f"ensemble of {metrics['ensemble_size']} on the {part} part")

