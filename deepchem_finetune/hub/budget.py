"""Pretraining budget of a pretrained backbone, read from its own provenance: training minutes, molecules (or
sequences) seen and steps over all its resumed runs and the stages it was ``--init``'ed from.

The budget is what the provenance says: training time summed over the run and the runs it ``--resume``d
(featurization excluded where recorded) and over the data-parallel processes of each run (``processes``: core-minutes
for processes of one core each), molecules seen, steps. Nothing is entered by hand, so a gain-vs-budget curve
is as honest as the pretrained backbones behind it.
"""
from __future__ import annotations

from typing import Dict

__all__ = ["pretraining_budget", "minutes_text"]


def pretraining_budget(provenance: Dict) -> Dict:
    """Training minutes, molecules seen and steps of a pretrained backbone, over all its (resumed) runs and the
    pretraining stages it started from (``parent``: ``pretrain --init``, e.g. a run continued in a later session from
    a committed artifact, or a chained recipe; imported weights record no budget and add none).

    A run killed before it wrote its provenance (e.g. at the end of a session) leaves steps in the checkpoints that the
    next ``--resume`` continues. Their time is known when the checkpoints carried the training clock (``clock`` in the
    provenance: the seconds of every step from ``from_step`` on, killed runs included); before the clock, such
    steps are *untimed* and the minutes undercount.

    Parameters
    ----------
    provenance: dict
        A pretrained backbone's ``provenance`` (see :func:`deepchem_finetune.pretraining.pretrain`).

    Returns
    -------
    dict
        ``minutes`` (training time times the run's data-parallel ``processes``: core-minutes when each process
        trains on one core, GPU-minutes with one GPU each; ``None`` when not recorded), ``wall_minutes`` (the same
        without the factor), ``minutes_exact``, ``inexact`` (why not:
        ``untimed`` steps, so the minutes undercount; ``featurization``, a run that recorded only its total time;
        ``rewound``, recorded time of steps a later resume discarded: both overcount), ``untimed_steps``,
        ``molecules_seen``, ``steps``, ``runs``.

    Examples
    --------
    >>> b = pretraining_budget({"training_seconds": 600.0, "seconds": 700.0, "molecules_seen": 1280, "steps": 10})
    >>> b["minutes"], b["minutes_exact"], b["molecules_seen"], b["runs"]
    (10.0, True, 1280, 1)
    >>> first = {"training_seconds": 600.0, "molecules_seen": 1280, "steps": 10}
    >>> pretraining_budget({"training_seconds": 300.0, "molecules_seen": 640, "steps": 5, "parent": first})["minutes"]
    15.0
    >>> killed = {"training_seconds": 60.0, "steps": 10, "resumed_from_step": 0}  # then a run killed at step 30
    >>> last = {"training_seconds": 60.0, "steps": 40, "resumed_from_step": 30, "previous_runs": [killed]}
    >>> pretraining_budget(last)["untimed_steps"], pretraining_budget(last)["inexact"]
    (20, ['untimed'])
    >>> pretraining_budget({**last, "clock": {"from_step": 10, "seconds": 240.0}})["minutes"]  # 60 s + the clock's
    5.0
    >>> ddp = pretraining_budget({"training_seconds": 600.0, "processes": 2, "molecules_seen": 2560, "steps": 10})
    >>> ddp["minutes"], ddp["wall_minutes"]  # two processes for 10 minutes
    (20.0, 10.0)
    """
    parent = provenance.get("parent")
    before = pretraining_budget(parent) if isinstance(parent, dict) and parent.get("steps") else None
    runs = list(provenance.get("previous_runs") or []) + [provenance]
    clock = provenance.get("clock") or {}
    clocked = clock.get("from_step") is not None and clock.get("seconds") is not None
    # with a clock, the runs before it are those that started before its first step (the clock times the rest)
    timed = [r for r in runs if int(r.get("resumed_from_step") or 0) < int(clock["from_step"])] if clocked else runs
    seconds, wall, reasons = 0.0, 0.0, []
    for run in timed:
        value = run.get("training_seconds")
        if value is None:
            value = run.get("seconds")
            reasons.append("featurization")
        if value is None:
            return {"minutes": None, "wall_minutes": None, "minutes_exact": False, "inexact": ["not recorded"],
                    "untimed_steps": None, "molecules_seen": None, "steps": provenance.get("steps"), "runs": len(runs)}
        seconds, wall = seconds + float(value) * _processes(run), wall + float(value)
    untimed, rewound = _gaps(timed, int(clock["from_step"]) if clocked else None)
    if clocked:  # a rewind after the clock started is already out of it
        last = _processes(provenance)
        seconds, wall = seconds + float(clock["seconds"]) * last, wall + float(clock["seconds"])
        # the clock's seconds count once per run, whatever its processes: a finished run in it with another number
        # of processes than the last corrects its share (a killed run, or a previous run whose entry predates the
        # field, records none: taken as the last run's)
        before_clock = {id(r) for r in timed}
        for run in runs:
            if id(run) not in before_clock and None not in (run.get("training_seconds"), run.get("processes")):
                seconds += float(run["training_seconds"]) * (_processes(run) - last)
    elif provenance.get("rewound_steps"):
        rewound = True
    reasons += (["untimed"] if untimed else []) + (["rewound"] if rewound else [])
    molecules = provenance.get("molecules_seen_total", provenance.get("molecules_seen"))
    out = {"minutes": round(seconds / 60, 1), "wall_minutes": round(wall / 60, 1), "minutes_exact": not reasons,
           "inexact": sorted(set(reasons)), "untimed_steps": untimed, "molecules_seen": molecules,
           "steps": provenance.get("steps"), "runs": len(runs)}
    if before is not None:  # the stages it was --init'ed from: their steps, time and molecules count too
        out = {"minutes": None if before["minutes"] is None else round(out["minutes"] + before["minutes"], 1),
               "wall_minutes": None if before["wall_minutes"] is None
               else round(out["wall_minutes"] + before["wall_minutes"], 1),
               "minutes_exact": out["minutes_exact"] and before["minutes_exact"],
               "inexact": sorted(set(out["inexact"]) | set(before["inexact"])),
               "untimed_steps": None if before["untimed_steps"] is None else untimed + before["untimed_steps"],
               "molecules_seen": None if molecules is None or before["molecules_seen"] is None
               else molecules + before["molecules_seen"],
               "steps": None if out["steps"] is None or before["steps"] is None else out["steps"] + before["steps"],
               "runs": out["runs"] + before["runs"]}
    return out


