"""``SeqCNNModel``: :class:`~deepchem_finetune.backbones.SeqCNN` as a DeepChem ``TorchModel``."""
from __future__ import annotations

import json
import logging
from typing import Optional, Sequence

import numpy as np
import torch

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.backbones import SeqCNN
from deepchem_finetune.data.batching import TokenBatch
from deepchem_finetune.exceptions import FeaturizationError, SpecMismatchError
from deepchem_finetune.featurizers import (FeaturizedBatch, ProteinTokenizer, TokenizedMolecule, featurizer_spec,
                                          input_encoding)
from deepchem_finetune.models.arguments import check_int
from deepchem_finetune.models.base import BackboneModel

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

_ARCH_OPTIONS = ("width", "depth", "kernel_size", "dilations", "inner_width", "dropout", "pooling")


class SeqCNNModel(BackboneModel):
    """A dilated residual CNN over SMILES, protein or nucleotide tokens, trained like any DeepChem model.

    Consumes the ``(n, max_length)`` token arrays of a sequence tokenizer
    (:class:`~deepchem_finetune.featurizers.ProteinTokenizer` by default,
    :class:`~deepchem_finetune.featurizers.SmilesTokenizer`,
    :class:`~deepchem_finetune.featurizers.NucleotideTokenizer`) in any DeepChem dataset. Each batch is cut
    to its longest sequence, so short sequences in wide arrays cost nothing. Predictions have DeepChem's
    shapes: ``(n, n_tasks, n_classes)`` probabilities for classification, ``(n, n_tasks)`` for regression.

    Parameters
    ----------
    n_tasks: int
        Number of tasks.
    mode: str, optional (default "classification")
        'classification' or 'regression'.
    n_classes: int, optional (default 2)
    featurizer: sequence tokenizer, optional
        Fixes the vocabulary; default ``ProteinTokenizer(max_length=512)``. Featurize new data with
        ``model.get_featurizer()``. A ``SmilesTokenizer`` with ``extra_features`` adds molecule-level features
        (ECFP4, RDKit 2D descriptors) beside the sequence embedding in the task head, scaled on the training set
        (supervised models only).
    objective: str, optional
        None (supervised) or a pretraining objective name; ``objective_options`` holds its options.
    width, depth, kernel_size, dilations, inner_width, dropout, pooling:
        Backbone options, see :class:`~deepchem_finetune.backbones.SeqCNN`.
    head_hidden: sequence of int, optional
        Hidden widths of the task head (empty: one linear layer). Default: one linear layer, or one hidden layer of
        300 when the featurizer has ``extra_features`` (:data:`~deepchem_finetune.heads.FEATURES_HEAD_HIDDEN`).
    head_dropout: float, optional (default 0.0)
    seed: int, optional
        Makes initialisation, shuffling and dropout reproducible.
    strategy: str or Strategy, optional (default "full")
        'full', 'frozen', 'gradual_unfreeze', 'layerwise_lr' or 'l2_sp'; ``strategy_options`` its options.
    precision: str, optional (default "fp32")
        "bf16" runs backbone and head under bfloat16 autocast.
    compile: bool, optional (default False)
        ``torch.compile`` the backbone's forward (dynamic shapes); see
        :class:`~deepchem_finetune.models.MolGNNModel`. The masked-token objective calls ``encode_tokens``
        directly and runs uncompiled.
    batch_size: int, optional (default 32)
    learning_rate: float, optional (default 1e-3)
    **kwargs:
        Other ``dc.models.TorchModel`` arguments (``model_dir``, ``device``, ...).

    Examples
    --------
    >>> import numpy as np, deepchem as dc
    >>> model = SeqCNNModel(n_tasks=1, mode="regression", width=16, depth=2, seed=0)
    >>> X = model.get_featurizer().featurize(["MKTAYIAK", "MKTAHIAK", "MRTAYIAK"])
    >>> loss = model.fit(dc.data.NumpyDataset(X, np.array([[0.1], [0.5], [0.9]])), nb_epoch=2)
    >>> model.predict_sequences(["MKTAYIAR"]).shape
    (1, 1)

    References
    ----------
    Yang, K. K. et al. Convolutions are competitive with transformers for protein sequence pretraining
    (CARP). Cell Systems 2024.
    """

    def __init__(self, n_tasks: Optional[int] = None, mode: str = "classification", n_classes: int = 2,
                 featurizer=None, objective=None, objective_options: Optional[dict] = None,
                 width: int = 128, depth: int = 8, kernel_size: int = 5, dilations: Sequence[int] = (1, 2, 4, 8),
                 inner_width: Optional[int] = None, dropout: float = 0.0, pooling: str = "mean",
                 head_hidden: Optional[Sequence[int]] = None, head_dropout: float = 0.0, seed: Optional[int] = None,
                 strategy="full", strategy_options: Optional[dict] = None, precision: str = "fp32",
                 compile: bool = False, batch_size: int = 32, learning_rate: float = 1e-3, **kwargs):
        check_int("seed", seed, 0, allow_none=True)  # before seed + 1 below
        if featurizer is None:
            featurizer = ProteinTokenizer(max_length=512)
        enc = input_encoding(featurizer)
        if enc.get("kind") != "tokens":
            raise TypeError(f"SeqCNNModel needs a sequence tokenizer (SmilesTokenizer, ProteinTokenizer, "
                            f"NucleotideTokenizer), got {type(featurizer).__name__}")
        self.input_encoding = enc
        self.extra_dim = int(getattr(featurizer, "extra_dim", 0))  # molecule features: see BackboneModel
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            backbone = SeqCNN(enc["vocab_size"], pad_id=enc["pad_id"], width=width, depth=depth,
                              kernel_size=kernel_size, dilations=dilations, inner_width=inner_width,
                              dropout=dropout, pooling=pooling)
        super().__init__(backbone, featurizer_spec(featurizer), n_tasks=n_tasks, mode=mode,
                         n_classes=n_classes, objective=objective, objective_options=objective_options,
                         head_hidden=head_hidden, head_dropout=head_dropout,
                         seed=None if seed is None else seed + 1, strategy=strategy,
                         strategy_options=strategy_options, precision=precision, compile=compile,
                         batch_size=batch_size, learning_rate=learning_rate, **kwargs)
        self.seed = seed

    @classmethod
    def _from_backbone_spec(cls, backbone_spec: dict, featurizer_spec: dict, **kwargs):
        from deepchem_finetune.featurizers import featurizer_from_spec
        from deepchem_finetune.hub import NON_ARCHITECTURAL, with_extra_features
        if backbone_spec["name"] != "SeqCNN":
            raise ValueError(f"{cls.__name__} cannot load a {backbone_spec['name']!r} backbone")
        if "extra_features" in kwargs:  # molecule features of SMILES beside the backbone (they feed the head only)
            extra = kwargs.pop("extra_features") or ()
            if extra and featurizer_spec["name"] != "SmilesTokenizer":
                raise ValueError(f"extra_features are molecule-level features of SMILES; this backbone reads "
                                 f"{featurizer_spec['name']} inputs")
            featurizer_spec = with_extra_features(featurizer_spec, extra)
        featurizer = featurizer_from_spec(featurizer_spec)
        stored = backbone_spec["config"]
        enc = input_encoding(featurizer)
        if (stored["vocab_size"], stored["pad_id"]) != (enc["vocab_size"], enc["pad_id"]):
            raise SpecMismatchError(f"the pretrained backbone expects vocab_size={stored['vocab_size']}, "
                                    f"pad_id={stored['pad_id']} but its featurizer gives {enc['vocab_size']}, "
                                    f"{enc['pad_id']}: the file is inconsistent")
        config = {k: stored[k] for k in _ARCH_OPTIONS}
        plain = lambda v: json.loads(json.dumps(v))  # noqa: E731  (tuples and lists compare equal)
        clash = {k: (kwargs[k], v) for k, v in config.items()
                 if k in kwargs and k not in NON_ARCHITECTURAL and plain(kwargs[k]) != plain(v)}
        if clash:
            raise ValueError(f"architecture options disagree with the pretrained file (given, file): {clash}")
        config.update({k: kwargs.pop(k) for k in list(kwargs) if k in config})
        return cls(featurizer=featurizer, **config, **kwargs)

    # ----------------------------------------------------------------------------- batches
    def collate(self, X: np.ndarray):
        """Token array ``(batch, max_length)`` -> LongTensor cut to the longest sequence of the batch; rows of
        :class:`~deepchem_finetune.featurizers.TokenizedMolecule` (a tokenizer with ``extra_features``) -> a
        :class:`~deepchem_finetune.data.batching.TokenBatch` of those tokens and the molecule-level features."""
        X = np.asarray(X)
        fix = "featurize with model.get_featurizer()"
        records = [isinstance(r, TokenizedMolecule) for r in X] if X.dtype == object and X.ndim == 1 else []
        if any(records) and not all(records):
            raise ValueError(f"batch row {records.index(False)} is not a tokenized molecule (a row that failed "
                             f"featurization?) while others are: {fix}")
        features = np.stack([r.molecule_features for r in X]) if any(records) else None
        self.check_molecule_features(None if features is None else features.shape[1])
        if features is None:
            return self._tokens(X, fix)
        return TokenBatch(self._tokens(np.stack([r.tokens for r in X]), fix),
                          torch.as_tensor(features, dtype=torch.float32, device=self.device))

    def _tokens(self, X: np.ndarray, fix: str) -> torch.Tensor:
        if X.ndim != 2 or not np.issubdtype(X.dtype, np.integer):
            raise ValueError(f"inputs must be a 2-D integer token array (n, max_length), got shape {X.shape} "
                             f"and dtype {X.dtype}: {fix}")
        vocab_size, pad = self.input_encoding["vocab_size"], self.input_encoding["pad_id"]
        if X.size and (X.min() < 0 or X.max() >= vocab_size):
            bad = int(np.argwhere((X < 0) | (X >= vocab_size))[0, 0])
            raise ValueError(f"token ids of batch row {bad} are outside [0, {vocab_size}) of this model's "
                             f"vocabulary: {fix}")
        real = X != pad
        empty = ~real.any(axis=1)
        if empty.any():
            raise ValueError(f"batch row {int(np.argmax(empty))} holds only padding (an empty sequence): {fix}")
        length = int(real.shape[1] - np.argmax(real[:, ::-1].any(axis=0))) if X.size else 0
        return torch.as_tensor(X[:, :length].astype(np.int64, copy=False), device=self.device)

    # ------------------------------------------------------------------------- convenience
    def featurize(self, sequences: Sequence[str], skip_invalid: bool = False) -> FeaturizedBatch:
        """Tokenize with this model's featurizer; with ``skip_invalid`` failures are reported, not raised.

        Returns
        -------
        FeaturizedBatch
            ``features`` ``(n_kept, max_length)`` int64 (with ``extra_features`` an object array of
            ``TokenizedMolecule``), the kept ``indices`` and ``(index, input, reason)``
            ``errors``.
        """
        if isinstance(sequences, str):
            sequences = [sequences]
        tok = self.get_featurizer()
        if not skip_invalid:
            features = tok.featurize(sequences)
            return FeaturizedBatch(features, np.arange(len(features), dtype=np.int64), [])
        rows, kept, errors = [], [], []
        with rdkit_errors_silenced():
            for i, seq in enumerate(sequences):
                try:
                    rows.append(tok.featurize_one(seq, index=i))
                except FeaturizationError as err:
                    errors.append((i, str(seq), str(err)))
                    continue
                kept.append(i)
        if errors:
            logger.warning("skipped %d of %d sequences that could not be featurized (first: index %d)",
                           len(errors), len(sequences), errors[0][0])
        if self.extra_dim:
            features = np.empty(len(rows), dtype=object)
            features[:] = rows
        else:
            features = np.stack(rows) if rows else np.zeros((0, tok.max_length), dtype=np.int64)
        return FeaturizedBatch(features, np.asarray(kept, dtype=np.int64), errors)

    def predict_sequences(self, sequences: Sequence[str], transformers=(), skip_invalid: bool = False) -> np.ndarray:
        """Predict directly from strings. With ``skip_invalid=True`` invalid rows come back as NaN.

        Examples
        --------
        >>> m = SeqCNNModel(n_tasks=1, mode="regression", width=8, depth=1, seed=0)
        >>> m.predict_sequences(["MKV", "MKVL"]).shape
        (2, 1)
        """
        sequences = [sequences] if isinstance(sequences, str) else list(sequences)
        fb = self.featurize(sequences, skip_invalid=skip_invalid)
        if len(fb.features) == 0:
            raise ValueError("none of the sequences could be featurized")
        pred = self.predict(dc.data.NumpyDataset(fb.features), transformers=list(transformers))
        out = np.full((len(sequences),) + pred.shape[1:], np.nan, dtype=np.float64)
        out[fb.indices] = pred
        return out
