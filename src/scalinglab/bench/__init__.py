"""Benchmarks runnable from the CLI (``scalinglab bench``): SLDBench."""
