"""Data side of ``finetune``: the input column and targets of the user's CSV, the featurizer (the pretrained
backbone's, or one for training from scratch), the rows that cannot be used, the split and the label scaling."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from deepchem_finetune import hub
from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.workflow import table
from deepchem_finetune.workflow.table import InputError

dc = import_deepchem_quietly()

__all__ = ["RECOMMENDED_PRETRAINED", "READS", "default_pretrained", "Prepared", "prepare", "reuse", "split_parts"]

#: the zoo backbone ``finetune`` starts from by default, per input kind (None: from scratch): the #25 flagships, each
#: ahead of the entry it replaced on the same split ids and seeds (``benchmarks/RESULTS.md``: the GIN over
#: ``gin_zinc60k_desc30`` on the paired MoleculeNet grid, the SeqCNN over ``seqcnn_uniprot_mt`` on FLIP GB1)
RECOMMENDED_PRETRAINED: Dict[str, Optional[str]] = {"smiles": "gin_zinc250k_am_desc", "protein": "seqcnn_uniprot_wide",
                                                    "dna": None, "rna": None}
#: featurizers that read each input kind
READS = {"smiles": ("MolGraphFeaturizer", "MolGraphConvFeaturizer", "SmilesTokenizer"),
         "protein": ("ProteinTokenizer",), "dna": ("NucleotideTokenizer",), "rna": ("NucleotideTokenizer",)}


def default_pretrained(kind: str, pretrained: Optional[str]) -> Optional[str]:
    """``pretrained`` as given (``"none"`` -> None), or the recommended one for ``kind`` when not given.

    Examples
    --------
    >>> default_pretrained("smiles", None), default_pretrained("smiles", "none"), default_pretrained("dna", None)
    ('gin_zinc250k_am_desc', None, None)
    """
    if pretrained is None:
        return RECOMMENDED_PRETRAINED[kind]
    return None if str(pretrained).lower() == "none" else str(pretrained)


@dataclass
class Prepared:
    """What ``finetune`` trains on: the kept rows' features, labels (NaN: missing) and parts."""
    path: str
    kind: str
    column: str
    targets: List[str]
    task_type: str
    featurizer: object
    source: Optional[str]
    n_rows: int
    values: List[str]
    lines: Optional[List[int]]
    features: np.ndarray
    rows: np.ndarray
    y: np.ndarray
    parts: Dict[str, np.ndarray] = field(default_factory=dict)  # positions into rows / features / y
    problems: Dict[int, str] = field(default_factory=dict)
    inferred: bool = True
    sha256: str = ""

    def dataset(self, part: str, transformers: Sequence = ()) -> "dc.data.NumpyDataset":
        """The part as a DeepChem dataset (ids: data rows of the file; ``w`` 0 for missing labels), its labels
        put through ``transformers``."""
        idx = self.parts[part]
        y = self.y[idx]
        w = np.isfinite(y).astype(float)
        ds = dc.data.NumpyDataset(self.features[idx], np.nan_to_num(y), w, ids=self.rows[idx])
        for t in transformers:
            ds = t.transform(ds)
        return dc.data.NumpyDataset(ds.X, ds.y * w, w, ds.ids)  # missing labels stay 0 under normalisation


def check_extra_features(kind: str, extra_features: Sequence[str]) -> None:
    """Refuse ``--extra-features`` for sequence inputs, unknown kinds and a kind named twice (an ``InputError``).

    Examples
    --------
    >>> check_extra_features("smiles", ["ecfp4", "rdkit2d"])
    >>> check_extra_features("protein", ["ecfp4"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    deepchem_finetune.workflow.table.InputError: --extra-features are molecule-level features of SMILES; ...
    """
    from deepchem_finetune.featurizers.molecule import FEATURE_KINDS, check_kinds
    if not extra_features:
        return
    if kind != "smiles":
        raise InputError(f"--extra-features are molecule-level features of SMILES; the input here is {kind}")
    try:
        check_kinds(extra_features)
    except ValueError:
        raise InputError(f"--extra-features {' '.join(extra_features)}: name each of {list(FEATURE_KINDS)} at most "
                         "once") from None


