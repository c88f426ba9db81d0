"""The fine-tuning recipe: learning-rate warm-up and decay, gradient clipping and weight averaging (EMA).

A :class:`Recipe` is a model option (``MolGNNModel(..., recipe="stable")``) that works inside DeepChem's own
``fit`` (``TorchModel.fit_generator`` steps ``self._pytorch_optimizer`` and then ``self._lr_schedule`` once a
batch). :meth:`Recipe.attach`, called by the model each time it builds its optimizer (``reset_optimizer``):

* sets a ``torch.optim.lr_scheduler.LambdaLR`` as the model's ``_lr_schedule``: every parameter group's learning
  rate (the strategy's groups, e.g. a head at ``head_lr_mult`` times the backbone) is multiplied by
  :meth:`Recipe.lr_factor` of the step: linear warm-up from ``1 / warmup_steps`` to 1 over the first ``warmup``
  fraction of the planned steps, then ``constant``, ``cosine`` or ``linear`` decay to ``min_lr_ratio``;
* registers an optimizer step pre-hook that clips the gradients' global norm to ``clip_norm``
  (``torch.nn.utils.clip_grad_norm_``; the norm before clipping is kept in ``last_grad_norm``);
* registers a step post-hook that updates an exponential moving average of the network's state
  (``ema = ema + (1 - d) * (w - ema)`` with ``d = min(ema_decay, (1 + n) / (10 + n))`` after ``n`` updates;
  batch-norm statistics are averaged too, integer buffers copied).

With averaging on, the model predicts with the averaged weights (:meth:`Recipe.averaged_weights` around DeepChem's
``_predict``, so ``predict``, ``evaluate`` and the scores of ``fit_with_early_stopping`` use them), and
``fit_with_early_stopping`` selects and keeps the averaged weights of the best epoch (:func:`selection_state`,
:func:`after_selection`). Training checkpoints hold the average, the number of updates, the planned steps and the
schedule's position (:meth:`Recipe.checkpoint_fields`).

The planned number of steps comes from ``total_steps``, else from the first ``fit`` (``nb_epoch`` epochs) or
``fit_with_early_stopping`` (``max_epochs`` epochs) call (:func:`plan_steps`).

Named recipes (:data:`RECIPES`): ``"constant"`` is the library default and today's behaviour (constant learning
rate, no clipping, no averaging); ``"stable"`` is warm-up 5% of the steps, cosine decay to 5% of the peak, clipping
at norm 5.0 and an EMA with decay 0.99, the ``finetune`` default. Its values are common practice; it was chosen
as the default by measurement (``benchmarks/recipe_and_ensemble.py``, ``benchmarks/RESULTS.md``). On six
MoleculeNet scaffold splits, 3 seeds, fine-tuning the recommended backbone:

* against ``"constant"`` it gained +0.035 ROC-AUC on the three classification sets (CI over seeds above 0) and was
  +2.3% RMSE on the three regression sets (CI spans 0);
* it cut the seed spread on five sets of six;
* it was worse on the smallest regression set (FreeSolv), where a backbone learning rate equal to the head's
  (``backbone_lr_ratio=1.0`` of :func:`preset`) recovered part of the loss but lost on three of the other five;
* removing the schedule, the clipping or the averaging each cost a little on average, within noise.

The clipping norm was chosen from measured gradient norms. Fine-tuning
``gin_zinc60k_desc30`` (backbone lr 2e-4, head 1e-3, batch 32, seed 0, first 2-3 epochs) the gradient norm had median
2.55 / 2.61 / 2.65 and 99th percentile 5.4 / 5.9 / 9.7 on BBBP / Lipophilicity / ESOL, so a norm of 1 would clip
every step (with Adam, little more than a rescaling) while 5 clips the largest 2-9% of steps. :func:`preset` adds the learning
rates the command line uses with each (a backbone learning rate lower than the head's when fine-tuning).
"""
from __future__ import annotations

import contextlib
import math
from typing import Dict, Optional, Union

import torch

__all__ = ["Recipe", "RECIPES", "PRESETS", "get_recipe", "preset", "plan_steps", "selection_state",
           "after_selection"]

DECAYS = ("constant", "cosine", "linear")

#: named recipes: options of :class:`Recipe`
RECIPES: Dict[str, dict] = {
    "constant": {},
    "stable": {"warmup": 0.05, "decay": "cosine", "min_lr_ratio": 0.05, "clip_norm": 5.0, "ema_decay": 0.99},
}

