"""``BackboneModel``: the DeepChem ``TorchModel`` that every model of this package is.

A network is ``objective.outputs(head(backbone(inputs)))``. This class adds what transfer learning
needs on top of DeepChem's ``fit / predict / evaluate / save_checkpoint / restore``:

* batches are built by the subclass's ``collate`` (e.g. GraphData -> torch-geometric ``Batch``), then the
  objective's data-side ``transform`` makes the network input and the label tensors (supervised labels are
  checked there, and a NaN never reaches the loss; pretraining objectives corrupt the batch there);
* a ``seed`` makes initialisation, shuffling, dropout and corruption reproducible without touching numpy's global
  RNG (:class:`~deepchem_finetune.seeding.RunCounters`, saved in training checkpoints);
* unknown keyword arguments and wrong argument types raise, naming the argument;
* fine-tuning strategies (:mod:`deepchem_finetune.strategies`): parameter groups built where DeepChem
  builds its optimizer, blocks frozen at each epoch start, penalties added to the loss;
* data-parallel training: inside a torch.distributed group each rank takes its share of every epoch's
  batches (:func:`deepchem_finetune.distributed.rank_share`);
* ``save_pretrained`` / ``from_pretrained`` / ``load_pretrained``: backbone-only, self-describing pretrained
  artifacts loaded strictly by parameter name (:mod:`deepchem_finetune.hub`);
* a fine-tuning ``recipe`` (:mod:`deepchem_finetune.recipe`: learning-rate warm-up and decay, gradient clipping,
  weight averaging) hooked into the optimizer DeepChem steps; with averaging, predictions use the averaged weights.
"""
from __future__ import annotations

import inspect
import os
import warnings
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from deepchem_finetune import distributed, recipe as recipes
from deepchem_finetune._compat import GRAD_SCALAR_WARNING, import_deepchem_quietly
from deepchem_finetune.data.batching import iterate_batches
from deepchem_finetune.exceptions import SpecMismatchError
from deepchem_finetune.heads import FEATURES_HEAD_HIDDEN
from deepchem_finetune.models import checkpoints
from deepchem_finetune.models.arguments import check_model_arguments
from deepchem_finetune.models.network import TaskNetwork
from deepchem_finetune.models.transfer import PretrainedMixin
from deepchem_finetune.objectives import SupervisedObjective, get_objective
from deepchem_finetune.seeding import RunCounters
from deepchem_finetune.strategies import Strategy, apply_freezing, get_strategy

dc = import_deepchem_quietly()

_TORCHMODEL_KWARGS = set(inspect.signature(dc.models.TorchModel.__init__).parameters) - {
    "self", "model", "loss", "output_types", "kwargs", "batch_size", "learning_rate"}


