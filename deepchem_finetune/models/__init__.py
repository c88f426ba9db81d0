"""DeepChem ``TorchModel`` wrappers of the backbones."""
from deepchem_finetune.models.base import BackboneModel
from deepchem_finetune.models.gnn_model import MolGNNModel

__all__ = ["BackboneModel", "MolGNNModel"]
