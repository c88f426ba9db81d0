"""``PretrainedMixin``: the pretrained-artifact side of :class:`~deepchem_finetune.models.BackboneModel`.

``save_pretrained`` / ``to_pretrained`` write the backbone (not the head) as a self-describing artifact;
``load_pretrained`` / ``from_pretrained`` / ``load_from_pretrained`` load one strictly by parameter name, from a folder,
a zoo name, an artifact or another model (:mod:`deepchem_finetune.hub`).
"""
from __future__ import annotations

from typing import Optional

from torch import nn

from deepchem_finetune import hub


class PretrainedMixin:
    """Mixed into :class:`~deepchem_finetune.models.BackboneModel` (which provides ``backbone``, ``head``,
    ``featurizer_spec``, ``reset_optimizer`` and the provenance attributes)."""

    def save_pretrained(self, path, objective: Optional[dict] = None, provenance: Optional[dict] = None,
                        extra: Optional[dict] = None) -> str:
        """Save the backbone (not the head) as a self-describing pretrained folder (:mod:`deepchem_finetune.hub`).

        Parameters
        ----------
        path: str
            Folder to write (atomically; an existing pretrained folder is replaced).
        objective: dict, optional
            ``{name, config}`` of the objective the backbone was trained with (default: this model's
            supervised task).
        provenance: dict, optional
            Extra provenance fields (training data name/size/sha256, command, final loss, ...).
        extra: dict, optional
            Plain-JSON extras (e.g. descriptor scalers).

        Returns
        -------
        str
            The path written.
        """
        return self.to_pretrained(objective, provenance, extra).save(path)

    def to_pretrained(self, objective: Optional[dict] = None, provenance: Optional[dict] = None,
                      extra: Optional[dict] = None) -> "hub.PretrainedArtifact":
        """The backbone as an in-memory pretrained artifact (what :meth:`save_pretrained` writes).

        Examples
        --------
        >>> from deepchem_finetune import MolGNNModel
        >>> m = MolGNNModel(n_tasks=1, num_layers=1, hidden_dim=8, seed=0)
        >>> m.to_pretrained().objective["name"]
        'supervised'
        """
        if objective is None:
            objective = {"name": self.model.objective.name, "config": self.model.objective.config}
        fields = dict(self.pretraining_provenance)
        fields.setdefault("steps", int(self.get_global_step()) if self._built else 0)
        fields.setdefault("seed", self.seed)
        if self.parent_provenance is not None:
            fields.setdefault("parent", self.parent_provenance)
        fields.update(provenance or {})
        return hub.backbone_artifact(self.backbone, self.featurizer_spec, objective, fields, extra)

    def load_pretrained(self, source, check_featurizer: bool = True) -> "PretrainedMixin":
        """Load backbone weights strictly by name from a pretrained folder, zoo name, artifact or another model.

        The head is left as it is; the optimizer is rebuilt (no optimizer state is carried over); the
        loaded weights become the reference of the ``l2_sp`` strategy. Returns ``self``.

        Raises
        ------
        PretrainedError
            Missing / unexpected / mis-shaped keys (all listed), corrupted or foreign files.
        SpecMismatchError
            The architecture or featurizer differs (both shown).
        """
        if isinstance(source, PretrainedMixin):
            artifact, label = source.to_pretrained(), f"model {type(source).__name__}"
            provenance = dict(source.pretraining_provenance) or None
        else:
            artifact = hub.read_pretrained(source)
            label, provenance = f"pretrained {artifact.path}", artifact.provenance
        hub.load_weights(self.backbone, artifact, self.featurizer_spec if check_featurizer else None, label)
        self.pretrained_reference = {k: p.detach().clone() for k, p in self.backbone.named_parameters()}
        self.parent_provenance = provenance
        # what the weights were: the artifact's checksum, or the source file's for an imported .pth
        self.pretrained_sha256 = artifact.config.get("weights_sha256") or artifact.provenance.get("source_sha256")
        if self._built:
            self.reset_optimizer()
        nn.Module.train(self.model, self.model.training)  # frozen blocks back in eval mode
        return self

    @classmethod
    def from_pretrained(cls, source, n_tasks: int, mode: str = "classification", strategy="full",
                        strategy_options: Optional[dict] = None, **model_kwargs) -> "PretrainedMixin":
        """Build a model whose backbone and featurizer come from a pretrained artifact, with a fresh head.

        Parameters
        ----------
        source: str or PretrainedArtifact
            Pretrained folder or zoo name (see ``deepchem-finetune zoo``), or a pretrain-gnns ``.pth`` file.
        n_tasks: int
        mode: str
        strategy: str or Strategy, optional (default "full")
            'full', 'frozen', 'gradual_unfreeze', 'layerwise_lr' or 'l2_sp'.
        strategy_options: dict, optional
        **model_kwargs:
            Other constructor arguments (``n_classes``, ``dropout``, ``batch_size``, ``learning_rate``,
            ``model_dir``, ``seed``, head options ...). Architecture options must agree with the file.
        """
        artifact = hub.read_pretrained(source)
        model = cls._from_backbone_spec(artifact.backbone, artifact.featurizer, n_tasks=n_tasks, mode=mode,
                                        strategy=strategy, strategy_options=strategy_options, **model_kwargs)
        model.load_pretrained(artifact)
        return model

    @classmethod
    def _from_backbone_spec(cls, backbone_spec: dict, featurizer_spec: dict, **kwargs):
        raise NotImplementedError

    def load_from_pretrained(self, source_model, assignment_map=None, value_map=None, checkpoint=None,
                             model_dir=None, include_top: bool = True, inputs=None, **kwargs) -> None:
        """DeepChem's API, made safe: parameters are paired by *name*, strictly.

        With ``assignment_map`` / ``value_map`` DeepChem's own (positional) implementation is used.
        ``include_top=False`` copies the backbone only; ``True`` copies the head too (same task shape).
        """
        if assignment_map is not None or value_map is not None:
            return super().load_from_pretrained(source_model, assignment_map, value_map, checkpoint, model_dir,
                                                include_top, inputs, **kwargs)
        if checkpoint is not None or model_dir is not None:
            source_model.restore(checkpoint=checkpoint, model_dir=model_dir)
        self.load_pretrained(source_model)
        if include_top:
            hub.load_state_dict_strict(self.head, source_model.head.state_dict(), source="source model head")
