"""Evaluation hygiene: refuse to score a dataset that the pretrained backbone already saw in supervised pretraining,
and count test molecules (by InChIKey) that were in its pretraining corpus.

A pretrained backbone's provenance lists the datasets of every stage (``datasets``, and ``parent`` for earlier stages).
Related sets count too: Tox21's assays are part of ToxCast.
"""
from __future__ import annotations

import os
from typing import Dict, Iterable, List, Optional, Set, Tuple

#: pretraining set -> benchmark sets whose molecules or labels it contains
CONTAINS = {"toxcast": {"toxcast", "tox21"}, "tox21": {"tox21", "toxcast"}}


def pretraining_datasets(provenance: Dict) -> Set[str]:
    """All dataset names in a pretrained backbone's provenance chain (lower case)."""
    names: Set[str] = set()
    while provenance:
        names |= {str(n).lower() for n in provenance.get("datasets", [])}
        provenance = provenance.get("parent") or {}
    return names


def leaked(provenance: Dict, dataset: str) -> List[str]:
    """Pretraining datasets that overlap ``dataset`` (empty when the evaluation is clean).

    Examples
    --------
    >>> leaked({"datasets": ["zinc.smi"], "parent": {"datasets": ["toxcast"]}}, "tox21")
    ['toxcast']
    >>> leaked({"datasets": ["zinc.smi"]}, "bbbp")
    []
    """
    dataset = dataset.lower()
    return sorted(n for n in pretraining_datasets(provenance) if dataset in CONTAINS.get(n, {n}))


# ------------------------------------------------------------------------------------------ molecules
def _corpora(provenance: Dict) -> List[Dict]:
    """The ``data`` entries (name, sha256, limit) of every corpus stage in a provenance chain."""
    found = []
    while provenance:
        data = provenance.get("data")
        if isinstance(data, dict) and data.get("sha256"):
            found.append(data)
        provenance = provenance.get("parent") or {}
    return found


def corpus_search_dirs(data_dir: Optional[str] = None) -> List[str]:
    """Where corpus files are looked for: ``$DEEPCHEM_FINETUNE_CORPUS_DIR`` (``os.pathsep``-separated), then
    ``corpora/`` beside and inside the MoleculeNet data folder (``../shared/data/corpora`` here)."""
    dirs = [d for d in os.environ.get("DEEPCHEM_FINETUNE_CORPUS_DIR", "").split(os.pathsep) if d]
    data_dir = data_dir or os.environ.get("DEEPCHEM_DATA_DIR")
    if data_dir:
        dirs += [os.path.join(os.path.dirname(os.path.normpath(data_dir)), "corpora"), os.path.join(data_dir, "corpora")]
    return dirs


def inchikeys(smiles: Iterable[str]) -> List[str]:
    """InChIKey of each SMILES ('' where RDKit cannot parse it).

    Examples
    --------
    >>> inchikeys(["CCO", "not a smiles"])
    ['LFQSCWFLJHTTHZ-UHFFFAOYSA-N', '']
    """
    from rdkit import Chem
    from deepchem_finetune._compat import rdkit_errors_silenced
    out = []
    with rdkit_errors_silenced():
        for smi in smiles:
            mol = Chem.MolFromSmiles(str(smi))
            out.append(Chem.MolToInchiKey(mol) if mol is not None else "")
    return out


def _corpus_keys(data: Dict, dirs: List[str]) -> Optional[Set[str]]:
    """InChIKeys of a corpus file found in ``dirs`` with the recorded sha256 (cached), or None if not found."""
    from deepchem_finetune import storage
    from deepchem_finetune.data.corpus import read_smiles
    from deepchem_finetune.hub import file_sha256
    from deepchem_finetune.featurizers.molecule import _default_root
    for folder in dirs:
        path = os.path.join(folder, os.path.basename(str(data.get("name", ""))))
        if not os.path.isfile(path) or file_sha256(path) != data["sha256"]:
            continue
        limit = data.get("limit")
        cache = os.path.join(_default_root(), f"inchikeys-{storage.cache_key(sha256=data['sha256'], limit=limit)[:24]}.txt")
        with storage.lock(cache):
            if not os.path.isfile(cache):
                storage.atomic_write_text(cache, "\n".join(sorted(set(inchikeys(read_smiles(path, limit=limit))))))
            with open(cache) as fh:
                return set(fh.read().split())
    return None


def corpus_overlap(provenance: Dict, smiles: Iterable[str], data_dir: Optional[str] = None) -> Tuple[Optional[int], str]:
    """How many of ``smiles`` (by InChIKey) are in the pretraining corpora of a provenance chain.

    Returns ``(count, note)``: the count is None when no corpus of the chain could be checked here (the note says
    why: no corpus recorded, e.g. imported weights, or the file is not found with its recorded sha256); the note
    names the corpora checked otherwise.

    Examples
    --------
    >>> corpus_overlap({"source_repo": "snap-stanford/pretrain-gnns"}, ["CCO"])
    (None, 'no corpus file recorded in the provenance')
    """
    corpora = _corpora(provenance)
    if not corpora:
        return None, "no corpus file recorded in the provenance"
    keys = {k for k in inchikeys(smiles) if k}
    dirs = corpus_search_dirs(data_dir)
    hits, checked, missing = set(), [], []
    for data in corpora:
        corpus = _corpus_keys(data, dirs)
        if corpus is None:
            missing.append(str(data.get("name")))
            continue
        hits |= keys & corpus
        checked.append(str(data.get("name")))
    if not checked:
        return None, f"corpus not found here with its recorded sha256: {', '.join(missing)} (searched {dirs})"
    note = f"checked {', '.join(checked)}" + (f"; not found: {', '.join(missing)}" if missing else "")
    return len(hits), note