def _featurizer(kind: str, source: Optional[str], values: Sequence[str], max_length: Optional[int],
                extra_features: Sequence[str] = ()):
    from deepchem_finetune.featurizers import (MolGraphFeaturizer, NucleotideTokenizer, ProteinTokenizer,
                                               featurizer_from_spec)
    check_extra_features(kind, extra_features)
    if source is not None:  # the backbone's own inputs, plus the molecule features for the head
        spec = hub.read_pretrained(source).featurizer
        if spec["name"] not in READS[kind]:
            raise InputError(f"pretrained {source!r} reads {spec['name']} inputs, not {kind} "
                             f"({', '.join(READS[kind])} do); pass another --pretrained, or none")
        if extra_features and spec["name"] not in ("MolGraphFeaturizer", "SmilesTokenizer"):
            raise InputError(f"--extra-features need our SMILES featurizers; pretrained {source!r} reads {spec['name']}")
        if max_length is not None:
            raise InputError("--max-length applies when training from scratch; the pretrained featurizer has its own")
        return featurizer_from_spec(hub.with_extra_features(spec, extra_features))
    if kind == "smiles":
        return MolGraphFeaturizer("rich", extra_features=tuple(extra_features))
    longest = max((len(str(v).strip()) for v in values), default=1)
    length = max(1, int(max_length or longest))
    return ProteinTokenizer(max_length=length) if kind == "protein" else NucleotideTokenizer(max_length=length)


def prepare(path: str, column: str, kind: str, targets: Sequence[str], task_type: str = "auto",
            pretrained: Optional[str] = None, split: Optional[str] = None,
            split_sizes: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, skip_invalid: bool = False,
            max_length: Optional[int] = None, extra_features: Sequence[str] = ()) -> Prepared:
    """Read, check, featurize and split the CSV. Raises :class:`~deepchem_finetune.workflow.table.InputError`
    naming the rows that cannot be used (each with its data row, file line and reason) unless ``skip_invalid``."""
    if kind not in table.INPUT_KINDS:
        raise ValueError(f"input kind must be one of {table.INPUT_KINDS}, got {kind!r}")
    df = table.read_table(path)
    missing = [c for c in [column, *targets] if c not in df.columns]
    if missing or not targets:
        raise InputError(f"column(s) {missing or '(no target columns)'} not in {path}; columns: {list(df.columns)}")
    lines = table.line_numbers(path, len(df))
    y, inferred_type, problems = table.parse_labels(df, list(targets), task_type)
    split = split or ("scaffold" if kind == "smiles" else "random")
    split_column = None
    if split.startswith("column:"):
        split_column, column_problems = table.parse_split_column(df, split[len("column:"):])
        for row, why in column_problems.items():
            problems.setdefault(row, why)
    elif split not in ("scaffold", "random"):
        raise InputError(f"--split must be scaffold, random or column:NAME, got {split!r}")
    if split == "scaffold" and kind != "smiles":
        raise InputError("a scaffold split needs SMILES; use --split random or column:NAME for sequences")
    source = default_pretrained(kind, pretrained)
    values = df[column].tolist()
    featurizer = _featurizer(kind, source, values, max_length, extra_features)
    features, rows, featurize_problems = table.featurize_column(values, featurizer)
    for row, why in featurize_problems.items():
        problems.setdefault(row, why)
    if problems and not skip_invalid:
        raise InputError(f"{len(problems)} row(s) of {path} cannot be used (rows are 0-based data rows, the header "
                         f"not counted; lines are lines of the file):\n"
                         f"{table.problems_text(problems, lines, values)}\nFix them, or pass --skip-invalid to leave "
                         "them out (they are then listed in the output folder)", problems)
    keep = np.array([k for k, row in enumerate(rows) if int(row) not in problems], dtype=np.int64)
    prepared = Prepared(path=os.fspath(path), kind=kind, column=column, targets=list(targets),
                        task_type=inferred_type, featurizer=featurizer, source=source, n_rows=len(df), values=values,
                        lines=lines, features=features[keep], rows=rows[keep], y=y[rows[keep]], problems=problems,
                        inferred=task_type == "auto", sha256=hub.file_sha256(path))
    if len(prepared.rows) == 0:
        raise InputError(f"none of the {len(df)} rows of {path} can be used")
    prepared.parts = split_parts(prepared, split, split_sizes, seed, split_column)
    return prepared


