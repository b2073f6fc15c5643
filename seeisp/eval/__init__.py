"""Evaluation: the benchmark, LibRaw baselines, metrics and the demo."""