#: learning rates used with each named recipe by ``deepchem-finetune finetune`` (head learning rate ``lr`` and the
#: backbone's as a fraction of it, when starting from a pretrained backbone; from scratch both are ``lr``)
PRESETS: Dict[str, dict] = {
    "constant": {"lr": 1e-3, "backbone_lr_ratio": 1.0},
    "stable": {"lr": 1e-3, "backbone_lr_ratio": 0.2},
}


class Recipe:
    """Warm-up and decay of the learning rate, gradient clipping and weight averaging, inside DeepChem's ``fit``.

    Parameters
    ----------
    warmup: float, optional (default 0.0)
        Fraction of the planned steps over which the learning rate rises linearly to its peak.
    decay: str, optional (default "constant")
        After warm-up: "constant", "cosine" or "linear" decay to ``min_lr_ratio`` times the peak at the last
        planned step (and kept there after it).
    min_lr_ratio: float, optional (default 0.0)
        Floor of the decay, as a fraction of the peak learning rate.
    clip_norm: float, optional
        Clip the gradients' global norm to this before each step (None: no clipping).
    ema_decay: float, optional
        Keep an exponential moving average of the weights with this decay and predict with it (None: no averaging).
    total_steps: int, optional
        Planned optimizer steps; default: planned by the first ``fit`` / ``fit_with_early_stopping`` call.

    Examples
    --------
    >>> r = Recipe(warmup=0.1, decay="linear", min_lr_ratio=0.0, total_steps=100)
    >>> [round(r.lr_factor(s), 3) for s in (0, 9, 10, 55, 100, 200)]
    [0.1, 1.0, 1.0, 0.5, 0.0, 0.0]
    >>> get_recipe("stable").config["clip_norm"]
    5.0
    """

    def __init__(self, warmup: float = 0.0, decay: str = "constant", min_lr_ratio: float = 0.0,
                 clip_norm: Optional[float] = None, ema_decay: Optional[float] = None,
                 total_steps: Optional[int] = None, name: Optional[str] = None):
        if not 0.0 <= float(warmup) < 1.0:
            raise ValueError(f"warmup must be a fraction in [0, 1), got {warmup!r}")
        if decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}")
        if not 0.0 <= float(min_lr_ratio) <= 1.0:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {min_lr_ratio!r}")
        if clip_norm is not None and not float(clip_norm) > 0:
            raise ValueError(f"clip_norm must be > 0 or None, got {clip_norm!r}")
        if ema_decay is not None and not 0.0 < float(ema_decay) < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay!r}")
        if total_steps is not None and (not isinstance(total_steps, int) or total_steps < 1):
            raise ValueError(f"total_steps must be a positive int or None, got {total_steps!r}")
        self.warmup, self.decay, self.min_lr_ratio = float(warmup), decay, float(min_lr_ratio)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.name = name
        self.total_steps = total_steps
        self.ema: Optional[Dict[str, torch.Tensor]] = None  # the averaged network state
        self.ema_updates = 0
        self.last_grad_norm: Optional[torch.Tensor] = None
        self._schedule = None

    # ------------------------------------------------------------------------------- description
    @property
    def config(self) -> dict:
        """Plain-JSON options (the planned ``total_steps`` is run state, not configuration)."""
        return {"warmup": self.warmup, "decay": self.decay, "min_lr_ratio": self.min_lr_ratio,
                "clip_norm": self.clip_norm, "ema_decay": self.ema_decay}

    @property
    def scheduled(self) -> bool:
        return self.warmup > 0 or self.decay != "constant"

    @property
    def is_default(self) -> bool:
        """True for today's behaviour: constant learning rate, no clipping, no averaging."""
        return not self.scheduled and self.clip_norm is None and self.ema_decay is None

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"Recipe({opts})" if self.name is None else f"Recipe[{self.name}]({opts})"

    # ----------------------------------------------------------------------------------- schedule
    def lr_factor(self, step: int) -> float:
        """The learning-rate multiplier after ``step`` optimizer steps (1.0 while no steps are planned)."""
        if not self.scheduled or self.total_steps is None:
            return 1.0
        warm = int(round(self.warmup * self.total_steps))
        if step < warm:
            return (step + 1) / warm
        if self.decay == "constant":
            return 1.0
        t = min(1.0, (step - warm) / max(1, self.total_steps - warm))
        shape = 0.5 * (1 + math.cos(math.pi * t)) if self.decay == "cosine" else 1 - t
        return self.min_lr_ratio + (1 - self.min_lr_ratio) * shape

    def plan(self, total_steps: int, replace: bool = False) -> None:
        """Set the planned steps (unless set already and not ``replace``); the current learning rates follow."""
        if self.total_steps is not None and not replace:
            return
        self.total_steps = int(max(1, total_steps))
        if self._schedule is not None:
            step = self._schedule.last_epoch
            for group, base in zip(self._schedule.optimizer.param_groups, self._schedule.base_lrs):
                group["lr"] = base * self.lr_factor(step)

    # -------------------------------------------------------------------------------- the hooks
    def attach(self, model) -> None:
        """Hook this recipe into ``model``'s freshly built optimizer (called by ``reset_optimizer``): the LambdaLR
        schedule, the clipping pre-hook and the averaging post-hook; the average restarts from the current weights."""
        optimizer = model._pytorch_optimizer
        self._schedule = None
        if self.scheduled:
            if getattr(model, "_lr_schedule", None) is not None:
                raise ValueError("the recipe's learning-rate schedule cannot be combined with a DeepChem learning-"
                                 "rate schedule: pass a float learning_rate, or a recipe without warmup/decay")
            self._schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, self.lr_factor)
            model._lr_schedule = self._schedule
        if self.clip_norm is not None or self.scheduled:
            optimizer.register_step_pre_hook(lambda opt, args, kwargs: self._before_step(opt))
        self.reset_average(_network(model))
        if self.ema_decay is not None:
            optimizer.register_step_post_hook(lambda opt, args, kwargs: self._update_average(_network(model)))

    def _before_step(self, optimizer) -> None:
        if self.scheduled and self.total_steps is None:
            raise RuntimeError("the recipe's learning-rate schedule needs the planned number of steps: pass "
                               "recipe options with total_steps, or train with fit / fit_with_early_stopping")
        if self.clip_norm is not None:
            params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
            self.last_grad_norm = torch.nn.utils.clip_grad_norm_(params, self.clip_norm)

    @torch.no_grad()
    def _update_average(self, network) -> None:
        decay = min(self.ema_decay, (1 + self.ema_updates) / (10 + self.ema_updates))
        for key, value in network.state_dict().items():
            avg = self.ema[key]
            if avg.is_floating_point():
                avg.lerp_(value, 1 - decay)  # exact where the weight did not move (frozen blocks stay bit-identical)
            else:
                avg.copy_(value)
        self.ema_updates += 1

    @torch.no_grad()
    def reset_average(self, network) -> None:
        """Restart the average at the network's current weights (no-op without averaging)."""
        self.ema_updates = 0
        self.ema = (None if self.ema_decay is None else
                    {k: v.detach().clone() for k, v in network.state_dict().items()})

    @contextlib.contextmanager
    def averaged_weights(self, network):
        """Within the block the network holds the averaged weights (its own are put back afterwards)."""
        if self.ema is None:
            yield network
            return
        with torch.no_grad():
            raw = {k: v.detach().clone() for k, v in network.state_dict().items()}
            network.load_state_dict(self.ema)
        try:
            yield network
        finally:
            with torch.no_grad():
                network.load_state_dict(raw)

    # ------------------------------------------------------------------------------ checkpoints
    def checkpoint_fields(self) -> dict:
        """What a training checkpoint adds for this recipe (nothing for the default recipe)."""
        if self.is_default:
            return {}
        out = {"recipe_total_steps": -1 if self.total_steps is None else int(self.total_steps)}
        if self._schedule is not None:
            out["recipe_schedule"] = {k: v for k, v in self._schedule.state_dict().items() if k != "lr_lambdas"}
        if self.ema is not None:
            out["recipe_ema"] = {k: v.detach().cpu() for k, v in self.ema.items()}
            out["recipe_ema_updates"] = int(self.ema_updates)
        return out

    def load_checkpoint_fields(self, data: dict, network) -> None:
        """Restore :meth:`checkpoint_fields`; a checkpoint without them restarts the average at the loaded weights."""
        if "recipe_total_steps" in data:
            steps = int(data["recipe_total_steps"])
            self.total_steps = None if steps < 0 else steps
        if self._schedule is not None and "recipe_schedule" in data:
            self._schedule.load_state_dict({**data["recipe_schedule"], "lr_lambdas": [None] * len(
                self._schedule.lr_lambdas)})
        if self.ema_decay is None:
            return
        if "recipe_ema" in data:
            device = next(iter(network.state_dict().values())).device
            self.ema = {k: v.to(device).clone() for k, v in data["recipe_ema"].items()}
            self.ema_updates = int(data.get("recipe_ema_updates", 0))
        else:
            self.reset_average(network)


