"""Backbones: plain ``torch.nn.Module`` encoders exposing ``encode(inputs) -> Encoding``, ``output_dim``,
``layer_groups()`` and a JSON-able ``config``."""
from deepchem_finetune.backbones.encoding import Encoding
from deepchem_finetune.backbones.gnn import MolGNN
from deepchem_finetune.backbones.seq_cnn import SeqCNN

BACKBONES = {"MolGNN": MolGNN, "SeqCNN": SeqCNN}

__all__ = ["MolGNN", "SeqCNN", "BACKBONES", "Encoding"]
