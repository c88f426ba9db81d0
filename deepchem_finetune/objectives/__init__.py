"""Objectives, the model side of training: the head on the backbone, what the outputs mean and their loss
(:class:`~deepchem_finetune.objectives.base.Objective`). Each carries its data side, a ``transform`` from
:mod:`deepchem_finetune.transforms`. Chosen by name through :data:`OBJECTIVES`."""
from deepchem_finetune.objectives.base import Objective
from deepchem_finetune.objectives.combined import Combined
from deepchem_finetune.objectives.context import ContextPrediction
from deepchem_finetune.objectives.descriptors import DescriptorPrediction
from deepchem_finetune.objectives.masked_tokens import MaskedTokens, evaluate_masked_tokens
from deepchem_finetune.objectives.masking import AttributeMasking
from deepchem_finetune.objectives.supervised import SupervisedObjective
from deepchem_finetune.transforms import MaskedTokenInput

OBJECTIVES = {"attr_masking": AttributeMasking, "context_pred": ContextPrediction,
              "descriptors": DescriptorPrediction, "masked_tokens": MaskedTokens}


def get_objective(objective, featurizer_spec: dict, **options):
    """Build a pretraining objective by name (or return an objective instance unchanged).

    ``"a+b"`` combines objectives (one backbone pass, summed losses); options then go per part, e.g.
    ``{"descriptors": {"scaler": ...}, "weights": {"descriptors": 0.5}}``.

    Examples
    --------
    >>> from deepchem_finetune.featurizers import MolGraphFeaturizer
    >>> get_objective("attr_masking", MolGraphFeaturizer().get_spec(), mask_rate=0.2).config
    {'mask_rate': 0.2, 'mask_edges': True}
    """
    if not isinstance(objective, str):
        return objective
    names = objective.split("+")
    for name in names:
        if name not in OBJECTIVES:
            raise ValueError(f"unknown objective {name!r}; choose from {sorted(OBJECTIVES)} (combine with '+') "
                             "or 'supervised'")
    if len(names) == 1:
        return OBJECTIVES[objective](featurizer_spec, **options)
    weights = options.get("weights", {})
    return Combined([(OBJECTIVES[n](featurizer_spec, **options.get(n, {})), float(weights.get(n, 1.0)))
                     for n in names])


__all__ = ["Objective", "SupervisedObjective", "AttributeMasking", "ContextPrediction", "DescriptorPrediction",
           "Combined", "MaskedTokens", "MaskedTokenInput", "evaluate_masked_tokens", "OBJECTIVES", "get_objective"]
