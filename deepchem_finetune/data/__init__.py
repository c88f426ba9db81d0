"""Data: batching of featurized inputs, dataset loaders (MoleculeNet, FLIP) and pretraining corpora."""
from deepchem_finetune.data.batching import graphs_to_batch, iterate_batches
from deepchem_finetune.data.corpus import CorpusResult, featurize_corpus
from deepchem_finetune.data.flip import load_flip, load_sequence_csv
from deepchem_finetune.data.moleculenet import dataset_mode, load_moleculenet
from deepchem_finetune.data.readers import read_sequences, read_smiles

__all__ = ["graphs_to_batch", "iterate_batches", "load_moleculenet", "dataset_mode", "read_smiles",
           "read_sequences", "featurize_corpus", "CorpusResult", "load_flip", "load_sequence_csv"]
