"""Benchmarks, each with a same-run baseline: `python -m bench.<name>` (docs/benchmarks.md)."""
