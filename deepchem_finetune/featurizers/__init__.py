"""Featurizers and their specifications (re-exports; each name lives in the module named for it).

* :mod:`~deepchem_finetune.featurizers.graph`: :class:`MolGraphFeaturizer` (categorical molecular graphs);
* :mod:`~deepchem_finetune.featurizers.sequence`: :class:`SmilesTokenizer`, :class:`ProteinTokenizer`,
  :class:`NucleotideTokenizer` (shared logic in :mod:`~deepchem_finetune.featurizers.tokenizer`) and
  :mod:`~deepchem_finetune.featurizers.vocabulary`: :class:`Vocabulary`;
* :mod:`~deepchem_finetune.featurizers.on_error`: the ``on_error="skip"`` option of all of the above;
* :mod:`~deepchem_finetune.featurizers.batch`: :func:`featurize_smiles`, :class:`FeaturizedBatch`;
* :mod:`~deepchem_finetune.featurizers.spec`: :func:`featurizer_spec`, :func:`featurizer_from_spec`,
  :func:`check_featurizer`, :func:`input_encoding`;
* :mod:`~deepchem_finetune.featurizers.descriptors`: computed descriptors (imported from there directly).
"""
from deepchem_finetune.featurizers.batch import FeaturizedBatch, _featurize_one_with_deepchem, featurize_smiles
from deepchem_finetune.featurizers.graph import MolGraphFeaturizer
from deepchem_finetune.featurizers.sequence import (NucleotideTokenizer, ProteinTokenizer, SmilesTokenizer,
                                                   TokenizedMolecule)
from deepchem_finetune.featurizers.spec import check_featurizer, featurizer_from_spec, featurizer_spec, input_encoding
from deepchem_finetune.featurizers.vocabulary import Vocabulary

__all__ = ["MolGraphFeaturizer", "SmilesTokenizer", "TokenizedMolecule", "ProteinTokenizer", "NucleotideTokenizer",
           "Vocabulary",
           "featurize_smiles", "FeaturizedBatch", "featurizer_spec",
           "featurizer_from_spec", "check_featurizer", "input_encoding"]
# ``_featurize_one_with_deepchem`` is imported by deepchem_finetune.data.corpus from this package.
