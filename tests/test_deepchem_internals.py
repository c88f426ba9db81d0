"""The private DeepChem internals that ``deepchem_finetune/models/base.py`` (``BackboneModel``) overrides or calls.

pyproject.toml pins ``deepchem>=2.8,<2.9`` because of them. Each check below states what ``BackboneModel`` relies
on; the test runs them all and fails with every change found, so a new DeepChem release says at once what
``models/base.py`` must adapt to before the pin is widened.
"""
import inspect

import numpy as np
import pytest
import torch

import deepchem as dc

BASE = "deepchem_finetune/models/base.py"


def _tiny_model(**kwargs):
    torch.manual_seed(0)
    return dc.models.TorchModel(torch.nn.Linear(3, 1), dc.models.losses.L2Loss(), batch_size=2, **kwargs)


def _tiny_data():
    X = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    return dc.data.NumpyDataset(X, X.sum(axis=1, keepdims=True))


def _params(function):
    return [name for name in inspect.signature(function).parameters if name != "self"]


def _expect_params(method, expected, where):
    got = _params(getattr(dc.models.TorchModel, method))
    assert got[:len(expected)] == expected, (f"TorchModel.{method} parameters are {got}, {BASE} expects them to "
                                             f"start with {expected} ({where})")


# ------------------------------------------------------------------------------------------------- checks
def check_init_signature():
    """__init__: builds _TORCHMODEL_KWARGS from TorchModel.__init__'s parameters and passes model/loss/... by name."""
    params = inspect.signature(dc.models.TorchModel.__init__).parameters
    for name in ("model", "loss", "output_types", "batch_size", "model_dir", "learning_rate", "optimizer"):
        assert name in params, f"TorchModel.__init__ has no parameter {name!r} (BackboneModel.__init__ passes it)"
    assert any(p.kind is p.VAR_KEYWORD for p in params.values()), \
        "TorchModel.__init__ no longer takes **kwargs (BackboneModel.__init__ forwards the rest to it)"


def check_loss_callable_used_as_is():
    """__init__ passes loss=self._total_loss (a callable): DeepChem must call it as loss(outputs, labels, weights)."""
    def loss(outputs, labels, weights):
        return torch.zeros(())
    model = dc.models.TorchModel(torch.nn.Linear(3, 1), loss, batch_size=2)
    assert getattr(model, "_loss_fn", None) is loss, \
        "TorchModel no longer stores a callable loss as _loss_fn (BackboneModel.__init__ passes _total_loss)"


def check_ensure_built_state():
    """_ensure_built / reset_optimizer: the attributes DeepChem creates when it builds the optimizer."""
    model = _tiny_model()
    assert getattr(model, "_built", None) is False, "TorchModel.__init__ no longer sets _built = False"
    assert isinstance(getattr(model, "_optimizer_for_vars", None), dict), \
        "TorchModel.__init__ no longer sets _optimizer_for_vars = {} (reset_optimizer clears it)"
    assert callable(getattr(dc.models.TorchModel, "_ensure_built", None)), \
        "TorchModel._ensure_built is gone (BackboneModel._ensure_built overrides it to build parameter groups)"
    model._ensure_built()
    assert model._built is True, "TorchModel._ensure_built no longer sets _built = True"
    assert model._global_step == 0, "TorchModel._ensure_built no longer sets _global_step = 0"
    assert isinstance(getattr(model, "_pytorch_optimizer", None), torch.optim.Optimizer), \
        "TorchModel._ensure_built no longer stores the torch optimizer as _pytorch_optimizer"
    assert hasattr(model, "_lr_schedule") and model._lr_schedule is None, \
        "TorchModel._ensure_built no longer sets _lr_schedule (None for a float learning rate)"
    assert model.optimizer.learning_rate == 1e-3, "Optimizer.learning_rate is gone (reset_optimizer reads it)"