def _processes(run) -> int:
    """Data-parallel processes of a run (1 for runs that predate the field)."""
    return int(run.get("processes") or 1)


def _gaps(runs, until=None):
    """(untimed, rewound): steps between one run's end and the next one's resumed step (a run killed after a
    checkpoint, which wrote no provenance), up to step ``until`` when given; and whether some run started before the
    previous one's end, or ran past ``until`` (its recorded time then counts steps that are not in the weights, or
    that the clock counts too). A run that does not record its resumed step is taken to continue the previous one."""
    untimed, rewound, position = 0, False, 0
    for run in runs:
        start = run.get("resumed_from_step")
        start = position if start is None else int(start)
        untimed += max(start - position, 0)
        rewound = rewound or start < position
        position = int(run.get("steps") or position)
    if until is not None:
        untimed += max(until - position, 0)
        rewound = rewound or position > until
    return untimed, rewound


def minutes_text(budget: Dict, unit: str = "") -> str:
    """The training minutes of a :func:`pretraining_budget` (followed by ``unit``), saying when and why they are not
    exact.

    Examples
    --------
    >>> minutes_text({"minutes": 129.3, "minutes_exact": False, "inexact": ["untimed"], "untimed_steps": 607})
    '129.3 (lower bound: 607 steps untimed)'
    >>> minutes_text({"minutes": 30.0, "minutes_exact": True, "inexact": [], "untimed_steps": 0}, " training min")
    '30.0 training min'
    """
    if budget.get("minutes") is None:
        return "—"
    text = f"{budget['minutes']:.1f}{unit}"
    if budget.get("minutes_exact"):
        return text
    words = {"untimed": f"lower bound: {int(budget.get('untimed_steps') or 0):,} steps untimed",
             "featurization": "includes featurization", "rewound": "includes time of steps a resume discarded"}
    reasons = [words.get(r, r) for r in budget.get("inexact") or []] or ["not exact"]
    return f"{text} ({'; '.join(reasons)})"
