"""The learned memorization predictor: exact counts, a leak-free split, the curve readings, and its claim."""

import numpy as np
import pandas as pd
import pytest

from pythia_repro import claims as C
from pythia_repro.findings import memorization as mem
from pythia_repro.findings import memorization_predictor as mp


def test_occurrence_counts_match_a_brute_force_count():
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 5, 3000).astype(np.uint16)
    queries = np.stack([stream[i : i + 3] for i in (0, 10, 500)] + [np.array([7, 7, 7], np.uint16)])
    brute = [sum(np.array_equal(stream[j : j + 3], q) for j in range(len(stream) - 2)) for q in queries]
    assert mp.occurrence_counts(stream, queries).tolist() == brute
    assert mp.occurrence_counts(stream, queries, in_memory=100).tolist() == brute, "on-disk index, same counts"
    assert mp.occurrence_counts(np.array([], np.uint16), queries).tolist() == [0] * 4


def test_split_is_by_blocks_and_never_puts_one_sequence_in_both():
    rng = np.random.default_rng(1)
    windows = rng.integers(0, 50, (80, 4))
    windows[75] = windows[2]  # a copy in the last (evaluation) block of a row in the first (fitting) block
    windows[12] = windows[70]  # a copy in an evaluation block of a row seen later
    fit = mp.split_blocks(windows, blocks=8)
    assert fit[75] and fit[2], "a copy goes with its first occurrence"
    assert fit[12] == fit[70] and not fit[12]
    keys = [tuple(w) for w in windows]
    assert not {k for k, f in zip(keys, fit) if f} & {k for k, f in zip(keys, fit) if not f}
    distinct = np.ones(80, bool)
    distinct[[75, 70]] = False
    assert fit[distinct].tolist() == [(i * 8 // 80) % 2 == 0 for i in np.flatnonzero(distinct)]


def test_curve_readings():
    truth = np.array([1, 1, 0, 1, 0, 0], bool)
    perfect = mp.pr_curve(np.array([6, 5, 1, 4, 2, 0.5]), truth)
    assert mp.average_precision(perfect) == pytest.approx(1.0)
    mixed = mp.pr_curve(np.array([6, 5, 4, 3, 2, 1.0]), truth)
    assert mp.average_precision(mixed) == pytest.approx((1 + 1 + 3 / 4) / 3)
    assert mp.operating_point(mixed, precision_at_least=0.75) == {"tp": 3, "predicted": 4, "positives": 3}
    assert mp.operating_point(mixed, recall_at_least=2 / 3) == {"tp": 2, "predicted": 2, "positives": 3}
    assert mp.operating_point(mixed, precision_at_least=1.01)["tp"] == 0


def features_of(x, y):
    n = len(y)
    return mp.Features(
        1,
        pd.DataFrame({"signal": x, "noise": np.random.default_rng(3).normal(size=n)}),
        y.astype(bool),
        np.arange(n) % 2 == 0,
        0.5,
    )


def test_fit_reports_standard_errors_or_says_the_classes_separate():
    rng = np.random.default_rng(2)
    x = rng.normal(size=4000)
    y = rng.random(4000) < 1 / (1 + np.exp(-2 * x))
    coef = mp.fit(features_of(x, y)).coefficients.set_index("term")
    assert coef.fit.iloc[0] == "maximum likelihood" and coef.coef["signal"] > 1 and coef.stderr["signal"] > 0
    separated = mp.fit(features_of(x, x > 0.5))
    assert separated.coefficients.fit.iloc[0].startswith("ridge") and separated.coefficients.stderr.isna().all()
    assert separated.probability[x > 1.5].min() > separated.probability[x < -0.5].max()


@pytest.mark.parametrize(
    "differences,verdict",
    [([10.0, 5.0, -1.0], C.REPRODUCED), ([-10.0, 5.0, -1.0], C.NOT_REPRODUCED), ([np.nan], C.NOT_TESTABLE)],
)
def test_learned_claim_follows_the_comparison(differences, verdict):
    assert mp.learned_claim(pd.DataFrame({"learned_minus_best_points": differences})).verdict == verdict
    assert mp.learned_claim(None).verdict == C.NOT_TESTABLE


def test_learned_predictor_runs_on_the_tiny_suite(tiny):
    scored = mem.score_suite("micro", progress=False)
    assert set(scored.losses.model) == {"micro-xs"} and len(scored.losses) == scored.common_rows
    table, coefficients, calibration = mp.evaluate(scored)
    learned = table[table.kind == mp.LEARNED]
    assert len(learned) == len(scored.steps) - 1 and {mem.SMALLER, mem.EARLY} <= set(table.kind)
    assert (learned.compute_fraction_of_target_final > 0).all() and set(coefficients.step) == set(
        learned.index.map(lambda i: int(learned.predictor[i].rsplit("step", 1)[1]))
    )
    comparison = mp.equal_compute(table)
    assert len(comparison) == len(learned) and "smaller_status" in comparison
