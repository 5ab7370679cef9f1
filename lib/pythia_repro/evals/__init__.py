"""Evaluation data made or read for the findings: arithmetic tasks, the gender-bias test sets, n-gram counts,
term counts over the training data, and the image evaluation sets."""
