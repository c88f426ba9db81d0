"""Pretraining budget of a pretrained backbone, read from its own provenance: training minutes, molecules (or
sequences) seen and steps over all its resumed runs and the stages it was ``--init``'ed from.

The budget is what the provenance says: training wall time summed over the run and the runs it ``--resume``d
(featurization excluded where recorded), molecules seen, steps. Nothing is entered by hand, so a gain-vs-budget curve
is as honest as the pretrained backbones behind it.
"""
from __future__ import annotations

from typing import Dict

__all__ = ["pretraining_budget", "minutes_text"]


def pretraining_budget(provenance: Dict) -> Dict:
    """Training minutes, molecules seen and steps of a pretrained backbone, over all its (resumed) runs and the
    pretraining stages it started from (``parent``: ``pretrain --init``, e.g. a run continued in a later session from
    a committed artifact, or a chained recipe).

    A run killed before it wrote its provenance (e.g. at the end of a session) leaves steps in the checkpoints that the
    next ``--resume`` continues. Their time is known when the checkpoints carried the training clock (``clock`` in the
    provenance: the seconds of every step from ``from_step`` on, killed runs included); before the clock, such
    steps are *untimed* and the minutes are a lower bound.

    Parameters
    ----------
    provenance: dict
        A pretrained backbone's ``provenance`` (see :func:`deepchem_finetune.pretraining.pretrain`).

    Returns
    -------
    dict
        ``minutes`` (training wall time; ``None`` when not recorded), ``minutes_exact`` (False when a run recorded
        only its total time, featurization included, when some steps are untimed, or when a run resumed from an
        older checkpoint than the last run's end so recorded time of lost steps is counted), ``untimed_steps``,
        ``molecules_seen``, ``steps``, ``runs``.

    Examples
    --------
    >>> pretraining_budget({"training_seconds": 600.0, "seconds": 700.0, "molecules_seen": 1280, "steps": 10})
    {'minutes': 10.0, 'minutes_exact': True, 'untimed_steps': 0, 'molecules_seen': 1280, 'steps': 10, 'runs': 1}
    >>> first = {"training_seconds": 600.0, "molecules_seen": 1280, "steps": 10}
    >>> pretraining_budget({"training_seconds": 300.0, "molecules_seen": 640, "steps": 5, "parent": first})["minutes"]
    15.0
    >>> killed = {"training_seconds": 60.0, "steps": 10, "resumed_from_step": 0}  # then a run killed at step 30
    >>> last = {"training_seconds": 60.0, "steps": 40, "resumed_from_step": 30, "previous_runs": [killed]}
    >>> pretraining_budget(last)["untimed_steps"], pretraining_budget({**last, "clock": {"from_step": 10,
    ...                                                                                   "seconds": 240.0}})["minutes"]
    (20, 5.0)
    """
    parent = provenance.get("parent")
    before = pretraining_budget(parent) if isinstance(parent, dict) and parent.get("steps") else None
    runs = list(provenance.get("previous_runs") or []) + [provenance]
    clock = provenance.get("clock") or {}
    timed = runs
    if clock.get("from_step") is not None and clock.get("seconds") is not None:  # the clock times its steps
        timed = [r for r in runs[:-1] if (r.get("steps") or 0) <= int(clock["from_step"])]
    seconds, exact = 0.0, True
    for run in timed:
        value = run.get("training_seconds")
        if value is None:
            value, exact = run.get("seconds"), False
        if value is None:
            return {"minutes": None, "minutes_exact": False, "untimed_steps": None, "molecules_seen": None,
                    "steps": provenance.get("steps"), "runs": len(runs)}
        seconds += float(value)
    untimed, rewound = _gaps(timed, None if timed is runs else int(clock["from_step"]))
    if timed is not runs:
        seconds += float(clock["seconds"])
    if untimed or rewound or provenance.get("rewound_steps"):
        exact = False  # steps without a recorded time, or recorded time of steps not in the weights
    molecules = provenance.get("molecules_seen_total", provenance.get("molecules_seen"))
    out = {"minutes": round(seconds / 60, 1), "minutes_exact": exact, "untimed_steps": untimed,
           "molecules_seen": molecules, "steps": provenance.get("steps"), "runs": len(runs)}
    if before is not None:  # the stages it was --init'ed from: their steps, time and molecules count too
        out = {"minutes": None if before["minutes"] is None else round(out["minutes"] + before["minutes"], 1),
               "minutes_exact": exact and before["minutes_exact"],
               "untimed_steps": None if before["untimed_steps"] is None else untimed + before["untimed_steps"],
               "molecules_seen": None if molecules is None or before["molecules_seen"] is None
               else molecules + before["molecules_seen"],
               "steps": None if out["steps"] is None or before["steps"] is None else out["steps"] + before["steps"],
               "runs": out["runs"] + before["runs"]}
    return out


def _gaps(runs, until=None):
    """(untimed, rewound): steps between one run's end and the next one's resumed step (a run killed after a
    checkpoint, which wrote no provenance), up to step ``until`` when given; and whether some run resumed from before
    the previous one's end. A run that does not record its resumed step is taken to continue the previous one."""
    untimed, rewound, position = 0, False, 0
    for run in runs:
        start = run.get("resumed_from_step")
        start = position if start is None else int(start)
        untimed += max(start - position, 0)
        rewound = rewound or start < position
        position = int(run.get("steps") or position)
    if until is not None:
        untimed += max(until - position, 0)
    return untimed, rewound


def minutes_text(budget: Dict, unit: str = "") -> str:
    """The training minutes of a :func:`pretraining_budget` (followed by ``unit``), saying when and why they are a
    lower bound.

    Examples
    --------
    >>> minutes_text({"minutes": 129.3, "minutes_exact": False, "untimed_steps": 607})
    '129.3 (lower bound: 607 steps untimed)'
    >>> minutes_text({"minutes": 30.0, "minutes_exact": True, "untimed_steps": 0}, " training min")
    '30.0 training min'
    """
    if budget.get("minutes") is None:
        return "—"
    text = f"{budget['minutes']:.1f}{unit}"
    if budget.get("minutes_exact"):
        return text
    untimed = budget.get("untimed_steps")
    return text + (f" (lower bound: {int(untimed):,} steps untimed)" if untimed else " (lower bound)")
