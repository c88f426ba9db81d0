"""``EnsembleModel``: several fine-tuned models of one task as one DeepChem model, with their spread as uncertainty.

The ensemble of ``deepchem-finetune finetune`` (N members fine-tuned from the same backbone with different seeds on
the same split) is saved as a model folder (:mod:`deepchem_finetune.workflow.folder`) and loaded with
:meth:`EnsembleModel.load`.
"""
from __future__ import annotations

import json
import os
from typing import Optional, Sequence

import numpy as np

from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.workflow import folder as model_folder
from deepchem_finetune.workflow.table import featurize_column

dc = import_deepchem_quietly()

__all__ = ["EnsembleModel"]


class EnsembleModel(dc.models.Model):
    """The mean of several fine-tuned models (same tasks, same featurizer), and their standard deviation.

    A DeepChem ``Model``: ``predict(dataset, transformers)`` has DeepChem's shapes (``(n, n_tasks, n_classes)``
    probabilities for classification, ``(n, n_tasks)`` for regression) and is the mean over members of each member's
    ``predict(dataset, transformers)``; ``evaluate(dataset, metrics, transformers)`` and ``dc.metrics`` work as for
    any DeepChem model. As with DeepChem models, ``transformers`` are those applied to the dataset: the members were
    trained on normalised regression labels, and ``ensemble.transformers`` (read from the folder) turns their
    outputs back into the units of the training file. The string methods (:meth:`predict_smiles`,
    :meth:`predict_sequences`) use ``ensemble.transformers`` unless told otherwise. A one-member ensemble predicts
    exactly what its member predicts.

    Parameters
    ----------
    members: sequence of BackboneModel
        Fine-tuned models with the same ``mode``, ``n_tasks``, ``n_classes`` and featurizer.
    transformers: sequence of dc.trans.Transformer, optional
        The transformers the members' training labels went through (stored with the ensemble).
    tasks: sequence of str, optional
        Names of the tasks (the target columns).
    info: dict, optional
        The folder's description (input kind and column, training options); set by :meth:`load`.

    Examples
    --------
    >>> import deepchem_finetune as dft
    >>> from deepchem_finetune.workflow import EnsembleModel
    >>> members = [dft.MolGNNModel(n_tasks=1, mode="regression", num_layers=1, hidden_dim=8, seed=s)
    ...            for s in (0, 1)]
    >>> ensemble = EnsembleModel(members, tasks=["logS"])
    >>> mean, std = ensemble.predict_smiles(["CCO", "c1ccccc1"], return_std=True)
    >>> mean.shape, bool((std > 0).all())
    ((2, 1), True)
    >>> ensemble = EnsembleModel.load("my_model")  # a folder written by deepchem-finetune finetune  # doctest: +SKIP
    """

    def __init__(self, members: Sequence, transformers: Sequence = (), tasks: Optional[Sequence[str]] = None,
                 info: Optional[dict] = None, model_dir: Optional[str] = None):
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member")
        first = members[0]
        for k, m in enumerate(members[1:], 1):
            theirs = (m.mode, m.n_tasks, m.n_classes, json.dumps(m.featurizer_spec, sort_keys=True))
            ours = (first.mode, first.n_tasks, first.n_classes, json.dumps(first.featurizer_spec, sort_keys=True))
            if theirs != ours:
                raise ValueError(f"member {k} differs from member 0 in (mode, n_tasks, n_classes, featurizer): "
                                 f"{theirs[:3]} vs {ours[:3]}")
        super().__init__(model=members, model_dir=model_dir)
        self.members = members
        self.mode, self.n_tasks, self.n_classes = first.mode, first.n_tasks, first.n_classes
        self.featurizer_spec = first.featurizer_spec
        self.transformers = list(transformers)
        self.tasks = list(tasks) if tasks is not None else [f"task{t}" for t in range(self.n_tasks)]
        if len(self.tasks) != self.n_tasks:
            raise ValueError(f"{len(self.tasks)} task names for {self.n_tasks} tasks")
        self.info = dict(info or {})

    # ------------------------------------------------------------------------------- folder
    @classmethod
    def load(cls, path) -> "EnsembleModel":
        """Load a folder written by ``deepchem-finetune finetune`` (or :meth:`save`); a folder it did not write is
        refused (:class:`~deepchem_finetune.workflow.folder.ModelFolderError`)."""
        info = model_folder.read_marker(path)
        members = [model_folder.read_member(os.path.join(os.fspath(path), m)) for m in info["members"]]
        return cls(members, model_folder.transformers_from_json(info.get("transformers", [])), info["targets"], info)

    def save(self, path=None, info: Optional[dict] = None) -> str:
        """Write the members and the format marker into the folder ``path`` (default ``model_dir``); ``info`` adds
        fields to the marker (``finetune`` adds the input, training options and command). Returns ``path``."""
        from deepchem_finetune.hub import collect_provenance
        path = os.fspath(path or self.model_dir)
        names = []
        for k, member in enumerate(self.members):
            name = f"members/{k}"
            fit = getattr(member, "member_info", {}).get("fit", {})
            model_folder.write_member(member, os.path.join(path, name), fit, {"ensemble_member": k})
            names.append(name)
        marker = {**self.info, **(info or {}), "format": model_folder.FORMAT,
                  "format_version": model_folder.FORMAT_VERSION, "targets": self.tasks,
                  "task_type": self.mode, "n_classes": self.n_classes, "featurizer": self.featurizer_spec,
                  "transformers": model_folder.transformers_to_json(self.transformers), "members": names}
        marker.setdefault("provenance", collect_provenance())
        with open(os.path.join(path, model_folder.MARKER), "w") as fh:
            json.dump(model_folder.json_safe(marker), fh, indent=1)
        return path

    # ----------------------------------------------------------------------------- predict
    def get_task_type(self) -> str:
        return self.mode

    def get_num_tasks(self) -> int:
        return self.n_tasks

    def get_featurizer(self):
        """A new instance of the featurizer the members' inputs must be made with."""
        return self.members[0].get_featurizer()

    def fit(self, *args, **kwargs):
        raise NotImplementedError("an EnsembleModel is not trained as a whole: fine-tune its members (or run "
                                  "deepchem-finetune finetune) and build a new one")

    def predict_members(self, dataset, transformers: Sequence = ()) -> np.ndarray:
        """Every member's ``predict(dataset, transformers)``, stacked: ``(n_members, ...)``."""
        return np.stack([m.predict(dataset, transformers=list(transformers)) for m in self.members])

    def predict(self, dataset, transformers: Sequence = ()) -> np.ndarray:
        """Mean over members of ``member.predict(dataset, transformers)`` (DeepChem shapes)."""
        return self.predict_members(dataset, transformers).mean(axis=0)

    def predict_uncertainty(self, dataset, transformers: Sequence = ()):
        """``(mean, std)`` over members, both in DeepChem's prediction shape; ``std`` is the members' standard
        deviation (``ddof=0``; 0 for one member), of class probabilities for classification."""
        preds = self.predict_members(dataset, transformers)
        return preds.mean(axis=0), preds.std(axis=0)

    def predict_on_batch(self, X) -> np.ndarray:
        return self.predict(dc.data.NumpyDataset(X))

    def featurize(self, inputs: Sequence[str]):
        """Featurize SMILES or sequences: ``(features of the rows that could be featurized, their positions,
        {position: reason} for the others)`` (:func:`~deepchem_finetune.workflow.table.featurize_column`)."""
        return featurize_column([inputs] if isinstance(inputs, str) else list(inputs), self.get_featurizer())

    def _predict_strings(self, inputs, transformers, return_std):
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        features, rows, problems = self.featurize(inputs)
        if len(rows) == 0:
            raise ValueError(f"none of the {len(inputs)} inputs could be featurized (first: {problems[min(problems)]})")
        transformers = self.transformers if transformers is None else list(transformers)
        mean, std = self.predict_uncertainty(dc.data.NumpyDataset(features), transformers)
        out_mean = np.full((len(inputs),) + mean.shape[1:], np.nan)
        out_std = np.full_like(out_mean, np.nan)
        out_mean[rows], out_std[rows] = mean, std
        return (out_mean, out_std) if return_std else out_mean

    def predict_smiles(self, smiles: Sequence[str], transformers: Optional[Sequence] = None,
                       return_std: bool = False):
        """Predict from SMILES; rows that cannot be featurized come back as NaN. ``transformers`` default: the
        ensemble's own (predictions in the units of the training file). With ``return_std``: ``(mean, std)``."""
        return self._predict_strings(smiles, transformers, return_std)

    def predict_sequences(self, sequences: Sequence[str], transformers: Optional[Sequence] = None,
                          return_std: bool = False):
        """Predict from protein / nucleotide sequences, as :meth:`predict_smiles`."""
        return self._predict_strings(sequences, transformers, return_std)
