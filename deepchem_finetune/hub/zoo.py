"""The model zoo: pretrained artifacts shipped inside the package (``hub/zoo/<name>/``), listed and resolved by name."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, List

from deepchem_finetune.exceptions import PretrainedError
from deepchem_finetune.hub.budget import pretraining_budget

__all__ = ["ZOO_DIR", "zoo_names", "zoo_table", "resolve_source", "imported_ancestor"]

ZOO_DIR = Path(__file__).resolve().parent / "zoo"


def zoo_names() -> List[str]:
    """Names of the pretrained artifacts shipped inside the package.

    Examples
    --------
    >>> "gin_zinc60k_desc30" in zoo_names()
    True
    """
    if not ZOO_DIR.is_dir():
        return []
    return sorted(p.name for p in ZOO_DIR.iterdir() if (p / "config.json").is_file())


def zoo_table() -> List[Dict]:
    """One row per zoo entry: name, size, backbone, objective, where it comes from (``origin``: pretrained here, or
    imported with its source file, sha256 and license, or pretrained here starting from imported weights), what it was
    trained on (``trained_on``: the datasets the leakage checks read), data, steps, the pretraining ``budget`` done
    with this package (:func:`~deepchem_finetune.hub.budget.pretraining_budget`: the stages it started from
    included, on top of imported weights, which record none; None for imported weights), date and the exact
    command."""
    rows = []
    for name in zoo_names():
        folder = ZOO_DIR / name
        cfg = json.loads((folder / "config.json").read_text())
        prov = cfg.get("provenance", {})
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        bb = cfg["backbone"]["config"]
        rows.append({"name": name, "size_mb": size / 1e6,
                     "backbone": (f"{cfg['backbone']['name']} {bb.get('conv')} {bb.get('num_layers')}x"
                                  f"{bb.get('hidden_dim')}" if "num_layers" in bb else
                                  f"{cfg['backbone']['name']} width {bb.get('width')} depth {bb.get('depth')} "
                                  f"({cfg['featurizer']['name']})"),
                     "objective": cfg["objective"]["name"], "data": prov.get("data"), "steps": prov.get("steps"),
                     "origin": _origin(prov), "trained_on": _trained_on(prov),
                     "budget": None if prov.get("imported") else pretraining_budget(prov),
                     "created_utc": prov.get("created_utc"), "command": prov.get("command")})
    return rows


def _origin(prov: Dict) -> str:
    if prov.get("imported"):
        return (f"imported from {prov.get('source_repo')} {prov.get('source_path') or prov.get('source_file')} "
                f"(sha256 {str(prov.get('source_sha256'))[:12]}..., {prov.get('license', 'license not recorded')})")
    here = f"pretrained with deepchem-finetune {prov.get('deepchem_finetune')}"
    start = imported_ancestor(prov)
    return here if start is None else f"{here}, starting from weights {_origin(start)}"


def imported_ancestor(prov: Dict):
    """The provenance of the imported weights a pretrained artifact descends from, or None.

    Parameters
    ----------
    prov: dict
        A pretrained artifact's ``provenance``; its ``parent`` chain (``pretrain --init``) is walked.

    Returns
    -------
    dict or None
        The first imported stage up the chain: its license and citation apply to the artifact too.

    Examples
    --------
    >>> imported_ancestor({"parent": {"steps": 5, "parent": {"imported": True, "license": "MIT"}}})["license"]
    'MIT'
    >>> imported_ancestor({"steps": 5}) is None
    True
    """
    prov = prov.get("parent")
    while isinstance(prov, dict):
        if prov.get("imported"):
            return prov
        prov = prov.get("parent")
    return None


def _trained_on(prov: Dict) -> List[str]:
    """Datasets of the whole provenance chain (the names the leakage checks compare)."""
    names: List[str] = []
    while prov:
        names += [str(n) for n in prov.get("datasets", [])]
        prov = prov.get("parent") or {}
    return names


def resolve_source(source) -> str:
    """Path of a pretrained folder (or foreign ``.pth`` file) given a path or a zoo name.

    Raises
    ------
    PretrainedError
        Neither a path nor a zoo name; the message lists the zoo.
    """
    path = Path(os.fspath(source)).expanduser()
    if path.exists():
        return str(path)
    if str(source) in zoo_names():
        return str(ZOO_DIR / str(source))
    raise PretrainedError(f"{source!r} is neither an existing pretrained path nor a zoo name; "
                          f"zoo: {zoo_names() or '(empty)'}")
