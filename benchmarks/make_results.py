"""Regenerate every results table of README.md and benchmarks/RESULTS.md from the per-seed CSVs committed under
benchmarks/results/ (never from the ignored benchmarks/out/), and the figures of :data:`FIGURES` beside them.

Usage (from anywhere; `make results` runs it with the venv's python):
    python benchmarks/make_results.py           # rewrite the generated blocks
    python benchmarks/make_results.py --check   # exit 1 (and name the blocks) when a doc differs from its CSVs
                                                # (figures are not compared)

A generated block sits between two marker lines, ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->``; what is
between them is replaced, the prose around them is kept. :data:`BLOCKS` says which generator (one per table, in
``benchmarks/resultgen/``) fills which block of which document; every block it names must be there exactly once.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

import deepchem_finetune  # noqa: E402,F401  (silences DeepChem's import chatter)

from resultgen import (ablation, dna, earlier, features, flagship, hu2020, paired, protein, ranking,  # noqa: E402
                       recipe, throughput, timing)
from resultgen.common import RESULTS_DIR, ResultsError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

#: document -> {block name: generator(results_dir) -> markdown}
BLOCKS: Dict[str, Dict[str, Callable[[Path], str]]] = {
    "README.md": {
        "headline": paired.headline,
        "readme_hu2020": hu2020.readme_hu2020,
        "readme_ablation": ablation.readme_ablation,
        "workflow_timing": timing.workflow_timing,
    },
    "benchmarks/RESULTS.md": {
        "paired_moleculenet": paired.paired_moleculenet,
        "throughput_vs_chemprop": throughput.throughput_vs_chemprop,
        "zoo_gain": earlier.zoo_gain,
        "demo_checkpoint_choice": earlier.demo_checkpoint_choice,
        "hu2020": hu2020.hu2020,
        "hu2020_hiv_runs": hu2020.hu2020_hiv_runs,
        "descriptor_ablation": ablation.descriptor_ablation,
        "descriptor_ablation_budget": ablation.descriptor_ablation_budget,
        "flagship_legs": flagship.flagship_legs,
        "flagship_goals": flagship.flagship_goals,
        "protein_flagship": protein.protein_flagship,
        "rank_validation": ranking.rank_validation,
        "recipe_ensemble": recipe.recipe_ensemble,
        "recipe_ablation": recipe.recipe_ablation,
        "features": features.features,
        "dna": dna.dna,
    },
}

#: figure (a path under the repository root) -> plotter(results_dir, path) -> whether it wrote one; drawn by a
#: writing run only (``--check`` compares the documents' text, not the figures)
FIGURES: Dict[str, Callable[[Path, Path], bool]] = {
    f"{RESULTS_DIR}/{flagship.FIGURE}": flagship.plot_gain_vs_budget,
}

MARKER = re.compile(r"^<!-- (/?)results:([\w-]+) -->[ \t]*$", re.MULTILINE)


class MarkerError(ValueError):
    """A document's markers do not match :data:`BLOCKS` (missing, unclosed, repeated or unknown)."""


def blocks_of(doc: str, text: str) -> Dict[str, tuple]:
    """``name -> (start, end)`` of the text between each pair of markers of ``doc``."""
    found: Dict[str, tuple] = {}
    open_name, open_end = None, 0
    for m in MARKER.finditer(text):
        closing, name = m.group(1) == "/", m.group(2)
        if not closing:
            if open_name is not None:
                raise MarkerError(f"{doc}: <!-- results:{name} --> opens before <!-- /results:{open_name} --> closes")
            if name in found:
                raise MarkerError(f"{doc}: block '{name}' appears twice")
            open_name, open_end = name, m.end()
        elif name != open_name:
            raise MarkerError(f"{doc}: <!-- /results:{name} --> closes a block that was not opened")
        else:
            found[name], open_name = (open_end, m.start()), None
    if open_name is not None:
        raise MarkerError(f"{doc}: <!-- results:{open_name} --> is never closed (add <!-- /results:{open_name} -->)")
    return found


def render(doc: str, text: str, generators: Dict[str, Callable[[Path], str]], results_dir: Path) -> str:
    """``text`` with each generated block replaced by what its generator makes from ``results_dir``."""
    found = blocks_of(doc, text)
    missing = [n for n in generators if n not in found]
    if missing:
        raise MarkerError(f"{doc}: no block for {missing}; put the two lines <!-- results:NAME --> and "
                          f"<!-- /results:NAME --> where each table goes")
    unknown = [n for n in found if n not in generators]
    if unknown:
        raise MarkerError(f"{doc}: blocks {unknown} have no generator in make_results.BLOCKS")
    out, last = [], 0
    for name, (start, end) in sorted(found.items(), key=lambda kv: kv[1][0]):
        out += [text[last:start], "\n\n", generators[name](results_dir).strip(), "\n\n"]
        last = end
    return "".join(out + [text[last:]])


def generate(root: Path = REPO, write: bool = True) -> List[str]:
    """Regenerate the documents under ``root`` from ``root/benchmarks/results``; returns the documents that
    changed (with ``write=False`` nothing is written: the list says which are out of date)."""
    results_dir = Path(root) / RESULTS_DIR
    changed = []
    for doc, generators in BLOCKS.items():
        path = Path(root) / doc
        text = path.read_text()
        new = render(doc, text, generators, results_dir)
        if new != text:
            changed.append(doc)
            if write:
                path.write_text(new)
    return changed


def draw(root: Path = REPO) -> List[str]:
    """Write the figures of :data:`FIGURES` under ``root`` from ``root/benchmarks/results``; returns those written (a
    plotter with nothing to draw writes nothing)."""
    results_dir = Path(root) / RESULTS_DIR
    return [figure for figure, plot in FIGURES.items() if plot(results_dir, Path(root) / figure)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when a document is out of date")
    p.add_argument("--root", type=Path, default=REPO, help="repository root (default: this checkout)")
    args = p.parse_args(argv)
    try:
        changed = generate(args.root, write=not args.check)
        figures = [] if args.check else draw(args.root)
    except ImportError as e:
        print(f"make_results: {e}; the figures need the dev extra (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    except (ResultsError, MarkerError, ValueError) as e:
        print(f"make_results: {e}", file=sys.stderr)
        return 2
    if args.check:
        for doc in changed:
            print(f"{doc} differs from what its committed CSVs generate; run `make results`")
        return 1 if changed else 0
    print("rewrote " + ", ".join(changed) if changed else "nothing to change: the documents match their CSVs")
    if figures:
        print("drew " + ", ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
