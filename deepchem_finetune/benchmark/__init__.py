"""MoleculeNet / FLIP benchmark grid with resumable results, summaries and plots."""
from deepchem_finetune.benchmark.leakage import leaked
from deepchem_finetune.benchmark.runner import merge_results, run_benchmark

__all__ = ["run_benchmark", "merge_results", "leaked"]
