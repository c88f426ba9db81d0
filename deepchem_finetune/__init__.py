"""deepchem-finetune: transfer learning for DeepChem.

Importing the package prints nothing: DeepChem's import-time chatter is silenced in
:mod:`deepchem_finetune._compat` without hiding later warnings.
"""
from deepchem_finetune._compat import import_deepchem_quietly as _import_dc

_import_dc()

from deepchem_finetune.backbones import MolGNN, SeqCNN  # noqa: E402
from deepchem_finetune.exceptions import (CheckpointError, FeaturizationError, PretrainedError,  # noqa: E402
                                          SpecMismatchError)
from deepchem_finetune.featurizers import MolGraphFeaturizer, featurize_smiles  # noqa: E402
from deepchem_finetune.featurizers import NucleotideTokenizer, ProteinTokenizer, SmilesTokenizer  # noqa: E402
from deepchem_finetune.models import MolGNNModel, SeqCNNModel  # noqa: E402

from deepchem_finetune._version import __version__  # noqa: E402

__all__ = ["MolGNN", "MolGNNModel", "MolGraphFeaturizer", "featurize_smiles", "FeaturizationError",
           "PretrainedError", "CheckpointError", "SpecMismatchError", "__version__",
           "SeqCNN", "SeqCNNModel", "SmilesTokenizer", "ProteinTokenizer", "NucleotideTokenizer"]
