"""The learned memorization predictor: exact counts, a leak-free split, the curve readings, and its claim."""

import numpy as np
import pandas as pd
import pytest

from pythia_repro.findings import memorization as mem
from pythia_repro.findings.memorization import predictor as mp
from pythia_repro.report import claims as C


def test_occurrence_counts_match_a_brute_force_count():
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 5, 3000).astype(np.uint16)
    queries = np.stack([stream[i : i + 3] for i in (0, 10, 500)] + [np.array([7, 7, 7], np.uint16)])
    brute = [sum(np.array_equal(stream[j : j + 3], q) for j in range(len(stream) - 2)) for q in queries]
    assert mp.occurrence_counts(stream, queries).tolist() == brute
    assert mp.occurrence_counts(stream, queries, in_memory=100).tolist() == brute, "on-disk index, same counts"
    assert mp.occurrence_counts(np.array([], np.uint16), queries).tolist() == [0] * 4


def test_split_never_puts_one_sequence_in_both_and_balances_the_memorized_rows():
    rng = np.random.default_rng(1)
    windows = rng.integers(0, 50, (400, 4))
    truth = np.zeros(400, bool)
    for first in range(0, 40, 4):  # ten passages, each copied 12 times, first seen early
        windows[first + 1 + 30 * np.arange(1, 12)] = windows[first]
        truth[np.all(windows == windows[first], axis=1)] = True
    fit = mp.split_groups(windows, truth)
    keys = [tuple(w) for w in windows]
    assert not {k for k, f in zip(keys, fit) if f} & {k for k, f in zip(keys, fit) if not f}
    assert 0.3 < truth[fit].sum() / truth.sum() < 0.7, "memorized passages on both sides"
    assert np.array_equal(fit, mp.split_groups(windows, truth)), "seeded"


def test_curve_readings():
    truth = np.array([1, 1, 0, 1, 0, 0], bool)
    perfect = mp.pr_curve(np.array([6, 5, 1, 4, 2, 0.5]), truth)
    assert mp.average_precision(perfect) == pytest.approx(1.0)
    mixed = mp.pr_curve(np.array([6, 5, 4, 3, 2, 1.0]), truth)
    assert mp.average_precision(mixed) == pytest.approx((1 + 1 + 3 / 4) / 3)
    assert mp.operating_point(mixed, precision_at_least=0.75) == {"tp": 3, "predicted": 4, "positives": 3}
    assert mp.operating_point(mixed, recall_at_least=2 / 3) == {"tp": 2, "predicted": 2, "positives": 3}
    assert mp.operating_point(mixed, precision_at_least=1.01)["tp"] == 0


def features_of(x, y, **more):
    n = len(y)
    return mp.Features(
        1,
        pd.DataFrame({"signal": x, "noise": np.random.default_rng(3).normal(size=n), **more}),
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


@pytest.mark.parametrize("share", [1.0, 0.5, 0.1])
def test_the_learned_predictor_reaches_an_input_that_flags_memorized_rows_alone(share):
    """One input's flag is never wrong and finds `share` of the memorized rows (with `share` 1 it separates the
    classes): read at that input's precision, the learned predictor finds at least as many on the held-out rows,
    whatever the other, weaker inputs say."""
    rng = np.random.default_rng(4)
    n = 4000
    y = rng.random(n) < 0.1
    flag = y & (rng.random(n) < share)
    weak = y + rng.normal(0, 1.5, n)  # informative, but ranks some negatives above positives
    feat = features_of(weak, y, memorized_input=flag.astype(float), loss=rng.normal(size=n))
    evaluate = ~feat.fit
    best = pd.Series(
        {
            "predictor": "input",
            "precision": (flag & y)[evaluate].sum() / flag[evaluate].sum(),
            "recall": (flag & y)[evaluate].sum() / y[evaluate].sum(),
        }
    )
    assert best.precision == 1
    curve = mp.pr_curve(mp.fit(feat).probability[evaluate], y[evaluate])
    read = mp.reading(curve, best)
    assert read["precision"] >= best.precision and read["recall"] >= best.recall


def test_the_best_input_is_the_one_with_most_recall_and_nothing_flagged_reads_at_0_9():
    table = pd.DataFrame({"predictor": ["a", "b", "c"], "precision": [1.0, 0.8, np.nan], "recall": [0.2, 0.6, 0.0]})
    assert mp.best_input(table, ("a", "b")).predictor == "b"
    assert mp.best_input(table, ("a", "c")).predictor == "a"
    nothing = mp.best_input(table, ("c",))
    truth = np.array([1, 1, 0, 1, 0, 0], bool)
    read = mp.reading(mp.pr_curve(np.array([6, 5, 4, 3, 2, 1.0]), truth), nothing)
    assert read["read_at_precision"] == mp.PRECISION_TARGET and np.isnan(read["best_input_precision"])
    assert read["recall"] == pytest.approx(2 / 3)


def comparison(learned, best, positives=180):
    """An equal-compute comparison (the columns the claim reads): learned against best threshold recalls, both on
    `positives` held-out rows, with the difference's Newcombe interval in points."""
    rows = pd.DataFrame({"learned_minus_best_points": 100 * (np.array(learned) - np.array(best))})
    bounds = [mp.intervals.newcombe(a * positives, positives, b * positives, positives) for a, b in zip(learned, best)]
    rows["learned_minus_best_ci95_low"] = [100 * low for low, _ in bounds]
    rows["learned_minus_best_ci95_high"] = [100 * high for _, high in bounds]
    return rows


@pytest.mark.parametrize(
    "learned,best,verdict",
    [
        ([0.80, 0.80, 0.70], [0.60, 0.60, 0.71], C.REPRODUCED),  # beyond the interval at 2 of 3
        ([0.80, 0.80, 0.70], [0.60, 0.74, 0.71], C.NOT_REPRODUCED),  # +6 points is inside the noise of 180 rows
        ([0.60, 0.80, 0.70], [0.80, 0.60, 0.63], C.NOT_REPRODUCED),  # the AVX2 build's shape: one clear win
    ],
)
def test_learned_claim_counts_only_wins_beyond_the_noise(learned, best, verdict):
    assert mp.learned_claim(comparison(learned, best)).verdict == verdict
    assert mp.learned_claim(None).verdict == C.NOT_TESTABLE
    assert mp.learned_claim(comparison([0.5], [np.nan]).iloc[:0]).verdict == C.NOT_TESTABLE


def test_learned_predictor_runs_on_the_tiny_suite(tiny):
    scored = mem.score_suite("micro", progress=False)
    assert set(scored.losses.model) == {"micro-xs"} and len(scored.losses) == scored.common_rows
    table, coefficients, calibration = mp.evaluate(scored)
    learned = table[table.kind == mp.LEARNED]
    assert len(learned) == len(scored.steps) - 1 and {mem.SMALLER, mem.EARLY} <= set(table.kind)
    assert (learned.compute_fraction_of_target_final > 0).all() and set(coefficients.step) == set(
        learned.index.map(lambda i: int(learned.predictor[i].rsplit("step", 1)[1]))
    )
    known = learned.dropna(subset=["best_input_recall"])  # the tiny target may memorize nothing
    assert (known.recall >= known.best_input_recall).all(), "never below its best input"
    comparison = mp.equal_compute(table)
    assert len(comparison) == len(learned) and "smaller_status" in comparison
