"""Generators of the results tables (one function per table), used by benchmarks/make_results.py."""
