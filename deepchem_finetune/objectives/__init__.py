"""Objectives: what a network's outputs mean, how they are scored and, for self-supervised
pretraining, how a batch is corrupted. Chosen by name through :data:`OBJECTIVES`."""
from deepchem_finetune.objectives.context import ContextPrediction
from deepchem_finetune.objectives.descriptors import Combined, DescriptorPrediction
from deepchem_finetune.objectives.masked_tokens import MaskedTokenInput, MaskedTokens, evaluate_masked_tokens
from deepchem_finetune.objectives.masking import AttributeMasking
from deepchem_finetune.objectives.supervised import SupervisedObjective

OBJECTIVES = {"attr_masking": AttributeMasking, "context_pred": ContextPrediction,
              "descriptors": DescriptorPrediction, "masked_tokens": MaskedTokens}


def get_objective(objective, featurizer_spec: dict, **options):
    """Build a pretraining objective by name (or return an objective instance unchanged).

    ``"a+b"`` combines objectives (one backbone pass, summed losses); options then go per part, e.g.
    ``{"descriptors": {"scaler": ...}, "weights": {"descriptors": 0.5}}``.
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


__all__ = ["SupervisedObjective", "AttributeMasking", "ContextPrediction", "DescriptorPrediction", "Combined",
           "MaskedTokens", "MaskedTokenInput", "evaluate_masked_tokens", "OBJECTIVES", "get_objective"]
