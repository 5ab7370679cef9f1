"""The version of everything whose output is cached, in one place. Bump one whenever its output changes:
the version is part of the cache key, so old entries are then never read for the new output.

`tests/integrity/test_scorer_versions.py` keeps a fingerprint of each scorer's output on a fixed random model per
version: changing an output under an unchanged version fails there.
"""

MEMORIZATION = "memorization-v1"  # scoring.memorization: greedy-extraction scores and flags
LOSSES = "simplicity-v2"  # scoring.divergence: token losses and n-gram KL/JS (v2: KL summed per distinct
# previous-token row, float32 sums in another order)
FEWSHOT_ANSWERS = "fewshot-answers-v1"  # scoring.answers: few-shot correctness by greedy generation
GENDER_TESTS = "gender-tests-v2"  # findings.gender_bias: sentence log-likelihoods and mean losses (sums of
# scoring.divergence's token losses over each sequence's own tokens); v2: LAMBADA-style passages' target
# log-likelihood and greedy exact match (scoring.continuations)
GENDER_EVALS = "gender-evals-v1"  # findings.gender_bias on released suites: scoring.continuations' target
# log-likelihood and greedy exact match of CrowS-Pairs, WinoBias and LAMBADA
IMAGE_SETS = "image-sets-v1"  # evals.image_sets: the drawn evaluation images (maximum-entropy fits, edits)
IMAGE_SCORES = "image-scores-v1"  # findings.simplicity_bias_images: per-image cross-entropy and predicted class
TERM_COUNTER = 1  # terms: operand counts per block of training rows