def check_optimizer_takes_parameter_groups():
    """reset_optimizer: Optimizer._create_pytorch_optimizer(groups) with per-group lr and extra keys kept."""
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    groups = [{"params": list(a.parameters()), "lr": 0.1, "name": "backbone"},
              {"params": list(b.parameters()), "lr": 0.01, "name": "head", "weight_decay": 0.5}]
    for optimizer in (dc.models.optimizers.Adam(learning_rate=1e-3), dc.models.optimizers.AdamW(learning_rate=1e-3)):
        torch_opt = optimizer._create_pytorch_optimizer(groups)
        got = [(g["name"], g["lr"]) for g in torch_opt.param_groups]
        assert got == [("backbone", 0.1), ("head", 0.01)], \
            f"{type(optimizer).__name__}._create_pytorch_optimizer(parameter groups) gives groups {got}"
        assert torch_opt.param_groups[1]["weight_decay"] == 0.5, "per-group weight_decay is overridden"


def check_schedules():
    """reset_optimizer: schedules have initial_rate and _create_pytorch_schedule(torch optimizer) with .step()."""
    torch_opt = torch.optim.Adam(torch.nn.Linear(2, 1).parameters(), lr=0.1)
    for schedule in (dc.models.optimizers.ExponentialDecay(0.1, 0.9, 10),
                     dc.models.optimizers.PolynomialDecay(0.1, 0.01, 10),
                     dc.models.optimizers.LinearCosineDecay(0.1, 10)):
        name = type(schedule).__name__
        assert getattr(schedule, "initial_rate", None) == 0.1, f"{name}.initial_rate is gone"
        assert callable(getattr(schedule, "_create_pytorch_schedule", None)), f"{name}._create_pytorch_schedule is gone"
        assert callable(getattr(schedule._create_pytorch_schedule(torch_opt), "step", None)), \
            f"{name}._create_pytorch_schedule(optimizer) no longer returns a scheduler with step()"


def check_fit_generator_positional_arguments():
    """fit_generator: called as super().fit_generator(generator, max_checkpoints_to_keep, checkpoint_interval, False,
    *args), where *args are what TorchModel.fit passes on positionally (variables, loss, callbacks, all_losses)."""
    order = ["generator", "max_checkpoints_to_keep", "checkpoint_interval", "restore", "variables", "loss",
             "callbacks", "all_losses"]
    _expect_params("fit_generator", order, "BackboneModel.fit_generator passes them by position")
    seen = {}

    class Probe(dc.models.TorchModel):
        def fit_generator(self, generator, *args, **kwargs):
            seen["args"], seen["kwargs"] = args, kwargs
            return 0.0

    probe = Probe(torch.nn.Linear(3, 1), dc.models.losses.L2Loss(), batch_size=2)
    marker = []
    probe.fit(_tiny_data(), nb_epoch=1, max_checkpoints_to_keep=7, checkpoint_interval=11, restore=True,
              callbacks=marker, all_losses=marker)
    assert seen.get("args") == (7, 11, True, None, None, marker, marker) and not seen.get("kwargs"), \
        (f"TorchModel.fit now calls fit_generator with args={seen.get('args')} kwargs={seen.get('kwargs')}; "
         "BackboneModel.fit_generator expects (max_checkpoints_to_keep, checkpoint_interval, restore, variables, loss, "
         "callbacks, all_losses) by position")


