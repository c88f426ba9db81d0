"""Data: batching of featurized molecules and dataset loaders."""
from deepchem_finetune.data.batching import graphs_to_batch, iterate_batches
from deepchem_finetune.data.moleculenet import dataset_mode, load_moleculenet

__all__ = ["graphs_to_batch", "iterate_batches", "load_moleculenet", "dataset_mode"]
