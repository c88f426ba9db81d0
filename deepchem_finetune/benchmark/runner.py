"""The benchmark grid: datasets x models x strategies x splits x seeds, one CSV row per cell, resumable.

Model names (:mod:`deepchem_finetune.benchmark.arms`): ``gnn`` (MolGNN from scratch), ``gnn:<zoo name | pretrained
folder | .pth>`` (pretrained, fine-tuned with each strategy) and its scratch twin ``scratch:gnn:<source>`` (added
automatically), ``seqcnn`` / ``seqcnn:<pretrained>`` (SeqCNN on SMILES or protein tokens), the peers ``rf`` (random
forest on ECFP4), ``rf_desc`` (on RDKit descriptors) and ``chemprop`` (chemprop v2, on our split ids), and ``ridge``
(ridge on one-hot sequences, FLIP's simplest baseline). Dataset names: any ``dc.molnet`` name known to
:func:`~deepchem_finetune.data.load_moleculenet`, or ``flip_gb1:<split>`` (FLIP's own split; molecule-only
models are skipped there, ``ridge`` is skipped on molecules). Splits: ``scaffold`` (DeepChem's),
``hu2020_scaffold``, ``random_scaffold`` (seeded by the cell's seed); FLIP rows say ``flip``. Each cell trains with
early stopping and reports the test score at the best-validation epoch: ROC-AUC (mean over tasks with both classes),
RMSE, or Spearman for FLIP.

Resuming works at two levels: finished cells (rows of ``results.csv``) are skipped, and a GNN or SeqCNN cell that
was killed mid-training continues from its last finished epoch (its state lives in ``<out_dir>/state/<cell>/``
until the row is written). Several processes may share one ``out_dir``: a cell is run by the process holding its
lock (the others skip it) and rows are added to ``results.csv`` under a lock of the file
(:mod:`deepchem_finetune.storage`).
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import time
from typing import Dict, Iterable, List, Optional

import pandas as pd
from tqdm.auto import tqdm

from deepchem_finetune import storage
from deepchem_finetune.benchmark.arms import (NESTED_OPTIONS, RUNNERS, applies, cell_mode_and_metric, family,
                                              features, is_flip, is_twin, source, twin_of)
from deepchem_finetune.benchmark.peers import PeerNotInstalled
from deepchem_finetune.benchmark.protocol import run_fields

logger = logging.getLogger(__name__)

KEY = ["dataset", "model", "strategy", "split", "seed"]
QUICK = {"max_epochs": 3, "patience": 3,
         "model_options": {"num_layers": 2, "hidden_dim": 32, "seqcnn": {"width": 16, "depth": 2},
                           "rf": {"n_estimators": 50}, "chemprop": {"epochs": 3}}}


def with_twins(models: Iterable[str], existing: Iterable[str] = ()) -> List[str]:
    """``models`` with the scratch twin of every pretrained arm right after it (unless already listed).

    A twin is made of the arm's backbone architecture and inputs alone, so pretrained arms that share both (e.g.
    snapshots of one pretraining run) share one twin, that of the first of them: a second would repeat the very
    same training. A twin among ``existing`` (the models of rows already written) counts as listed, so a rerun that
    names the arms in another order keeps it. The report pairs each arm with the twin of its architecture
    (``report.reference_arm``).

    Examples
    --------
    >>> with_twins(["gnn:zoo", "rf"])
    ['gnn:zoo', 'scratch:gnn:zoo', 'rf']
    """
    out: List[str] = []
    twins: Dict[tuple, str] = {}
    earlier = [t for t in dict.fromkeys(existing) if is_twin(t) and source(t) is not None]
    for t in earlier:
        twins.setdefault(_twin_key(t[len("scratch:"):]), t)
    for m in models:
        out.append(m)
        if source(m) is not None and not is_twin(m) and family(m) in ("gnn", "seqcnn"):
            key = _twin_key(m)
            if twin_of(m) in earlier:  # its own twin was written before: keep extending that one
                out.append(twin_of(m))
            elif key not in twins:
                twins[key] = twin_of(m)
                out.append(twin_of(m))
            elif twins[key] in earlier:
                out.append(twins[key])  # its rows are kept; datasets or seeds it lacks are run
    return list(dict.fromkeys(out))


def _twin_key(model: str) -> tuple:
    """What decides a pretrained arm's twin: family, molecule features, the backbone's whole stored config (its
    dropout too: the twin keeps it) and inputs (the model name itself when the source cannot be read here; running
    the arm then reports why)."""
    from deepchem_finetune.benchmark.protocol import short_hash
    from deepchem_finetune.hub import read_pretrained
    from deepchem_finetune.hub.loading import backbone_inputs
    try:
        artifact = read_pretrained(source(model))
    except (OSError, ValueError, KeyError, RuntimeError):  # unreadable here (moved, corrupt): a twin of its own
        return (model,)
    return (family(model), tuple(features(model)), short_hash(artifact.backbone),
            short_hash(backbone_inputs(artifact.featurizer)))


def _cells(datasets, models, strategies, splits, seeds):
    for d in datasets:
        if is_flip(d) and list(splits) != ["scaffold"]:
            logger.warning("%s comes with its own split: --splits %s applies to the MoleculeNet sets only", d,
                           " ".join(splits))
        for m in models:
            if not applies(m, d):
                logger.warning("skipping model %s on %s: it does not apply to that kind of data", m, d)
                continue
            deterministic = family(m) == "ridge"  # a closed-form fit: one seed is enough
            for strategy in (strategies if source(m) is not None and not is_twin(m) else ["-"]):
                for split in (["flip"] if is_flip(d) else splits):  # FLIP's own split, named in the dataset
                    for seed in (seeds[:1] if deterministic else seeds):
                        yield {"dataset": d, "model": m, "strategy": strategy, "split": split, "seed": seed}


def head_widths(value) -> list:
    """The ``head_hidden`` model option as typed on the command line, as a list of hidden widths.

    Examples
    --------
    >>> head_widths(300), head_widths([300, 100]), head_widths("")  # head_hidden=300, =300,100, = (a linear head)
    ([300], [300, 100], [])
    """
    if value == "":
        return []
    widths = [value] if isinstance(value, int) else list(value) if isinstance(value, (list, tuple)) else None
    if widths is None or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
        raise ValueError(f"head_hidden must be hidden widths, e.g. head_hidden=300 or 300,100 (or head_hidden= for a "
                         f"linear head), got {value!r}")
    return widths


def run_benchmark(datasets: Iterable[str], models: Iterable[str] = ("gnn", "rf"), strategies=("full",),
                  splits=("scaffold",), seeds=(0, 1, 2), out_dir: str = "benchmarks/out/benchmark",
                  data_dir: Optional[str] = None, protein_dir: Optional[str] = None, max_epochs: int = 100,
                  patience: int = 20, quick: bool = False, time_budget_min: Optional[float] = None,
                  model_options: Optional[Dict] = None, allow_leakage: bool = False, twins: bool = True,
                  allow_mixed: bool = False, progress: bool = True) -> pd.DataFrame:
    """Run (or resume) the grid and return all result rows as a DataFrame; writes ``results.csv``,
    ``summary.md``, ``summary.png`` and ``splits/`` under ``out_dir``.

    Parameters
    ----------
    datasets, models, strategies, splits, seeds:
        The grid (see the module docstring for names).
    data_dir, protein_dir: str, optional
        MoleculeNet CSV folder (default ``$DEEPCHEM_DATA_DIR``) and the folder holding ``flip_<task>/``
        (default ``$DEEPCHEM_FINETUNE_PROTEIN_DIR``).
    quick: bool
        3 epochs, a 2 x 32 GNN and a 2 x 16 SeqCNN: a smoke test of the whole pipeline.
    time_budget_min: float, optional
        Start no new cell after this many minutes (finished cells are kept; rerun to continue).
    model_options: dict, optional
        MolGNNModel options for scratch GNNs (``featurizer`` preset, ``num_layers``, ``hidden_dim``, ...);
        ``dropout``/``batch_size``/``learning_rate``/``precision``/``compile``/``head_hidden`` (an int, a list of
        hidden widths, or '' for a linear head)/``head_dropout`` also apply to pretrained models; a
        nested ``seqcnn`` dict holds scratch SeqCNN options (``width``, ``depth``, ``kernel_size``, ``max_length`` for SMILES).
    allow_leakage: bool
        Run cells whose pretrained backbone saw the dataset in pretraining (flagged in column ``leakage``).
    twins: bool (default True)
        Add every pretrained arm's scratch twin (``scratch:gnn:<source>``: the same backbone config and featurizer,
        random initial weights), which the report pairs it with; arms of one architecture share one (see
        :func:`with_twins`). With False no twin is added: the report pairs an arm with a twin of its architecture
        already among the rows it reads (e.g. from another results folder), else with the family's plain scratch
        arm (e.g. ``gnn``), if you name one.
    allow_mixed: bool (default False)
        Let the report merge rows made under different protocols (labelled) instead of refusing.

    Every row carries its protocol (:mod:`deepchem_finetune.benchmark.protocol`): recipe, arm and run fields
    (split ids hash, threads, package version, git commit, date). Peers that are not installed (chemprop) are
    skipped with a message saying how to install them.

    Examples
    --------
    >>> df = run_benchmark(["bbbp"], ["gnn", "rf"], seeds=[0], quick=True)  # doctest: +SKIP
    """
    from deepchem_finetune.benchmark.report import write_report
    model_options = dict(model_options or {})
    if "head_hidden" in model_options:
        model_options["head_hidden"] = head_widths(model_options["head_hidden"])
    if quick:
        max_epochs, patience = QUICK["max_epochs"], QUICK["patience"]
        nested = {k: {**QUICK["model_options"][k], **model_options.get(k, {})} for k in NESTED_OPTIONS}
        model_options = {**QUICK["model_options"], **model_options, **nested}
    for m in models:
        family(m)  # unknown names fail before anything runs
    os.makedirs(os.path.join(out_dir, "splits"), exist_ok=True)
    csv = os.path.join(out_dir, "results.csv")
    done_rows = _read_rows(csv)
    done = {_key(r) for r in done_rows}
    for row in done_rows:  # state left by a process killed between writing its row and cleaning up
        shutil.rmtree(os.path.join(out_dir, "state", _cell_folder(row)), ignore_errors=True)
        _remove(os.path.join(out_dir, "state", _cell_folder(row) + ".lock"))
    models = with_twins(models, existing=[r["model"] for r in done_rows]) if twins else list(models)
    cells = [c for c in _cells(list(datasets), models, list(strategies), list(splits), list(seeds))
             if _key(c) not in done]
    skipped_peers = set()
    deadline = None if time_budget_min is None else time.time() + 60 * time_budget_min
    for cell in tqdm(cells, desc="benchmark", disable=not progress):
        if deadline is not None and time.time() > deadline:
            logger.warning("time budget spent: %d cell(s) not run; rerun the same command to continue",
                           len(cells) - cells.index(cell))
            break
        state_dir = os.path.join(out_dir, "state", _cell_folder(cell))
        with contextlib.ExitStack() as claim:
            try:  # the cell's claim; fit_with_early_stopping re-enters the same lock
                lock_file = claim.enter_context(storage.lock(state_dir, timeout=0))
            except TimeoutError:
                logger.info("skipping %s: another process sharing %s is running it", _key(cell), out_dir)
                continue
            if cell["model"] in skipped_peers:
                continue
            if _key(cell) not in {_key(r) for r in _read_rows(csv)}:  # else another process finished it meanwhile
                try:
                    _run_cell(cell, csv, out_dir, state_dir, data_dir=data_dir, protein_dir=protein_dir,
                              max_epochs=max_epochs, patience=patience, model_options=model_options,
                              allow_leakage=allow_leakage)
                except PeerNotInstalled as err:
                    logger.warning("skipping %s: %s", cell["model"], err)
                    skipped_peers.add(cell["model"])
            _remove(lock_file)  # the cell has its row: its lock is not needed again
    rows = _read_rows(csv)
    df = pd.DataFrame(rows)
    if len(df):
        write_report(df, out_dir, allow_mixed=allow_mixed)
    return df


def _run_cell(cell, csv, out_dir, state_dir, **options) -> None:
    """Train one cell (resuming its state), save its split and add its row; then remove its state. The row's
    ``seconds``: this process's wall time plus the training seconds of earlier processes it resumed."""
    t = time.time()
    runner = RUNNERS[family(cell["model"])]
    res, parts = runner(cell, state_dir=state_dir, **options)
    earlier = res.pop("earlier_seconds", 0.0)
    _save_split(out_dir, cell, parts)
    _append_row(csv, {**cell, "metric": cell_mode_and_metric(cell["dataset"])[1], **res, **run_fields(parts),
                      "seconds": round(time.time() - t + earlier, 1)})
    shutil.rmtree(state_dir, ignore_errors=True)