def check_fit_generator_reads_replaced_state():
    """reset_optimizer replaces _pytorch_optimizer / _lr_schedule after _ensure_built, fit_generator swaps self.model
    (DDP) and restore sets _global_step: DeepChem's training loop must read all of them at call time."""
    model = _tiny_model()
    model._ensure_built()
    before = [p.detach().clone() for p in model.model.parameters()]
    model._pytorch_optimizer = torch.optim.SGD(model.model.parameters(), lr=0.0)
    steps, calls, batches = [], [], []

    class Schedule:
        def step(self):
            steps.append(1)

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            calls.append(1)
            return self.inner(x)

    model._lr_schedule = Schedule()
    model._global_step = 40
    original_prepare = model._prepare_batch
    model._prepare_batch = lambda batch: (batches.append(len(batch)), original_prepare(batch))[1]
    inner, model.model = model.model, Wrapper(model.model)
    model.fit_generator(model.default_generator(_tiny_data(), epochs=1), 5, 0, False)
    model.model = inner
    assert all(torch.equal(a, b) for a, b in zip(before, inner.parameters())), \
        "TorchModel.fit_generator no longer steps self._pytorch_optimizer (reset_optimizer replaces it)"
    assert len(steps) == 2, "TorchModel.fit_generator no longer steps self._lr_schedule once a batch"
    assert len(calls) == 2, "TorchModel.fit_generator no longer calls self.model at call time (the DDP swap)"
    assert batches == [3, 3], "TorchModel.fit_generator no longer calls self._prepare_batch((inputs, labels, weights))"
    assert model.get_global_step() == 42 == model._global_step, \
        "TorchModel.fit_generator / get_global_step no longer count in self._global_step (restore sets it)"


def check_overridden_signatures():
    """The DeepChem methods BackboneModel overrides or calls with DeepChem's own arguments."""
    _expect_params("default_generator", ["dataset", "epochs", "mode", "deterministic", "pad_batches"],
                   "BackboneModel.default_generator overrides it")
    _expect_params("save_checkpoint", ["max_checkpoints_to_keep", "model_dir"], "BackboneModel.save_checkpoint")
    _expect_params("restore", ["checkpoint", "model_dir", "strict"], "BackboneModel.restore")
    _expect_params("get_checkpoints", ["model_dir"], "BackboneModel.restore lists checkpoint<N>.pt with it")
    _expect_params("_prepare_batch", ["batch"], "BackboneModel._prepare_batch overrides the hook")
    _expect_params("load_from_pretrained", ["source_model", "assignment_map", "value_map", "checkpoint",
                                             "model_dir", "include_top", "inputs"],
                   "BackboneModel.load_from_pretrained passes them to super() by position")


def check_checkpoint_format(tmp_path):
    """restore: reads DeepChem's own checkpoint files (keys model_state_dict, optimizer_state_dict, global_step)."""
    model = _tiny_model(model_dir=str(tmp_path))
    model.fit(_tiny_data(), nb_epoch=1, checkpoint_interval=0)
    model.save_checkpoint(max_checkpoints_to_keep=2)
    path = tmp_path / "checkpoint1.pt"
    files = sorted(p.name for p in tmp_path.iterdir())
    assert path.exists(), f"TorchModel.save_checkpoint no longer writes checkpoint1.pt (files: {files})"
    data = torch.load(path, weights_only=True)
    assert set(data) >= {"model_state_dict", "optimizer_state_dict", "global_step"}, \
        f"DeepChem checkpoints now hold keys {sorted(data)}"
    assert data["global_step"] == 2


CHECKS = [check_init_signature, check_loss_callable_used_as_is, check_ensure_built_state,
          check_optimizer_takes_parameter_groups, check_schedules, check_fit_generator_positional_arguments,
          check_fit_generator_reads_replaced_state, check_overridden_signatures, check_checkpoint_format]


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True")
def test_deepchem_internals_relied_on_by_models_base(tmp_path):
    failures = []
    for check in CHECKS:
        try:
            check(tmp_path) if "tmp_path" in inspect.signature(check).parameters else check()
        except Exception as err:  # noqa: BLE001 - every change is collected and reported together
            purpose = " ".join(check.__doc__.split())
            failures.append(f"- {check.__name__}: {type(err).__name__}: {err}\n    (relied on: {purpose})")
    assert not failures, (f"DeepChem {dc.__version__} changed internals that {BASE} (BackboneModel) overrides or "
                          f"calls:\n" + "\n".join(failures) + f"\nAdapt {BASE} to the new DeepChem, then widen the "
                          "'deepchem>=2.8,<2.9' pin in pyproject.toml.")
