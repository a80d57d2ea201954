"""Reproducible benchmarks of the tap and the target against the local sandbox (`make bench`).

Everything here measures; nothing asserts. `python -m bench.run` regenerates BENCHMARKS.md.
"""
