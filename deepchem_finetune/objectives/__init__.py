"""Objectives: what a network's outputs mean, how they are scored and, for self-supervised
pretraining, how a batch is corrupted. Chosen by name through :data:`OBJECTIVES`."""
from deepchem_finetune.objectives.context import ContextPrediction
from deepchem_finetune.objectives.masking import AttributeMasking
from deepchem_finetune.objectives.supervised import SupervisedObjective

OBJECTIVES = {"attr_masking": AttributeMasking, "context_pred": ContextPrediction}


def get_objective(objective, featurizer_spec: dict, **options):
    """Build a self-supervised objective by name (or return an objective instance unchanged)."""
    if not isinstance(objective, str):
        return objective
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose one of {sorted(OBJECTIVES)} or 'supervised'")
    return OBJECTIVES[objective](featurizer_spec, **options)


__all__ = ["SupervisedObjective", "AttributeMasking", "ContextPrediction", "OBJECTIVES", "get_objective"]
