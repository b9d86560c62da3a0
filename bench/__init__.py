"""Benchmarks (reported, never asserted), from the repository root:
`python -m bench.update_overhead`, `python -m bench.update_ab --against main`, ..."""
