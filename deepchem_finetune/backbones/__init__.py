"""Backbones: plain ``torch.nn.Module`` encoders exposing ``output_dim`` and a JSON-able ``config``."""
from deepchem_finetune.backbones.gnn import MolGNN

BACKBONES = {"MolGNN": MolGNN}

__all__ = ["MolGNN", "BACKBONES"]
