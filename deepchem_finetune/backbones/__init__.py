"""Backbones: plain ``torch.nn.Module`` encoders exposing ``output_dim`` and a JSON-able ``config``."""
from deepchem_finetune.backbones.gnn import MolGNN
from deepchem_finetune.backbones.seq_cnn import SeqCNN

BACKBONES = {"MolGNN": MolGNN, "SeqCNN": SeqCNN}

__all__ = ["MolGNN", "SeqCNN", "BACKBONES"]
