"""``NoGraph``: a backbone that reads nothing of the graph, so a task head sees only the molecule-level features.

It is the "features only" baseline of the benchmark (:class:`~deepchem_finetune.models.FeatureMLPModel`): the same
featurizer, feature scaling, head, recipe and early stopping as a GNN with ``extra_features``, without the graph.
"""
from __future__ import annotations

from typing import List

import torch
from torch import nn

from deepchem_finetune.backbones.encoding import Encoding


class NoGraph(nn.Module):
    """An empty embedding ``(n_graphs, 0)`` per batch; no parameters.

    Examples
    --------
    >>> from deepchem_finetune.data import graphs_to_batch
    >>> from deepchem_finetune.featurizers import MolGraphFeaturizer
    >>> NoGraph().encode(graphs_to_batch(MolGraphFeaturizer().featurize(["CCO", "C"]))).pooled.shape
    torch.Size([2, 0])
    """

    input_kind = "graph"

    def __init__(self):
        super().__init__()
        self.config: dict = {}
        self.output_dim = 0
        self.register_buffer("_device", torch.zeros(0))  # where the empty embedding is made

    def layer_groups(self) -> List[List[nn.Module]]:
        return []

    def encode(self, batch) -> Encoding:
        empty = torch.zeros(batch.num_graphs, 0, device=self._device.device)
        return Encoding(empty, empty)

    def forward(self, batch) -> torch.Tensor:
        return self.encode(batch).pooled
