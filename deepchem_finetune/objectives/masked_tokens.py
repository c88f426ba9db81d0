"""Masked-token pretraining (BERT / CARP): predict the tokens the data-side
:class:`~deepchem_finetune.transforms.TokenMasking` hid.

The head is a linear map from the backbone's per-position representations to the vocabulary; the loss is the
cross-entropy over the selected positions only. :func:`evaluate_masked_tokens` scores a held-out dataset
(masked-token accuracy and perplexity) with a fixed corruption seed.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from deepchem_finetune.heads import MLPHead
from deepchem_finetune.objectives.base import Objective
from deepchem_finetune.objectives.combined import Combined
from deepchem_finetune.transforms import MaskedTokenInput, TokenMasking
from deepchem_finetune.transforms.tokens import token_tensor


class MaskedTokens(Objective):
    """Select ``mask_rate`` of each sequence's real (non-pad) tokens, at least one, and predict them.

    Of the selected positions, ``mask_token_frac`` are replaced by ``<mask>``, ``random_token_frac`` by a
    random regular token (never ``<pad>``, ``<unk>`` or ``<mask>``) and the rest are left unchanged
    (BERT's 80/10/10); the loss is the cross-entropy over the selected positions only.

    Parameters
    ----------
    featurizer_spec: dict
        Spec of the sequence tokenizer the inputs are made with (SmilesTokenizer, ProteinTokenizer,
        NucleotideTokenizer).
    mask_rate: float, optional (default 0.15)
        Fraction of each sequence's real tokens selected (rounded, at least one).
    mask_token_frac: float, optional (default 0.8)
    random_token_frac: float, optional (default 0.1)

    Raises
    ------
    ValueError
        The featurizer is not a sequence tokenizer, or a fraction is out of range.

    Examples
    --------
    >>> from deepchem_finetune.featurizers import ProteinTokenizer
    >>> obj = MaskedTokens(ProteinTokenizer(max_length=8).get_spec())
    >>> tokens = torch.tensor([[13, 11, 20, 5, 0, 0]])
    >>> inp, labels, weights = obj.transform(tokens, torch.Generator().manual_seed(0))
    >>> len(inp.positions), labels[0].shape
    (1, torch.Size([1]))

    References
    ----------
    Devlin, J. et al. BERT: Pre-training of Deep Bidirectional Transformers. NAACL 2019.
    Yang, K. K. et al. Convolutions are competitive with transformers for protein sequence pretraining
    (CARP). Cell Systems 2024.
    """

    name = "masked_tokens"
    output_types = ["prediction"]

    def __init__(self, featurizer_spec: dict, mask_rate: float = 0.15, mask_token_frac: float = 0.8,
                 random_token_frac: float = 0.1):
        from deepchem_finetune.featurizers import featurizer_from_spec
        featurizer = featurizer_from_spec(featurizer_spec)
        enc = featurizer.input_encoding() if hasattr(featurizer, "input_encoding") else {}
        if enc.get("kind") != "tokens":
            raise ValueError("masked-token pretraining needs a sequence tokenizer (SmilesTokenizer, ProteinTokenizer, "
                             f"NucleotideTokenizer) and a sequence backbone (SeqCNNModel); got "
                             f"{featurizer_spec.get('name')}. For molecular graphs use objective='attr_masking'")
        self.vocab_size, self.pad_id, self.mask_id = enc["vocab_size"], enc["pad_id"], enc["mask_id"]
        special = {enc["pad_id"], enc["unk_id"], enc["mask_id"]}
        replacements = torch.tensor([i for i in range(self.vocab_size) if i not in special])
        self.transform = TokenMasking(self.pad_id, self.mask_id, replacements, mask_rate, mask_token_frac,
                                      random_token_frac)
        self.mask_rate, self.mask_token_frac, self.random_token_frac = mask_rate, mask_token_frac, random_token_frac
        self.config = {"mask_rate": mask_rate, "mask_token_frac": mask_token_frac,
                       "random_token_frac": random_token_frac}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(vocab_size={self.vocab_size}, mask_rate={self.mask_rate}, "
                f"mask/random/keep={self.mask_token_frac}/{self.random_token_frac}/"
                f"{1 - self.mask_token_frac - self.random_token_frac:.2g})")

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        """``Linear(width -> vocab_size)`` on each position (an MLP with ``hidden_dims``)."""
        if getattr(backbone, "input_kind", None) != "tokens":
            raise TypeError(f"masked-token pretraining needs a sequence backbone (SeqCNN), got "
                            f"{type(backbone).__name__}")
        return MLPHead(backbone.output_dim, self.vocab_size, tuple(hidden_dims), dropout)

    def backbone_input(self, inputs):
        return token_tensor(inputs)

    def predict(self, encoding, head, inputs) -> List[torch.Tensor]:
        """Logits ``(n_selected, vocab_size)``; a plain token tensor (no corruption) gives logits at every
        real position."""
        h = encoding.nodes
        if isinstance(inputs, MaskedTokenInput):
            positions = inputs.positions
        else:
            positions = (inputs != self.pad_id).reshape(-1).nonzero().squeeze(1)
        return [head(h.reshape(-1, h.shape[-1])[positions])]

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        logits = outputs[0]
        target, w = labels[0].to(logits.device), weights[0].to(logits.device)
        ce = F.cross_entropy(logits, target, reduction="none")
        return (w * ce).sum() / w.sum().clamp(min=1)

    @staticmethod
    def accuracy(outputs, labels) -> float:
        """Fraction of selected positions whose original token is the arg-max prediction."""
        return float((outputs[0].argmax(-1) == labels[0].to(outputs[0].device)).float().mean())

    @staticmethod
    def perplexity(loss) -> float:
        """``exp(loss)`` of a mean cross-entropy in nats."""
        return math.exp(float(loss))


def evaluate_masked_tokens(model, dataset, seed: int = 0, batch_size: Optional[int] = None) -> Dict[str, float]:
    """Masked-token cross-entropy, accuracy and perplexity of ``model`` on ``dataset``.

    The corruption is drawn from ``seed`` (the same positions on every call), and the network runs in
    eval mode without gradients; the model's training RNG is not touched.

    Parameters
    ----------
    model: SeqCNNModel
        Built with ``objective="masked_tokens"`` (alone or combined, e.g. ``"masked_tokens+descriptors"``).
    dataset: dc.data.Dataset
        Token arrays (e.g. the held-out part of a pretraining corpus).
    seed: int, optional (default 0)
    batch_size: int, optional
        Default: the model's.

    Returns
    -------
    dict
        ``eval_loss`` (mean cross-entropy per selected token), ``eval_masked_accuracy``, ``eval_perplexity``
        and ``eval_masked_tokens`` (how many were scored).
    """
    from deepchem_finetune.data.batching import iterate_batches
    built = model.model.objective
    parts = [p for p, _ in built.parts] if isinstance(built, Combined) else [built]
    found = [i for i, p in enumerate(parts) if isinstance(p, MaskedTokens)]
    if not found:
        raise TypeError(f"the model was built with objective {built.name!r}, which has no 'masked_tokens' part")
    objective = parts[found[0]]
    offset = sum(len(p.output_types) for p in parts[:found[0]])  # where its logits are among the outputs
    generator = torch.Generator().manual_seed(seed)
    network = model.model
    was_training = network.training
    network.eval()
    total, correct, count = 0.0, 0, 0
    try:
        with torch.no_grad():
            for X, _, _ in iterate_batches(dataset, batch_size or model.batch_size, shuffle=False):
                inp, labels, _ = objective.transform(model.collate(X), generator)
                logits = network(inp)[offset]
                target = labels[0].to(logits.device)
                total += float(F.cross_entropy(logits, target, reduction="sum"))
                correct += int((logits.argmax(-1) == target).sum())
                count += len(target)
    finally:
        network.train(was_training)
    if count == 0:
        raise ValueError("the evaluation dataset is empty")
    mean = total / count
    return {"eval_loss": mean, "eval_masked_accuracy": correct / count,
            "eval_perplexity": MaskedTokens.perplexity(mean), "eval_masked_tokens": count}