def _network(model):
    """The model's network without a DDP wrapper."""
    return getattr(model.model, "module", model.model)


def get_recipe(recipe: Union[None, str, dict, Recipe] = None, **options) -> Recipe:
    """A :class:`Recipe` from a name in :data:`RECIPES` (with ``options`` overriding its values), a dict of options,
    None (the default: ``"constant"``) or an instance (copied: its run state belongs to one model).

    Examples
    --------
    >>> get_recipe().is_default, get_recipe("stable", clip_norm=2.0).clip_norm
    (True, 2.0)
    """
    if isinstance(recipe, Recipe):  # a fresh copy: the average and the planned steps belong to one model
        return Recipe(**{**recipe.config, **options}, total_steps=recipe.total_steps, name=recipe.name)
    if recipe is None:
        recipe = "constant"
    if isinstance(recipe, dict):
        return Recipe(**{**recipe, **options})
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {sorted(RECIPES)} or pass a dict of options")
    return Recipe(**{**RECIPES[recipe], **options}, name=recipe)


def preset(name: str, pretrained: bool, lr: Optional[float] = None,
           backbone_lr_ratio: Optional[float] = None) -> dict:
    """Model options of a named recipe as the command line uses it: ``recipe``, ``learning_rate`` (the backbone's)
    and the strategy's ``head_lr_mult`` (head learning rate ``lr``; backbone ``lr * backbone_lr_ratio`` when
    starting from a pretrained backbone; both default to the recipe's :data:`PRESETS`; a ``backbone_lr_ratio`` given
    without a pretrained backbone is an error, not ignored).

    Examples
    --------
    >>> p = preset("stable", pretrained=True)
    >>> p["learning_rate"], p["head_lr_mult"]
    (0.0002, 5.0)
    >>> preset("stable", pretrained=False)["head_lr_mult"]
    1.0
    >>> p = preset("stable", pretrained=True, backbone_lr_ratio=1.0)  # the backbone at the head's rate
    >>> p["learning_rate"], p["head_lr_mult"]
    (0.001, 1.0)
    """
    if name not in PRESETS:
        raise ValueError(f"unknown recipe {name!r}; choose one of {sorted(PRESETS)}")
    if backbone_lr_ratio is not None and not 1e-3 <= float(backbone_lr_ratio) <= 1.0:
        raise ValueError(f"backbone_lr_ratio must be in [0.001, 1], got {backbone_lr_ratio}")
    if backbone_lr_ratio is not None and not pretrained:
        raise ValueError("backbone_lr_ratio applies to a pretrained backbone; from scratch the backbone and the head "
                         "share one learning rate")
    head_lr = PRESETS[name]["lr"] if lr is None else float(lr)
    ratio = PRESETS[name]["backbone_lr_ratio"] if backbone_lr_ratio is None else float(backbone_lr_ratio)
    ratio = ratio if pretrained else 1.0
    return {"recipe": name, "learning_rate": round(head_lr * ratio, 12), "head_lr_mult": round(1.0 / ratio, 12)}


def plan_steps(model, epochs: int, n_samples: int) -> None:
    """Plan ``epochs`` epochs of ``n_samples`` samples for the model's recipe, unless its steps are planned already
    (any model without a recipe is left alone)."""
    recipe = getattr(model, "recipe", None)
    if isinstance(recipe, Recipe) and recipe.scheduled and recipe.total_steps is None:
        recipe.plan(epochs * max(1, math.ceil(n_samples / model.batch_size)))


def selection_state(model) -> dict:
    """The weights that :func:`~deepchem_finetune.training.fit_with_early_stopping` selects at an epoch: the
    averaged ones when the model's recipe averages, else the network's (a model of any kind)."""
    recipe = getattr(model, "recipe", None)
    if isinstance(recipe, Recipe) and recipe.ema is not None:
        return recipe.ema
    return model.model.state_dict()


def after_selection(model) -> None:
    """After the selected weights were loaded into the network: the average restarts there, so that predictions
    use exactly them."""
    recipe = getattr(model, "recipe", None)
    if isinstance(recipe, Recipe):
        recipe.reset_average(_network(model))
