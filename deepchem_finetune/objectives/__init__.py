"""Objectives: what a network's outputs mean and how they are scored."""
from deepchem_finetune.objectives.supervised import SupervisedObjective

__all__ = ["SupervisedObjective"]
