"""``MolGNNModel``: :class:`~deepchem_finetune.backbones.MolGNN` as a DeepChem ``TorchModel``."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.backbones import MolGNN
from deepchem_finetune.data.batching import graphs_to_batch
from deepchem_finetune.featurizers import featurize_smiles, featurizer_spec, input_encoding
from deepchem_finetune.models.arguments import check_int
from deepchem_finetune.models.base import BackboneModel

dc = import_deepchem_quietly()


class MolGNNModel(BackboneModel):
    """A GIN-style molecular GNN for classification or regression, trained like any DeepChem model.

    Consumes ``GraphData`` from ``dc.feat.MolGraphConvFeaturizer(use_edges=True)`` (the default) or from
    :class:`~deepchem_finetune.featurizers.MolGraphFeaturizer`, in any DeepChem dataset. Multitask
    labels with missing entries are masked through the weights ``w`` (a NaN label is treated as missing).
    Predictions have DeepChem's shapes: ``(n, n_tasks, n_classes)`` probabilities for classification,
    ``(n, n_tasks)`` for regression.

    Parameters
    ----------
    n_tasks: int
        Number of tasks.
    mode: str, optional (default "classification")
        'classification' or 'regression'.
    n_classes: int, optional (default 2)
        Classes per task, for classification.
    featurizer: dc.feat.Featurizer, optional
        The featurizer the inputs are made with; fixes the atom/bond encoders. Default
        ``dc.feat.MolGraphConvFeaturizer(use_edges=True)``.
    objective: str, optional
        None (supervised, the default) or a pretraining objective name ('attr_masking'); then
        ``n_tasks`` is not needed, labels are made from the inputs and ``save_pretrained`` records it.
    objective_options: dict, optional
        Options of the objective (e.g. ``{"mask_rate": 0.15}``).
    num_layers, hidden_dim, conv, mlp_ratio, heads, dropout, batch_norm, jk, pooling, last_activation:
        Backbone options, see :class:`~deepchem_finetune.backbones.MolGNN`.
    head_hidden: sequence of int, optional
        Hidden widths of the task head (empty: one linear layer). Default: one linear layer, or one hidden layer of
        300 when the featurizer has ``extra_features`` (:data:`~deepchem_finetune.heads.FEATURES_HEAD_HIDDEN`).
    head_dropout: float, optional (default 0.0)
    seed: int, optional
        Makes initialisation, shuffling and dropout reproducible.
    strategy: str or Strategy, optional (default "full")
        Fine-tuning strategy: 'full', 'frozen', 'gradual_unfreeze', 'layerwise_lr', 'l2_sp'
        (see :mod:`deepchem_finetune.strategies`); ``strategy_options`` holds its options.
    precision: str, optional (default "fp32")
        "bf16" runs the backbone and head under bfloat16 autocast (about 2x faster matrix products on
        CPUs with AVX512-BF16/AMX); the loss and outputs stay float32.
    compile: bool, optional (default False)
        ``torch.compile`` the backbone's forward (dynamic shapes: batches of other sizes reuse the compiled
        code; training and prediction are compiled once each, and a strategy that freezes blocks epoch by
        epoch, ``gradual_unfreeze``, recompiles at each change). Meant for GPUs, where it fuses the many small
        kernels of a message-passing step; on a CPU it was measured no faster. The first batches of training
        and of prediction pay the compilation (10-30 s on a CPU). Pretraining objectives that call
        ``encode_nodes`` directly (attribute masking, context prediction) run uncompiled. Parameter names,
        training checkpoints and ``save_pretrained`` folders are the same as without it.
    batch_size: int, optional (default 32)
    learning_rate: float, optional (default 1e-3)
    **kwargs:
        Other ``dc.models.TorchModel`` arguments (``model_dir``, ``optimizer``, ``device``, ...).

    Examples
    --------
    >>> import numpy as np, deepchem as dc
    >>> smiles = ["CCO", "c1ccccc1", "CC(=O)O", "CCN"]
    >>> feat = dc.feat.MolGraphConvFeaturizer(use_edges=True)
    >>> ds = dc.data.NumpyDataset(feat.featurize(smiles), np.array([[0.], [1.], [0.], [1.]]))
    >>> model = MolGNNModel(n_tasks=1, mode="classification", num_layers=2, hidden_dim=32, seed=0)
    >>> loss = model.fit(ds, nb_epoch=2)
    >>> model.predict(ds).shape
    (4, 1, 2)

    References
    ----------
    Xu, K. et al. How Powerful are Graph Neural Networks? ICLR 2019.
    Hu, W. et al. Strategies for Pre-training Graph Neural Networks. ICLR 2020.
    """

    def __init__(self, n_tasks: Optional[int] = None, mode: str = "classification", n_classes: int = 2,
                 featurizer=None, objective=None, objective_options: Optional[dict] = None,
                 num_layers: int = 5, hidden_dim: int = 300, conv: str = "gin", mlp_ratio: int = 2,
                 heads: int = 2, dropout: float = 0.2, batch_norm: bool = True, jk: str = "last", pooling: str = "mean",
                 last_activation: bool = False, head_hidden: Optional[Sequence[int]] = None, head_dropout: float = 0.0,
                 seed: Optional[int] = None, strategy="full", strategy_options: Optional[dict] = None,
                 precision: str = "fp32", compile: bool = False, batch_size: int = 32, learning_rate: float = 1e-3,
                 **kwargs):
        check_int("seed", seed, 0, allow_none=True)  # before seed + 1 below
        if featurizer is None:
            featurizer = dc.feat.MolGraphConvFeaturizer(use_edges=True)
        self.input_encoding = input_encoding(featurizer)
        self.extra_dim = int(getattr(featurizer, "extra_dim", 0))  # molecule features: see BackboneModel
        import torch
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            backbone = self._make_backbone(self.input_encoding, num_layers=num_layers, hidden_dim=hidden_dim,
                                           conv=conv, mlp_ratio=mlp_ratio, heads=heads, dropout=dropout,
                                           batch_norm=batch_norm, jk=jk, pooling=pooling,
                                           last_activation=last_activation)
        super().__init__(backbone, featurizer_spec(featurizer), n_tasks=n_tasks, mode=mode,
                         n_classes=n_classes, objective=objective, objective_options=objective_options,
                         head_hidden=head_hidden, head_dropout=head_dropout,
                         seed=None if seed is None else seed + 1, strategy=strategy,
                         strategy_options=strategy_options, precision=precision, compile=compile,
                         batch_size=batch_size, learning_rate=learning_rate, **kwargs)
        self.seed = seed

    def _make_backbone(self, input_encoding: dict, **options):
        return MolGNN(input_encoding, **options)

    @classmethod
    def _from_backbone_spec(cls, backbone_spec: dict, featurizer_spec: dict, **kwargs):
        from deepchem_finetune.featurizers import featurizer_from_spec
        from deepchem_finetune.hub import NON_ARCHITECTURAL, with_extra_features
        if "extra_features" in kwargs:  # molecule features beside a pretrained backbone (they feed the head only)
            featurizer_spec = with_extra_features(featurizer_spec, kwargs.pop("extra_features") or ())
        if backbone_spec["name"] != "MolGNN":
            raise ValueError(f"{cls.__name__} cannot load a {backbone_spec['name']!r} backbone")
        config = {k: v for k, v in backbone_spec["config"].items() if k != "input_encoding"}
        clash = {k: (kwargs[k], v) for k, v in config.items()
                 if k in kwargs and k not in NON_ARCHITECTURAL and kwargs[k] != v}
        if clash:
            raise ValueError("architecture options disagree with the pretrained file (given, file): "
                             f"{clash}")
        config.update({k: kwargs.pop(k) for k in list(kwargs) if k in config})
        return cls(featurizer=featurizer_from_spec(featurizer_spec), **config, **kwargs)

    def collate(self, X: np.ndarray):
        batch = graphs_to_batch(X, device=self.device, validate=self._check_inputs)
        features = getattr(batch, "molecule_features", None)
        self.check_molecule_features(None if features is None else features.shape[1])
        return batch

    def _check_inputs(self, x: np.ndarray, e: np.ndarray) -> None:
        """Reject atom / bond feature arrays the encoders cannot read (checked in numpy, before the transfer)."""
        enc = self.input_encoding
        fix = "featurize with model.get_featurizer()"
        x_float = np.issubdtype(x.dtype, np.floating)
        if enc["kind"] == "dense":
            if not x_float or x.shape[1] != enc["atom_dim"] or e.shape[1] != enc["bond_dim"]:
                raise ValueError(
                    f"inputs have {x.shape[1]} atom / {e.shape[1]} bond features ({x.dtype}) but the model "
                    f"expects float features of width {enc['atom_dim']} / {enc['bond_dim']}: {fix}")
            return
        cards_a, cards_b = enc["atom_cardinalities"], enc["bond_cardinalities"]
        if x_float or x.shape[1] != len(cards_a) or e.shape[1] != len(cards_b):
            raise ValueError(
                f"inputs have {x.shape[1]} atom / {e.shape[1]} bond features ({x.dtype}) but the model expects "
                f"{len(cards_a)} / {len(cards_b)} integer features: {fix}")
        for name, t, cards in (("atom", x, cards_a), ("bond", e, cards_b)):
            if t.size and ((t.max(0) >= np.asarray(cards)).any() or t.min() < 0):
                raise ValueError(f"{name} feature index out of range for tables of sizes {cards}: {fix}")

    # ------------------------------------------------------------------------- convenience
    def featurize(self, smiles: Sequence[str], skip_invalid: bool = False):
        """Featurize SMILES with this model's featurizer; see :func:`~deepchem_finetune.featurizers.featurize_smiles`."""
        return featurize_smiles(smiles, self.get_featurizer(), skip_invalid=skip_invalid)

    def predict_smiles(self, smiles: Sequence[str], transformers=(), skip_invalid: bool = False) -> np.ndarray:
        """Predict directly from SMILES. With ``skip_invalid=True`` invalid rows come back as NaN.

        Examples
        --------
        >>> m = MolGNNModel(n_tasks=1, mode="regression", num_layers=1, hidden_dim=8, seed=0)
        >>> m.predict_smiles(["CCO", "CCC"]).shape
        (2, 1)
        """
        fb = self.featurize(smiles, skip_invalid=skip_invalid)
        if len(fb.features) == 0:
            raise ValueError("none of the SMILES could be featurized")
        pred = self.predict(dc.data.NumpyDataset(fb.features), transformers=list(transformers))
        out = np.full((len(smiles),) + pred.shape[1:], np.nan, dtype=np.float64)
        out[fb.indices] = pred
        return out