def merge_results(sources: Iterable[str]) -> pd.DataFrame:
    """Rows of several benchmark runs in one DataFrame, each cell once (the last source wins).

    Parameters
    ----------
    sources: iterable of str
        Benchmark ``out_dir`` folders or ``results.csv`` files.

    Returns
    -------
    pd.DataFrame
        What :func:`~deepchem_finetune.benchmark.report.write_report` takes.

    Raises
    ------
    FileNotFoundError
        Naming a source that is neither a folder with ``results.csv`` nor a file.

    Examples
    --------
    >>> df = merge_results(["benchmarks/out/a", "benchmarks/out/b/results.csv"])  # doctest: +SKIP
    """
    frames = []
    for src in sources:
        path = os.path.join(src, "results.csv") if os.path.isdir(src) else src
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} not found: give benchmark out folders or results.csv files")
        frames.append(pd.read_csv(path))
    df = pd.concat(frames, ignore_index=True)
    dup = df.duplicated(KEY, keep="last")
    if dup.any():
        logger.warning("%d cell(s) appear in several sources; keeping the last one of each", int(dup.sum()))
    return df[~dup].reset_index(drop=True)


def _cell_folder(cell: Dict) -> str:
    """A file-system-safe folder name that is unique per cell."""
    key = "|".join(_key(cell))
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{cell['dataset']}_{cell['model']}_s{cell['seed']}")[-80:]
    return f"{readable}_{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _key(row: Dict) -> tuple:
    return tuple(str(row[k]) for k in KEY)


def _read_rows(csv: str) -> List[Dict]:
    return pd.read_csv(csv).to_dict("records") if os.path.exists(csv) else []


def _append_row(csv: str, row: Dict) -> None:
    """Add one result row to ``csv`` under an exclusive cross-process lock, re-reading it first and replacing
    it atomically, so several benchmark processes (e.g. one per core) can share one ``out_dir``."""
    with storage.lock(csv):
        rows = [r for r in _read_rows(csv) if _key(r) != _key(row)] + [row]
        with storage.atomic_file(csv, newline="") as fh:
            pd.DataFrame(rows).to_csv(fh, index=False)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _save_split(out_dir, cell, parts):
    name = cell["dataset"].replace(":", "_")
    path = os.path.join(out_dir, "splits", f"{name}_{cell['split']}_seed{cell['seed']}.json")
    if not os.path.exists(path):
        ids = {k: list(map(str, d.ids)) for k, d in zip(("train", "valid", "test"), parts)}
        storage.atomic_write_json(path, ids)
