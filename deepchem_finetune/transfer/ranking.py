"""Rank the zoo for the user's data: embed the training molecules with each compatible entry's frozen backbone (and
a scratch backbone and ECFP4), score each embedding with a transferability estimator, sort.

:func:`rank_zoo` works on a training part's inputs and labels; :func:`best_entry` adds the pick for ``--pretrained``;
:func:`~deepchem_finetune.transfer.rank_csv` (``deepchem-finetune rank`` and ``finetune --pretrained auto``) reads and
splits a CSV as ``finetune`` does and ranks its training part, so nothing about the test part leaks into the choice.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from deepchem_finetune.transfer.embedding import DEFAULT_ENTRY, default_candidates, embed_all, resolve_candidates
from deepchem_finetune.transfer.estimators import ESTIMATORS, MEANING, score_features
from deepchem_finetune.workflow.folder import json_safe
from deepchem_finetune.workflow.table import task_type_of

__all__ = ["DEFAULT_ESTIMATOR", "MAX_MOLECULES", "Ranking", "rank_zoo", "best_entry"]

#: the estimator ``rank`` and ``finetune --pretrained auto`` use, chosen by ``benchmarks/rank_validation.py``: over 18
#: datasets of measured paired fine-tuning gains a mean Spearman of +0.47 (kNN +0.47, 2-epoch fine-tune +0.46, ridge
#: probe +0.39), the measured best picked 12/18 (kNN 13/18, a one-dataset margin), and milliseconds a score
DEFAULT_ESTIMATOR = "logme"
#: how far the default estimator's pick can be trusted (benchmarks/results/rank_validation.csv), printed under the table
TRUST = ("trust: see the rank validation in benchmarks/RESULTS.md: on the datasets measured so far LogME gets "
         "pretrained-vs-scratch right but its pick was not better than the default entry")
#: training molecules scored at most (a seeded random subset above it): the ranking stays within seconds
MAX_MOLECULES = 5000


@dataclass
class Ranking:
    """A ranked table: one row per candidate (scored ones by score, best first; then the skipped ones).

    Row keys: ``entry``, ``kind`` (pretrained / scratch / fingerprint), ``featurizer``, ``dim``, ``score``
    (the ranking estimator's), ``scores`` (every estimator computed), ``rank`` (None when skipped),
    ``featurize_s`` (the shared featurization of its spec, charged to the first entry using it), ``embed_s``,
    ``score_s``, ``note``.
    """
    estimator: str
    task_type: str
    rows: List[Dict]
    n_molecules: int
    n_given: int
    n_targets: int
    kind: str = "smiles"
    seconds: float = 0.0
    data: Dict = field(default_factory=dict)

    @property
    def best(self) -> Optional[str]:
        """The top-ranked candidate ``finetune`` can start from (a backbone, pretrained or scratch); None if none."""
        return next((r["entry"] for r in self.rows if r["rank"] is not None and r["kind"] != "fingerprint"), None)

    @property
    def best_pretrained(self) -> Optional[str]:
        """:attr:`best` as a ``finetune --pretrained`` value: the entry, or None when a scratch backbone wins."""
        best = self.best
        return None if best is None or best == "scratch" or best.startswith("scratch:") else best

    def table(self) -> str:
        """The ranking as console text: the table, what the score means, totals and the pick."""
        lines = [f"{'rank':>4}  {'entry':40s} {'score':>9}  {'featurize s':>11} {'embed s':>8} {'score s':>8}  note"]
        for r in self.rows:
            if r["rank"] is None:
                lines.append(f"{'-':>4}  {r['entry']:40s} {'skipped':>9}  {'':>11} {'':>8} {'':>8}  {r['note']}")
                continue
            lines.append(f"{r['rank']:>4}  {r['entry']:40s} {r['score']:9.4f}  {_secs(r['featurize_s']):>11} "
                         f"{_secs(r['embed_s']):>8} {_secs(r['score_s']):>8}  {r['note']}")
        sub = "" if self.n_molecules == self.n_given else (f" of {self.n_given} given (the labelled ones every "
                                                              f"featurizer reads, at most {MAX_MOLECULES} at random)")
        lines += ["", f"score: {MEANING[self.estimator]}"]
        lines += [TRUST] if self.estimator == DEFAULT_ESTIMATOR else []
        lines += [f"{self.n_molecules} training molecules{sub}, {self.n_targets} target(s), {self.task_type}; "
                  f"{self.seconds:.1f} s in all",
                  f"--pretrained auto would use: {self.best_pretrained or 'none (train from scratch)'}"]
        return "\n".join(lines)

    def to_dict(self) -> Dict:
        """Plain-JSON form (what ``finetune --pretrained auto`` records in the model folder)."""
        return json_safe({"estimator": self.estimator, "meaning": MEANING[self.estimator],
                          "task_type": self.task_type, "kind": self.kind, "n_molecules": self.n_molecules,
                          "n_given": self.n_given, "n_targets": self.n_targets, "seconds": self.seconds,
                          "best": self.best, "best_pretrained": self.best_pretrained, "data": self.data,
                          "rows": self.rows})

    def save(self, folder: str, name: str = "ranking") -> str:
        """Write ``<folder>/<name>.json`` (:meth:`to_dict`) and ``<name>.txt`` (:meth:`table`); returns the JSON
        path."""
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{name}.json")
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh, indent=1)
        with open(os.path.join(folder, f"{name}.txt"), "w") as fh:
            fh.write(self.table() + "\n")
        return path


def _secs(value) -> str:
    return "" if value is None else f"{value:.2f}"


def rank_zoo(inputs: Sequence[str], y, task_type: str = "auto", candidates: Optional[Sequence[str]] = None,
             estimator: Union[str, Sequence[str]] = DEFAULT_ESTIMATOR, kind: str = "smiles",
             max_molecules: Optional[int] = MAX_MOLECULES, seed: int = 0, data: Optional[Dict] = None) -> Ranking:
    """Rank backbones for labelled inputs (the training part only) by a transferability estimate.

    Parameters
    ----------
    inputs: sequence of str
        SMILES (or sequences, with ``kind``).
    y: array ``(n,)`` or ``(n, targets)``
        Labels, NaN where missing (classification: 0/1).
    task_type: str
        'classification', 'regression' or 'auto' (classification when every label is 0 or 1).
    candidates: sequence of str, optional
        Zoo names, pretrained folders, ``scratch``, ``scratch:<source>``, ``ecfp4``; default every zoo entry,
        ``scratch`` and ``ecfp4`` (:func:`~deepchem_finetune.transfer.embedding.default_candidates`). Entries that
        cannot read ``kind`` inputs are listed as skipped, with the reason.
    estimator: str or sequence of str
        One of ``logme``, ``ridge_probe``, ``knn``; with several, the first ranks and every row carries all scores.
    max_molecules: int, optional
        Score a seeded random subset of this many inputs when there are more (None: all).
    seed: int
        Of the subset and of the scratch backbone's random weights.
    data: dict, optional
        Recorded in the ranking (file, split, ...).

    Examples
    --------
    >>> smiles = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "c1ccccc1C", "c1ccccc1CC", "CCN", "CCCN", "c1ccncc1", "CC(=O)O"]
    >>> r = rank_zoo(smiles, [0, 0, 0, 1, 1, 1, 0, 0, 1, 0], candidates=["gin_zinc60k_desc30", "scratch", "ecfp4",
    ...                                                               "seqcnn_uniprot_mt"])
    >>> sorted(row["entry"] for row in r.rows if row["rank"]), r.rows[-1]["note"]
    (['ecfp4', 'gin_zinc60k_desc30', 'scratch'], 'reads ProteinTokenizer inputs (protein), not smiles')
    """
    start = time.perf_counter()
    estimators = [estimator] if isinstance(estimator, str) else list(estimator)
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown or not estimators:
        raise ValueError(f"unknown estimator(s) {unknown or estimators}; choose from {sorted(ESTIMATORS)}")
    inputs = [str(v).strip() for v in inputs]
    y = np.asarray(y, dtype=np.float64)
    y = y.reshape(-1, 1) if y.ndim == 1 else y
    if len(y) != len(inputs):
        raise ValueError(f"{len(inputs)} inputs but {len(y)} label rows")
    labelled = np.nonzero(np.isfinite(y).any(axis=1))[0]
    if len(labelled) < 10:
        raise ValueError(f"only {len(labelled)} labelled inputs: a ranking needs at least 10")
    task_type = task_type_of(y, task_type)
    if max_molecules is not None and len(labelled) > max_molecules:
        labelled = np.sort(np.random.default_rng(seed).choice(labelled, max_molecules, replace=False))
    values, y = [inputs[i] for i in labelled], y[labelled]
    resolved = resolve_candidates(candidates if candidates is not None else default_candidates(kind), kind)
    embeddings, common = embed_all(resolved, values, seed=seed)
    y = y[common]
    rows = []
    for c in resolved:
        row = {"entry": c.name, "kind": c.kind, "featurizer": _featurizer_name(c.featurizer, c.kind), "dim": None,
               "score": None, "scores": {}, "rank": None, "featurize_s": c.timings.get("featurize"),
               "embed_s": c.timings.get("embed"), "score_s": None, "note": c.skipped or _note(c, kind)}
        if not c.skipped:
            F = embeddings[c.name]
            row["dim"] = int(F.shape[1])
            t0 = time.perf_counter()
            row["scores"] = {e: score_features(e, F, y, task_type) for e in estimators}
            row["score_s"] = time.perf_counter() - t0
            row["score"] = row["scores"][estimators[0]]
            if not np.isfinite(row["score"]):
                row["note"] = "no score: too few labelled inputs (of each class) in every target"
        rows.append(row)
    scored = sorted((r for r in rows if r["score"] is not None and np.isfinite(r["score"])),
                    key=lambda r: -r["score"])
    for k, r in enumerate(scored, 1):
        r["rank"] = k
    ordered = scored + [r for r in rows if r["rank"] is None]
    return Ranking(estimator=estimators[0], task_type=task_type, rows=ordered, n_molecules=len(common),
                   n_given=len(inputs), n_targets=y.shape[1], kind=kind, seconds=time.perf_counter() - start,
                   data=dict(data or {}))


def _featurizer_name(spec: Optional[dict], kind: str) -> str:
    if spec is None:
        return "ECFP4 (2048 bits)" if kind == "fingerprint" else ""
    preset = spec.get("config", {}).get("preset")
    return f"{spec['name']}({preset})" if preset else spec["name"]


def _note(candidate, kind: str) -> str:
    if candidate.kind == "fingerprint":
        return "reference: a fingerprint, not a backbone (auto never picks it)"
    if candidate.kind == "scratch":
        twin = candidate.source
        return f"random weights, {twin}'s architecture" + (" (= --pretrained none)" if candidate.name == "scratch"
                                                            else "")
    return "default entry" if candidate.name == DEFAULT_ENTRY.get(kind) else ""


def best_entry(inputs: Sequence[str], y, task_type: str = "auto", **options) -> tuple:
    """``(pretrained, ranking)`` for ``finetune --pretrained auto``: the top-ranked zoo entry for the training
    part's inputs and labels (None: a scratch backbone ranks first, train from scratch) and the :class:`Ranking`
    to record in the model folder (``ranking.save(folder)``). ``options`` go to :func:`rank_zoo`.

    Examples
    --------
    >>> smiles = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "c1ccccc1C", "c1ccccc1CC", "CCN", "CCCN", "c1ccncc1", "CCCl"]
    >>> pick, ranking = best_entry(smiles, [0, 0, 0, 1, 1, 1, 0, 0, 1, 0], candidates=["gin_zinc60k_desc30"])
    >>> pick, ranking.rows[0]["entry"]
    ('gin_zinc60k_desc30', 'gin_zinc60k_desc30')
    """
    ranking = rank_zoo(inputs, y, task_type=task_type, **options)
    return ranking.best_pretrained, ranking
