"""Pretraining budget of a pretrained backbone, read from its own provenance: training minutes, molecules (or
sequences) seen and steps over all its resumed runs and the stages it was ``--init``'ed from.

The budget is what the provenance says: training wall time summed over the run and the runs it ``--resume``d
(featurization excluded where recorded), molecules seen, steps. Nothing is entered by hand, so a gain-vs-budget curve
is as honest as the pretrained backbones behind it.
"""
from __future__ import annotations

from typing import Dict

__all__ = ["pretraining_budget"]


def pretraining_budget(provenance: Dict) -> Dict:
    """Training minutes, molecules seen and steps of a pretrained backbone, over all its (resumed) runs and the
    pretraining stages it started from (``parent``: ``pretrain --init``, e.g. a run continued in a later session from
    a committed artifact, or a chained recipe).

    Parameters
    ----------
    provenance: dict
        A pretrained backbone's ``provenance`` (see :func:`deepchem_finetune.pretraining.pretrain`).

    Returns
    -------
    dict
        ``minutes`` (training wall time; ``None`` when not recorded), ``minutes_exact`` (False when a run recorded
        only its total time, featurization included, or when steps of a run killed before it wrote its provenance
        are in the weights: ``unrecorded_steps``, whose time is not counted), ``molecules_seen``, ``steps``,
        ``runs``.

    Examples
    --------
    >>> pretraining_budget({"training_seconds": 600.0, "seconds": 700.0, "molecules_seen": 1280, "steps": 10})
    {'minutes': 10.0, 'minutes_exact': True, 'molecules_seen': 1280, 'steps': 10, 'runs': 1}
    >>> first = {"training_seconds": 600.0, "molecules_seen": 1280, "steps": 10}
    >>> pretraining_budget({"training_seconds": 300.0, "molecules_seen": 640, "steps": 5, "parent": first})["minutes"]
    15.0
    """
    parent = provenance.get("parent")
    before = pretraining_budget(parent) if isinstance(parent, dict) and parent.get("steps") else None
    runs = list(provenance.get("previous_runs") or []) + [provenance]
    seconds, exact = 0.0, True
    for run in runs:
        value = run.get("training_seconds")
        if value is None:
            value, exact = run.get("seconds"), False
        if value is None:
            return {"minutes": None, "minutes_exact": False, "molecules_seen": None,
                    "steps": provenance.get("steps"), "runs": len(runs)}
        seconds += float(value)
    if provenance.get("unrecorded_steps") or provenance.get("rewound_steps"):
        exact = False  # steps without a recorded time, or recorded time of steps not in the weights
    molecules = provenance.get("molecules_seen_total", provenance.get("molecules_seen"))
    out = {"minutes": round(seconds / 60, 1), "minutes_exact": exact, "molecules_seen": molecules,
           "steps": provenance.get("steps"), "runs": len(runs)}
    if before is not None:  # the stages it was --init'ed from: their steps, time and molecules count too
        out = {"minutes": None if before["minutes"] is None else round(out["minutes"] + before["minutes"], 1),
               "minutes_exact": exact and before["minutes_exact"],
               "molecules_seen": None if molecules is None or before["molecules_seen"] is None
               else molecules + before["molecules_seen"],
               "steps": None if out["steps"] is None or before["steps"] is None else out["steps"] + before["steps"],
               "runs": out["runs"] + before["runs"]}
    return out
