"""DeepChem ``TorchModel`` wrappers of the backbones."""
from deepchem_finetune.models.base import BackboneModel
from deepchem_finetune.models.gnn_model import MolGNNModel
from deepchem_finetune.models.seq_model import SeqCNNModel
from deepchem_finetune.models.features_model import FeatureMLPModel

__all__ = ["BackboneModel", "MolGNNModel", "SeqCNNModel", "FeatureMLPModel"]
