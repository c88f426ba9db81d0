"""Small example CSVs shipped inside the package (the README's quickstart uses them); provenance and licenses in
``PROVENANCE.md`` beside them.

======  ===============  ==============================================================================
name    file             content
======  ===============  ==============================================================================
esol    ``esol.csv``     1128 molecules: ``smiles``, ``logS`` (measured log solubility, mol/L); MIT, DeepChem
gb1     ``gb1_200.csv``  200 GB1 protein variants: ``sequence``, ``fitness``, ``split`` (train/valid/test);
                         FLIP (AFL-3.0) on eLife data (CC BY 4.0)
======  ===============  ==============================================================================
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import List

__all__ = ["EXAMPLES", "names", "path", "copy"]

_HERE = Path(__file__).resolve().parent
#: example name -> (file, what it holds, the finetune options that fit it)
EXAMPLES = {
    "esol": ("esol.csv", "1128 molecules, measured aqueous solubility (logS, log mol/L); MIT (DeepChem)",
             "--smiles-column smiles --target-columns logS"),
    "gb1": ("gb1_200.csv", "200 GB1 protein variants, binding fitness, FLIP split column; AFL-3.0 / CC BY 4.0",
            "--sequence-column sequence --target-columns fitness --split column:split"),
}


def names() -> List[str]:
    """The example names.

    Examples
    --------
    >>> names()
    ['esol', 'gb1']
    """
    return sorted(EXAMPLES)


def path(name: str) -> str:
    """Path of an example CSV inside the installed package (read it, do not write it).

    Examples
    --------
    >>> import pandas as pd
    >>> pd.read_csv(path("esol")).columns.tolist()
    ['smiles', 'logS']
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; examples: {names()}")
    return str(_HERE / EXAMPLES[name][0])


def copy(name: str, dest) -> str:
    """Copy an example CSV to ``dest`` (a file, or a folder to put it in); returns the path written."""
    dest = os.fspath(dest)
    if os.path.isdir(dest):
        dest = os.path.join(dest, EXAMPLES[name][0]) if name in EXAMPLES else dest
    shutil.copyfile(path(name), dest)
    return dest
