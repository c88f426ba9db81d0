"""``FeatureMLPModel``: an MLP on molecule-level features only (no graph), trained like the GNN."""
from __future__ import annotations

from typing import Optional, Sequence

from deepchem_finetune.backbones.features import NoGraph
from deepchem_finetune.heads import FEATURES_HEAD_HIDDEN
from deepchem_finetune.models.gnn_model import MolGNNModel


class FeatureMLPModel(MolGNNModel):
    """The "features only" arm: a :class:`~deepchem_finetune.heads.FeatureHead` (scaled ECFP4 / RDKit descriptors ->
    MLP) on the same featurizer, scaler, recipe and early stopping as :class:`MolGNNModel` with ``extra_features``,
    but no graph encoder; it shows what the graph adds on top of the features.

    Parameters
    ----------
    n_tasks: int
    featurizer: MolGraphFeaturizer
        With ``extra_features`` (the graph it also makes is not read).
    head_hidden: sequence of int, optional (default (300,))
        Hidden widths of the MLP.
    head_dropout: float, optional (default 0.2)
    **kwargs:
        As :class:`MolGNNModel` (mode, n_classes, seed, batch_size, learning_rate, ...); backbone options are
        ignored.

    Examples
    --------
    >>> import numpy as np, deepchem as dc
    >>> from deepchem_finetune.featurizers import MolGraphFeaturizer
    >>> f = MolGraphFeaturizer(extra_features=["ecfp4"])
    >>> ds = dc.data.NumpyDataset(f.featurize(["CCO", "c1ccccc1", "CCN", "CC(=O)O"]), np.array([[0.], [1.], [0.], [1.]]))
    >>> model = FeatureMLPModel(1, featurizer=f, seed=0)
    >>> _ = model.fit(ds, nb_epoch=2)
    >>> model.predict(ds).shape
    (4, 1, 2)
    """

    def __init__(self, n_tasks: Optional[int] = None, featurizer=None,
                 head_hidden: Sequence[int] = FEATURES_HEAD_HIDDEN, head_dropout: float = 0.2, **kwargs):
        if featurizer is None or not getattr(featurizer, "extra_dim", 0):
            raise ValueError("FeatureMLPModel needs a featurizer with extra_features, e.g. "
                             "MolGraphFeaturizer(extra_features=['ecfp4', 'rdkit2d'])")
        for key in ("num_layers", "hidden_dim", "conv", "mlp_ratio", "heads", "dropout", "batch_norm", "jk",
                    "pooling", "last_activation"):
            kwargs.pop(key, None)
        super().__init__(n_tasks, featurizer=featurizer, head_hidden=head_hidden, head_dropout=head_dropout,
                         num_layers=1, hidden_dim=1, **kwargs)

    def _make_backbone(self, input_encoding: dict, **options):
        return NoGraph()