class BackboneModel(PretrainedMixin, dc.models.TorchModel):
    """Base class of the package's DeepChem models (a backbone, a task head, an objective).

    Subclasses build the backbone and define ``collate(X) -> network input``. A subclass whose featurizer adds
    molecule-level features (``extra_features``) sets ``extra_dim`` to their width before calling ``__init__``;
    the task head's scaler is then fitted on the first dataset the model is trained on.
    """

    extra_dim: int = 0  # width of the molecule-level features fed to the task head (0: none)

    def __init__(self, backbone: nn.Module, featurizer_spec: dict, n_tasks: Optional[int],
                 mode: str = "classification", n_classes: int = 2, objective=None,
                 objective_options: Optional[dict] = None, head_hidden: Optional[Sequence[int]] = None,
                 head_dropout: float = 0.0,
                 seed: Optional[int] = None, strategy="full", strategy_options: Optional[dict] = None,
                 precision: str = "fp32", compile: bool = False, batch_size: int = 32, learning_rate: float = 1e-3,
                 recipe=None, **kwargs):
        unknown = set(kwargs) - _TORCHMODEL_KWARGS
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) {sorted(unknown)}; "
                            f"TorchModel accepts {sorted(_TORCHMODEL_KWARGS)}")
        supervised = objective is None or objective == "supervised"
        if head_hidden is None:
            head_hidden = FEATURES_HEAD_HIDDEN if self.extra_dim else ()
        if self.extra_dim:  # molecule-level features of the featurizer go to the task head
            if not supervised:
                raise ValueError(f"molecule-level features (the featurizer's extra_features) feed a task head; pretrain "
                                 f"the {objective!r} objective with a featurizer without them")
            objective_options = {**(objective_options or {}), "extra_dim": self.extra_dim}
        check_model_arguments(n_tasks, mode, n_classes, batch_size, learning_rate, seed, head_hidden, head_dropout,
                              supervised)
        self.n_tasks, self.mode, self.n_classes = n_tasks, mode, n_classes
        self.seed = seed
        self.featurizer_spec = featurizer_spec
        if supervised:
            objective = SupervisedObjective(mode, n_tasks, n_classes, **(objective_options or {}))
        else:
            objective = get_objective(objective, featurizer_spec=featurizer_spec, **(objective_options or {}))
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            head = objective.build_head(backbone, head_hidden, head_dropout)
        self.counters = RunCounters(seed)
        self.head_config = {"hidden_dims": list(head_hidden), "dropout": float(head_dropout)}
        network = TaskNetwork(backbone, head, objective, precision)
        if not isinstance(compile, bool):
            raise TypeError(f"compile must be True or False, got {compile!r}")
        self.compiled = compile
        if self.compiled:
            # every objective goes through backbone.encode: compiling that bound method (an instance attribute)
            # keeps parameter names (no ``_orig_mod.`` prefix), so checkpoints are unchanged
            backbone.encode = torch.compile(backbone.encode, dynamic=True)
        self.strategy: Strategy = get_strategy(strategy, **(strategy_options or {}))
        self.recipe: recipes.Recipe = recipes.get_recipe(recipe)  # name, dict of options or Recipe
        self.pretrained_reference = None  # backbone weights at load time (L2-SP), set by load_pretrained
        self.parent_provenance = None  # provenance of the pretrained backbone this model was loaded from
        self.pretrained_sha256 = None  # sha256 of the pretrained weights loaded (None: not loaded, or from a model)
        self.pretraining_provenance: dict = {}  # filled by pretraining code (data, objective, command)
        if kwargs.get("model_dir"):
            # DeepChem checks for the folder, then creates it: data-parallel ranks building their models at the
            # same moment race there (FileExistsError). Creating it first, idempotently, removes the race.
            os.makedirs(kwargs["model_dir"], exist_ok=True)
        super().__init__(network, loss=self._total_loss, output_types=objective.output_types,
                         batch_size=batch_size, learning_rate=learning_rate, **kwargs)

    def _total_loss(self, outputs, labels, weights):
        loss = self.model.objective.loss(outputs, labels, weights)
        penalty = self.strategy.penalty(self)
        return loss if penalty is None else loss + penalty

    # ---------------------------------------------------------------------------- strategy
    def set_strategy(self, strategy="full", **options) -> None:
        """Switch the fine-tuning strategy (by name with options, or a Strategy); rebuilds the optimizer."""
        self.strategy = get_strategy(strategy, **options)
        self.counters.strategy_epochs = 0
        apply_freezing(self, 0)
        if self._built:
            self.reset_optimizer()

    def _ensure_built(self) -> None:
        if self._built:
            return
        super()._ensure_built()
        self.reset_optimizer()

    def reset_optimizer(self) -> None:
        """A fresh optimizer (no state) over the strategy's parameter groups; called when the strategy changes and
        when pretrained weights are loaded, so nothing of an earlier training carries over."""
        lr = self.optimizer.learning_rate
        base = getattr(lr, "initial_rate", lr)
        groups = self.strategy.param_groups(self, float(base))
        self._pytorch_optimizer = self.optimizer._create_pytorch_optimizer(groups)
        if hasattr(lr, "_create_pytorch_schedule"):
            self._lr_schedule = lr._create_pytorch_schedule(self._pytorch_optimizer)
        self._optimizer_for_vars = {}
        self.recipe.attach(self)  # schedule, clipping and averaging hooks on the new optimizer

    # ------------------------------------------------------------------------------ access
    @property
    def backbone(self) -> nn.Module:
        """The backbone ``nn.Module`` (shared with the trained network)."""
        return self.model.backbone

    @property
    def head(self) -> nn.Module:
        return self.model.head

    def get_featurizer(self):
        """A new instance of the featurizer this model's inputs must be made with."""
        from deepchem_finetune.featurizers import featurizer_from_spec
        return featurizer_from_spec(self.featurizer_spec)

    def fit(self, dataset, nb_epoch: int = 10, *args, **kwargs):
        """DeepChem's ``fit``; a recipe whose steps are not planned yet plans ``nb_epoch`` epochs of ``dataset``.
        With molecule-level features the head's scaler is first fitted on ``dataset`` (the first dataset the model
        is trained on: its training split), once."""
        if self.extra_dim and not bool(self.head.scaler.fitted):
            self.fit_feature_scaler(dataset)
        recipes.plan_steps(self, nb_epoch, len(dataset))
        return super().fit(dataset, nb_epoch, *args, **kwargs)

    def _predict(self, *args, **kwargs):
        """DeepChem's ``_predict`` (behind ``predict``, ``evaluate``, ...), with the recipe's averaged weights if any."""
        with self.recipe.averaged_weights(getattr(self.model, "module", self.model)):
            return super()._predict(*args, **kwargs)

    def fit_generator(self, generator, max_checkpoints_to_keep: int = 5, checkpoint_interval: int = 1000,
                      restore: bool = False, *args, **kwargs):
        """DeepChem's ``fit_generator``, without its per-log-interval torch warning (see ``_compat``);
        inside a torch.distributed process group the network is wrapped in DDP for the run. ``restore=True``
        restores before the first batch is drawn (DeepChem restores after it), so the restored epoch counters
        decide that epoch's shuffle, dropout and frozen blocks."""
        self._ensure_built()
        if restore:
            self.restore()
        args = (max_checkpoints_to_keep, checkpoint_interval, False) + args
        network = self.model
        if distributed.is_distributed():
            self.model = distributed.wrap(network)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=GRAD_SCALAR_WARNING)
                return super().fit_generator(generator, *args, **kwargs)
        finally:
            self.model = network

    def save_checkpoint(self, max_checkpoints_to_keep: int = 5, model_dir=None) -> None:
        """DeepChem's checkpoint (weights, optimizer, step, files ``checkpoint1.pt`` newest first), plus the epoch
        counters that drive the seeded shuffle, dropout and strategy schedule, so that :meth:`restore` followed by
        ``fit`` continues exactly as an uninterrupted run would when the checkpoint was taken between epochs (one taken
        mid-epoch, e.g. by ``checkpoint_interval``, resumes with the next epoch's shuffle). Written by rank 0 only,
        never with DDP names.

        Examples
        --------
        >>> model.fit(train, nb_epoch=3, checkpoint_interval=0)  # doctest: +SKIP
        >>> model.save_checkpoint(max_checkpoints_to_keep=1, model_dir="run/state")  # doctest: +SKIP
        >>> later = MolGNNModel(...same arguments...); later.restore(model_dir="run/state")  # doctest: +SKIP
        >>> later.fit(train, nb_epoch=1)  # epoch 4 of the same run  # doctest: +SKIP
        """
        if max_checkpoints_to_keep == 0 or not distributed.is_main_process():
            return
        self._ensure_built()
        network = getattr(self.model, "module", self.model)
        data = {"model_state_dict": network.state_dict(), "optimizer_state_dict": self._pytorch_optimizer.state_dict(),
                "global_step": self._global_step, **self.counters.state_dict(), **self.recipe.checkpoint_fields()}
        checkpoints.write_rotated(data, self.model_dir if model_dir is None else model_dir, max_checkpoints_to_keep)

    def restore(self, checkpoint: Optional[str] = None, model_dir: Optional[str] = None,
                strict: Optional[bool] = True) -> None:
        """Reload a :meth:`save_checkpoint` file with ``torch.load(weights_only=True)``; checkpoints written by
        DeepChem's own ``TorchModel`` load too (their epoch counters stay as they are).

        Parameters
        ----------
        checkpoint: str, optional
            A ``checkpoint<N>.pt`` file; default the newest (``checkpoint1.pt``) in ``model_dir``.
        model_dir: str, optional
            Default ``self.model_dir``. A folder without ``checkpoint<N>.pt`` raises ValueError naming it.
        strict: bool, optional (default True)
            Parameter names must match exactly.

        Examples
        --------
        >>> model.restore(model_dir="run/state")  # doctest: +SKIP
        """
        self._ensure_built()
        if checkpoint is None:
            checkpoint = checkpoints.newest(self.get_checkpoints(model_dir), model_dir or self.model_dir)
        data = checkpoints.read(checkpoint)
        try:
            getattr(self.model, "module", self.model).load_state_dict(data["model_state_dict"], strict=strict)
        except RuntimeError as err:
            msg = str(err)
            saved = {k for k in data["model_state_dict"] if k.startswith("head.")}
            ours = {k for k in getattr(self.model, "module", self.model).state_dict() if k.startswith("head.")}
            if saved != ours and not any("scaler" in k for k in saved ^ ours):
                raise SpecMismatchError(
                    f"the training checkpoint's head has other layers than this model's (head_hidden="
                    f"{self.head_config['hidden_dims']}): pass the head_hidden it was trained with, e.g. "
                    f"head_hidden=() for a linear head (models with molecule features default to "
                    f"{list(FEATURES_HEAD_HIDDEN)} since 2026-12-05):\n{err}") from err
            if "head." in msg and ("scaler" in msg or (self.extra_dim and "size mismatch" in msg)):
                raise SpecMismatchError(
                    f"the training checkpoint's head does not fit this model: it was trained with other molecule-level "
                    f"features or tasks (this model: extra_features="
                    f"{self.featurizer_spec['config'].get('extra_features', [])}, {self.extra_dim} columns, "
                    f"n_tasks={self.n_tasks}):\n{err}") from err
            raise
        self._pytorch_optimizer.load_state_dict(data["optimizer_state_dict"])
        self._global_step = int(data["global_step"])
        self.counters.load_state_dict(data)
        self.recipe.load_checkpoint_fields(data, getattr(self.model, "module", self.model))

    # --------------------------------------------------------------------- molecule features
    def check_molecule_features(self, width: Optional[int]) -> None:
        """Refuse a batch whose molecule-level features (``width`` columns; None: the inputs carry none) do not fit
        this model's ``extra_dim``, naming both and the fix (subclasses call it from ``collate``).

        Examples
        --------
        >>> from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
        >>> model = MolGNNModel(1, featurizer=MolGraphFeaturizer(extra_features=["ecfp4"]), num_layers=1, hidden_dim=8)
        >>> model.check_molecule_features(2048)  # fits
        >>> model.check_molecule_features(None)
        Traceback (most recent call last):
        ...
        ValueError: the model takes 2048 molecule-level features (featurizer extra_features) but the inputs carry none: featurize with model.get_featurizer()
        """
        fix = "featurize with model.get_featurizer()"
        if width is None and self.extra_dim:
            raise ValueError(f"the model takes {self.extra_dim} molecule-level features (featurizer extra_features) "
                             f"but the inputs carry none: {fix}")
        if width is not None and not self.extra_dim:
            raise SpecMismatchError(f"the inputs carry {width} molecule-level features but the model was built without "
                                    f"them (its featurizer has no extra_features): {fix}")
        if width is not None and width != self.extra_dim:
            raise SpecMismatchError(f"inputs carry {width} molecule-level features but the model was built for "
                                    f"{self.extra_dim} ({self.featurizer_spec['config'].get('extra_features')}): {fix}")

    def fit_feature_scaler(self, dataset) -> None:
        """Fit the molecule-feature scaler of the head on ``dataset`` (robust scaling; non-finite values counted,
        then replaced by the column median). :meth:`fit` calls it on its first dataset."""
        X = [getattr(x, "molecule_features", None) for x in dataset.X]
        if any(x is None for x in X):
            raise ValueError("the dataset's inputs carry no molecule_features: featurize with model.get_featurizer()")
        self.head.scaler.fit(np.stack(X))

    # --------------------------------------------------------------------------- batches
    def collate(self, X: np.ndarray):
        """The network input of a batch of featurized inputs (on ``self.device``)."""
        raise NotImplementedError

    def default_generator(self, dataset, epochs: int = 1, mode: str = "fit", deterministic: bool = True,
                          pad_batches: bool = True):
        """Yield ``([X], [y], [w])`` batches; never pads (graph batches need no fixed size)."""
        for _ in range(epochs):
            rng = None
            if mode == "fit":
                self.strategy.start_epoch(self, self.counters.strategy_epochs)
                self.counters.strategy_epochs += 1
                rng = self.counters.start_epoch(self.seed)
            batches = iterate_batches(dataset, self.batch_size, shuffle=not deterministic, rng=rng)
            if mode == "fit" and distributed.is_distributed():
                batches = distributed.rank_share(batches, -(-len(dataset) // self.batch_size), self.seed)
            for X_b, y_b, w_b in batches:
                yield [X_b], [y_b], [w_b]

    def _prepare_batch(self, batch):
        """DeepChem's hook: collate, then the objective's transform (labels, corruption) when labels are given."""
        inputs, labels, weights = batch
        X = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        model_input = self.collate(X)
        transform = self.model.objective.transform
        if labels is None or transform is None:
            return [model_input], [], []
        y = labels[0] if len(labels) else None
        w = weights[0] if weights is not None and len(weights) else None
        model_input, label_tensors, weight_tensors = transform(model_input, self.counters.corruption_rng, y=y, w=w)
        return ([model_input], [t.to(self.device) for t in label_tensors],
                [t.to(self.device) for t in weight_tensors])
