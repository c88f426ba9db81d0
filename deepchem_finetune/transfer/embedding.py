"""The candidates of a ranking and their frozen embeddings.

A candidate is named like a benchmark arm: a zoo name or pretrained folder (its frozen backbone), ``scratch`` (the
default entry's backbone with random weights, what ``finetune --pretrained none`` trains), ``scratch:<source>``
(that source's backbone config and featurizer with random weights: its twin) or ``ecfp4`` (2048-bit Morgan
fingerprints, a reference that is not a backbone). Inputs are featurized once per featurizer spec, so entries that
share a featurizer share that cost.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from deepchem_finetune import hub
from deepchem_finetune.workflow.prepare import READS  # featurizer spec names that read each input kind
from deepchem_finetune.workflow.prepare import RECOMMENDED_PRETRAINED as DEFAULT_ENTRY  # scratch = its twin

__all__ = ["Candidate", "DEFAULT_ENTRY", "READS", "resolve_candidates", "default_candidates", "embed_all"]

ECFP = "ecfp4"
BATCH_SIZE = 256


@dataclass
class Candidate:
    """One row of a ranking: what it is, how to embed it, or why it was skipped."""
    name: str
    kind: str                          # "pretrained", "scratch" or "fingerprint"
    source: Optional[str] = None       # pretrained source whose backbone (and weights, unless scratch) is used
    featurizer: Optional[dict] = None  # featurizer spec (None: fingerprint)
    artifact: Optional[hub.PretrainedArtifact] = field(default=None, repr=False)  # the source, read once
    skipped: Optional[str] = None      # why it was not scored
    timings: Dict[str, float] = field(default_factory=dict)

    @property
    def finetunable(self) -> bool:
        """Whether ``finetune`` can start from it (a backbone, pretrained or scratch)."""
        return self.kind in ("pretrained", "scratch")


def default_candidates(kind: str = "smiles") -> List[str]:
    """Every zoo entry, the scratch backbone and (for SMILES) ECFP4: what ``rank`` scores by default.

    Examples
    --------
    >>> names = default_candidates("smiles")
    >>> names[-2:], "gin_zinc60k_desc30" in names
    (['scratch', 'ecfp4'], True)
    """
    return list(hub.zoo_names()) + ["scratch"] + ([ECFP] if kind == "smiles" else [])


def resolve_candidates(names: Sequence[str], kind: str = "smiles") -> List[Candidate]:
    """Candidates for ``names``; those that cannot read ``kind`` inputs (or cannot be read) come back with
    ``skipped`` set to the reason.

    Examples
    --------
    >>> [(c.name, c.skipped) for c in resolve_candidates(["gin_zinc60k_desc30", "seqcnn_uniprot_mt"])]
    [('gin_zinc60k_desc30', None), ('seqcnn_uniprot_mt', 'reads ProteinTokenizer inputs (protein), not smiles')]
    """
    if kind not in READS:
        raise ValueError(f"input kind must be one of {sorted(READS)}, got {kind!r}")
    out = []
    for name in names:
        name = str(name)
        if name == ECFP:
            out.append(Candidate(name, "fingerprint", skipped=None if kind == "smiles" else
                                 f"ECFP4 needs SMILES, not {kind}"))
            continue
        scratch = name == "scratch" or name.startswith("scratch:")
        source = (DEFAULT_ENTRY.get(kind) if name == "scratch" else name[len("scratch:"):]) if scratch else name
        candidate = Candidate(name, "scratch" if scratch else "pretrained", source=source)
        if source is None:
            candidate.skipped = f"no default backbone for {kind} inputs"
        else:
            try:
                artifact = hub.read_pretrained(source)
            except Exception as err:  # an unreadable entry is reported, not fatal
                candidate.skipped = f"cannot be read: {err}"
            else:
                candidate.artifact, candidate.featurizer = artifact, artifact.featurizer
                reads = artifact.featurizer.get("name")
                if reads not in READS[kind]:
                    what = next((k for k, v in READS.items() if reads in v), "other")
                    candidate.skipped = f"reads {reads} inputs ({what}), not {kind}"
        out.append(candidate)
    return out


def _spec_key(candidate: Candidate) -> str:
    """What candidates that share a featurization have in common: the featurizer spec (ECFP4 for a fingerprint)."""
    return ECFP if candidate.featurizer is None else json.dumps(candidate.featurizer, sort_keys=True)


def _featurize(values: Sequence[str], spec: Optional[dict]):
    """(features, kept positions) of ``values``; ``spec`` None: ECFP4 (one row per value that RDKit parses)."""
    if spec is None:
        from rdkit import Chem
        from deepchem_finetune._compat import rdkit_errors_silenced
        from deepchem_finetune.featurizers.molecule import molecule_vector
        rows, kept = [], []
        with rdkit_errors_silenced():
            for i, smi in enumerate(values):
                mol = Chem.MolFromSmiles(smi)
                if mol is not None:
                    rows.append(molecule_vector(mol, [ECFP]))
                    kept.append(i)
        return (np.stack(rows) if rows else np.zeros((0, 2048), np.float32)), np.asarray(kept, dtype=np.int64)
    from deepchem_finetune.featurizers import featurize_smiles, featurizer_from_spec
    out = featurize_smiles(list(values), featurizer_from_spec(spec), skip_invalid=True, warn=False)
    return out.features, out.indices


def _backbone(candidate: Candidate, seed: int) -> torch.nn.Module:
    """The candidate's backbone in eval mode: pretrained weights, or random ones drawn with ``seed``."""
    from deepchem_finetune.backbones import BACKBONES
    artifact = candidate.artifact
    name = artifact.backbone["name"]
    if name not in BACKBONES:
        raise ValueError(f"{candidate.source}: unknown backbone {name!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        backbone = BACKBONES[name](**artifact.backbone["config"])
    if candidate.kind == "pretrained":
        hub.load_weights(backbone, artifact, None, label=candidate.source)
    return backbone.eval()


def _batch(backbone: torch.nn.Module, X: np.ndarray):
    """The network input of a batch: a torch-geometric Batch for graphs, a token tensor cut to its longest row."""
    if getattr(backbone, "input_kind", None) == "graph":
        from deepchem_finetune.data.batching import graphs_to_batch
        return graphs_to_batch(X)
    X = np.stack(list(X)) if np.asarray(X).dtype == object else np.asarray(X)
    real = X != backbone.config.get("pad_id", 0)
    length = int(real.shape[1] - np.argmax(real[:, ::-1].any(axis=0)))
    return torch.as_tensor(X[:, :max(length, 1)].astype(np.int64, copy=False))


def embed(backbone: torch.nn.Module, features: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Pooled embeddings ``(n, output_dim)`` of featurized inputs, without gradients, in batches.

    Examples
    --------
    >>> from deepchem_finetune.backbones import MolGNN
    >>> from deepchem_finetune.featurizers import MolGraphFeaturizer
    >>> f = MolGraphFeaturizer()
    >>> gnn = MolGNN(f.input_encoding(), num_layers=2, hidden_dim=16).eval()
    >>> embed(gnn, f.featurize(["CCO", "c1ccccc1", "CN"]), batch_size=2).shape
    (3, 16)
    """
    out = []
    with torch.no_grad():
        for start in range(0, len(features), batch_size):
            out.append(backbone.encode(_batch(backbone, features[start:start + batch_size])).pooled.float().numpy())
    return np.concatenate(out).astype(np.float64)


def embed_all(candidates: List[Candidate], values: Sequence[str], seed: int = 0,
              max_failed: float = 0.1) -> tuple:
    """Embeddings of ``values`` for every candidate not skipped, on the rows every one of them could featurize.

    Each featurizer spec is featurized once (its time is charged to the first candidate that uses it,
    ``timings["featurize"]``; ``timings["embed"]`` is the backbone pass). A spec that fails on more than
    ``max_failed`` of the inputs skips its candidates with the count; the others are compared on the common rows.

    Returns
    -------
    (dict name -> embedding (n_common, d), common row positions into ``values``)
    """
    features: Dict[str, tuple] = {}
    for c in candidates:
        if c.skipped:
            continue
        key = _spec_key(c)
        if key not in features:
            start = time.perf_counter()
            features[key] = _featurize(values, c.featurizer)
            c.timings["featurize"] = time.perf_counter() - start
        lost = len(values) - len(features[key][1])
        if lost > max_failed * len(values):
            c.skipped = f"its featurizer could not read {lost} of {len(values)} inputs"
    active = [c for c in candidates if not c.skipped]
    common = np.arange(len(values), dtype=np.int64)
    for c in active:
        common = np.intersect1d(common, features[_spec_key(c)][1])
    embeddings = {}
    for c in active:
        feats, kept = features[_spec_key(c)]
        take = np.searchsorted(kept, common)
        start = time.perf_counter()
        if c.kind == "fingerprint":
            embeddings[c.name] = np.asarray(feats[take], dtype=np.float64)
        else:
            embeddings[c.name] = embed(_backbone(c, seed), feats[take])
        c.timings["embed"] = time.perf_counter() - start
    return embeddings, common