def reuse(prepared: Prepared, pretrained: Optional[str], max_length: Optional[int] = None,
          extra_features: Sequence[str] = ()) -> Optional[Prepared]:
    """``prepared`` for another ``--pretrained`` (``finetune --pretrained auto`` prepares once, ranks, then picks):
    the same rows, features and split when the picked backbone reads the very same featurizer spec, with its source
    set; None when the CSV must be featurized again with :func:`prepare`.

    Examples
    --------
    >>> from deepchem_finetune import examples
    >>> p = prepare(examples.path("esol"), "smiles", "smiles", ["logS"], pretrained="none")
    >>> reuse(p, "gin_zinc60k_desc30").source, reuse(p, "hu2020_gcn_contextpred")
    ('gin_zinc60k_desc30', None)
    """
    from deepchem_finetune.featurizers import featurizer_spec
    source = default_pretrained(prepared.kind, pretrained)
    if source == prepared.source:
        return prepared
    try:
        featurizer = _featurizer(prepared.kind, source, prepared.values, max_length, extra_features)
    except InputError:
        return None  # prepare() raises it with the full message
    if featurizer_spec(featurizer) != featurizer_spec(prepared.featurizer):
        return None
    return replace(prepared, source=source, featurizer=featurizer)


def split_parts(prepared: Prepared, split: str, sizes: Sequence[float], seed: int,
                split_column: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """Positions (into the kept rows) of train, valid and test: DeepChem's ScaffoldSplitter (deterministic) or
    RandomSplitter (``seed``), or the split column's assignment."""
    if split.startswith("column:"):
        assigned = split_column[prepared.rows]
        parts = {p: np.nonzero(assigned == p)[0] for p in ("train", "valid", "test")}
    else:
        if len(sizes) != 3 or min(sizes) < 0 or not math.isclose(sum(sizes), 1.0, abs_tol=1e-6):
            raise InputError(f"--split-sizes must be three fractions (train valid test) adding up to 1, got {sizes}")
        ds = dc.data.NumpyDataset(np.zeros((len(prepared.rows), 1)),
                                  ids=np.array([prepared.values[r].strip() for r in prepared.rows], dtype=object))
        splitter = dc.splits.ScaffoldSplitter() if split == "scaffold" else dc.splits.RandomSplitter()
        found = splitter.split(ds, frac_train=sizes[0], frac_valid=sizes[1], frac_test=sizes[2], seed=seed)
        parts = {p: np.sort(np.asarray(idx, dtype=np.int64)) for p, idx in zip(("train", "valid", "test"), found)}
    for part in ("train", "valid"):
        if len(parts[part]) == 0:
            raise InputError(f"the {part} part of the {split} split is empty ({len(prepared.rows)} usable rows); "
                             "fine-tuning needs a train and a validation part")
    return parts


def normalisation(prepared: Prepared) -> Tuple[list, List[float], List[float]]:
    """For regression, DeepChem's y normalisation fitted on the labelled train rows of each target (std 0 or no
    label: 1); no transformers for classification. Returns ``(transformers, mean, std)``."""
    if prepared.task_type != "regression":
        return [], [], []
    from deepchem_finetune.workflow.folder import normalization
    y = prepared.y[prepared.parts["train"]]
    mean = [float(np.nanmean(c)) if np.isfinite(c).any() else 0.0 for c in y.T]
    std = [float(np.nanstd(c)) if np.isfinite(c).sum() > 1 else 1.0 for c in y.T]
    std = [s if s > 0 else 1.0 for s in std]
    return [normalization(mean, std)], mean, std


def first_problems(prepared: Prepared, limit: int = 10) -> str:
    """The skipped rows, as console lines."""
    return table.problems_text(prepared.problems, prepared.lines, prepared.values, limit)
