"""Helpers the tests and the benchmarks share; no part of the pipeline."""
