"""Batch transforms: the data side of an objective. Each turns a collated batch (and the dataset's ``y``/``w``)
into ``(network input, labels, weights)`` where DeepChem prepares the batch: corruption for self-supervised
pretraining (masked atoms, masked tokens, context pairs), computed targets (descriptors), label tensors for
supervised tasks. The model side (heads, losses) is in :mod:`deepchem_finetune.objectives`.

Every transform is called as ``transform(inputs, generator, y=None, w=None)``; ``generator`` is the model's
seeded corruption RNG, so a seeded run corrupts identically.
"""
from deepchem_finetune.transforms.combined import Compose
from deepchem_finetune.transforms.context import ContextPair, ContextPairs, hop_distances, induced_subgraph
from deepchem_finetune.transforms.descriptors import DescriptorTargets
from deepchem_finetune.transforms.labels import LabelTensors
from deepchem_finetune.transforms.masking import AtomMasking
from deepchem_finetune.transforms.tokens import MaskedTokenInput, TokenMasking

__all__ = ["AtomMasking", "ContextPairs", "ContextPair", "hop_distances", "induced_subgraph", "DescriptorTargets",
           "TokenMasking", "MaskedTokenInput", "LabelTensors", "Compose"]
