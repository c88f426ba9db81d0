"""Data: batching of featurized molecules and dataset loaders."""
from deepchem_finetune.data.batching import graphs_to_batch, iterate_batches
from deepchem_finetune.data.moleculenet import dataset_mode, load_moleculenet

__all__ = ["graphs_to_batch", "iterate_batches", "load_moleculenet", "dataset_mode"]
from deepchem_finetune.data.corpus import CorpusResult, featurize_corpus, read_smiles  # noqa: E402
__all__ += ["read_smiles", "featurize_corpus", "CorpusResult"]
