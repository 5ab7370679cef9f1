"""Claims: each paper statement is tested on numbers, and each test is shown to fail on a table built to fail it."""

import numpy as np
import pandas as pd
import pytest

from pythia_repro.findings import memorization as mem
from pythia_repro.findings import simplicity_bias as sb
from pythia_repro.findings import term_frequency as tf
from pythia_repro.report import claims as C
from pythia_repro.report import intervals


def by_id(found):
    return {c.id: c for c in found}


# -- intervals --------------------------------------------------------------------------------------


def test_wilson_and_newcombe_match_their_textbook_values():
    low, high = intervals.wilson([81], [263])  # Newcombe (1998), example: 81/263
    assert low[0] == pytest.approx(0.2553, abs=1e-4) and high[0] == pytest.approx(0.3662, abs=1e-4)
    assert np.isnan(intervals.wilson([0], [0])[0][0])
    low, high = intervals.newcombe(56, 70, 48, 80)  # Newcombe (1998), method 10: 0.0524 to 0.3339
    assert low == pytest.approx(0.0524, abs=1e-4) and high == pytest.approx(0.3339, abs=1e-4)


# -- memorization -------------------------------------------------------------------------------------

N = 10_000


def headline_table(smaller, early):
    """A precision/recall table shaped like `precision_recall`: (compute, tp, predicted, target rows) per predictor."""
    rows = []
    for kind, items in (("smaller_model_predicts_largest", smaller), ("checkpoint_predicts_final", early)):
        for i, (compute, tp, predicted, target) in enumerate(items):
            model, step = (f"small-{i}", 10) if kind.startswith("smaller") else ("big", i + 1)
            rows.append(
                {
                    "experiment": kind,
                    "model": model,
                    "params": i + 1,
                    "checkpoint_label": f"step{step}",
                    "step": step,
                    "tp_rows": tp,
                    "predicted_rows": predicted,
                    "target_rows": target,
                    "n_rows": N,
                    "compute_fraction_of_target_final": compute,
                }
            )
    rows.append(
        {
            "experiment": "smaller_model_predicts_largest",
            "model": "big",
            "params": 99,
            "step": 10,
            "checkpoint_label": "step10",
            "tp_rows": 100,
            "predicted_rows": 100,
            "target_rows": 100,
            "n_rows": N,
            "compute_fraction_of_target_final": 1.0,
        }
    )
    df = pd.DataFrame(rows)
    df["precision"] = df.tp_rows / df.predicted_rows
    df["recall"] = df.tp_rows / df.target_rows
    for metric, denominator in mem.METRICS.items():
        df[f"{metric}_ci95_low"], df[f"{metric}_ci95_high"] = intervals.wilson(df.tp_rows, df[denominator])
    return df


SMALLER = [(0.01, 20, 22, 100), (0.1, 60, 66, 100)]


def test_equal_compute_interpolates_in_log_compute_and_never_pairs_out_of_range():
    pr = headline_table(SMALLER, [(10**-1.5, 30, 33, 100), (0.5, 90, 95, 100), (0.005, 10, 11, 100)])
    equal = mem.equal_compute_comparison(mem.headline(pr, "big"))
    recall = equal[equal.metric == "recall"].set_index("checkpoint")
    mid = recall.loc["big @ step1"]
    assert mid.status == "compared" and mid.weight_above == pytest.approx(0.5)
    assert mid.smaller_value == pytest.approx(0.4) and mid.difference == pytest.approx(-0.1)
    assert mid.winner == "smaller model"
    for out in ("big @ step2", "big @ step3"):
        assert recall.loc[out].status.startswith("out of range") and np.isnan(recall.loc[out].smaller_value)


@pytest.mark.parametrize("checkpoint_tp,verdict", [(50, C.REPRODUCED), (30, C.NOT_REPRODUCED)])
def test_equal_compute_recall_claim_follows_the_interpolated_numbers(checkpoint_tp, verdict):
    early = [(10**-1.8, checkpoint_tp, checkpoint_tp, 100), (10**-1.2, checkpoint_tp + 20, checkpoint_tp + 20, 100)]
    found = by_id(mem.claims(headline_table(SMALLER, early), "big"))
    assert found["memorization.equal_compute.recall"].verdict == verdict


def test_equal_compute_claim_is_untestable_without_two_points_in_range():
    found = by_id(mem.claims(headline_table(SMALLER, [(0.5, 90, 95, 100), (0.02, 40, 44, 100)]), "big"))
    assert found["memorization.equal_compute.recall"].verdict == C.NOT_TESTABLE


def test_precision_and_growth_claims_fail_on_tables_built_to_fail():
    good = by_id(mem.claims(headline_table(SMALLER, [(0.2, 60, 62, 100), (0.6, 90, 92, 100)]), "big"))
    assert good["memorization.precise"].verdict == C.REPRODUCED
    assert good["memorization.recall_grows_with_size"].verdict == C.REPRODUCED
    assert good["memorization.recall_grows_with_training"].verdict == C.REPRODUCED
    bad = by_id(
        mem.claims(
            headline_table([(0.01, 60, 120, 100), (0.1, 20, 22, 100)], [(0.2, 60, 62, 100), (0.6, 59, 61, 100)]), "big"
        )
    )
    assert bad["memorization.precise"].verdict == C.NOT_REPRODUCED  # 60/120 = 0.5
    assert bad["memorization.recall_grows_with_size"].verdict == C.NOT_REPRODUCED
    assert bad["memorization.recall_grows_with_training"].verdict == C.NOT_REPRODUCED  # 0.60 → 0.59


def test_poisson_claim_passes_uniform_and_fails_clustered_rows():
    rng = np.random.default_rng(1)
    uniform = rng.random(512 * 64) < 0.02
    clustered = np.zeros(512 * 64, bool)
    clustered[: 512 * 4] = True
    assert mem.poisson_claim(mem.poisson_test(uniform)[1]).verdict == C.REPRODUCED
    assert mem.poisson_claim(mem.poisson_test(clustered)[1]).verdict == C.NOT_REPRODUCED
    assert mem.poisson_claim(None).verdict == C.NOT_TESTABLE


def test_published_memorization_verdicts_follow_the_released_numbers():
    found = by_id(mem.published_claims())
    recall, precision = found["memorization.equal_compute.recall"], found["memorization.equal_compute.precision"]
    assert recall.verdict == C.NOT_REPRODUCED and recall.numbers["smaller_wins"] == 3
    assert recall.numbers["comparable"] == 3, "85M, 105M and 126M lie beyond pythia-6.9b's compute"
    assert precision.verdict == C.REPRODUCED and precision.numbers["checkpoint_wins"] == 2
    table = C.table({"published": list(found.values())})
    assert list(table.columns) == ["profile", "id", "verdict", "statement", "test", "detail", "numbers"]


# -- simplicity bias ----------------------------------------------------------------------------------

STEPS = np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000])


def curve(loss, model="m", variant="main", order="bigram"):
    """A run with per-checkpoint bounds of ±0.02 (as the authors released theirs)."""
    return pd.DataFrame(
        {
            "model": model,
            "variant": variant,
            "order": order,
            "step": STEPS,
            "loss": loss,
            "authors_bound_low": np.asarray(loss) - 0.02,
            "authors_bound_high": np.asarray(loss) + 0.02,
        }
    )


U_THEN_DOWN = [10, 10, 9, 8, 7, 6, 5, 4.5, 4, 4.5, 5, 4.2, 3.8]


def summary_of(curves):
    return sb.curve_summary(pd.concat(curves, ignore_index=True))


def test_simplicity_claims_pass_and_fail_on_built_curves():
    no_descent = [10, 10, 9, 8, 7, 6, 5, 4.5, 4, 4.5, 5, 5.2, 5.3]
    params = {"small": 1, "large": 2}
    good = by_id(sb.claims(summary_of([curve(no_descent, "small"), curve(U_THEN_DOWN, "large")]), params, 512))
    assert [
        good[k].verdict
        for k in ("simplicity_bias.u_shape", "simplicity_bias.early_minimum", "simplicity_bias.second_descent")
    ] == [C.REPRODUCED] * 3
    assert good["simplicity_bias.seeds_agree"].verdict == C.NOT_TESTABLE
    flat = [10, 10, 9, 8, 7, 6, 5, 4.5, 4, 3.9, 3.8, 3.7, 3.6]
    bad = by_id(sb.claims(summary_of([curve(U_THEN_DOWN, "small"), curve(no_descent, "large")]), params, 512))
    assert bad["simplicity_bias.second_descent"].verdict == C.NOT_REPRODUCED
    assert (
        by_id(sb.claims(summary_of([curve(flat, "small"), curve(no_descent, "large")]), params, 512))[
            "simplicity_bias.u_shape"
        ].verdict
        == C.NOT_REPRODUCED
    )
    assert (
        by_id(sb.claims(summary_of([curve(U_THEN_DOWN, "small")]), params, 64))["simplicity_bias.early_minimum"].verdict
        == C.NOT_REPRODUCED
    )


def seed_table(u_shaped, steps, rises):
    """`seed_runs` of three runs with the given shapes, first-minimum steps and rises."""
    return sb.seed_runs(
        pd.DataFrame(
            {
                "model": "m",
                "variant": ["main", "seed1", "seed2"],
                "order": "bigram",
                "u_shaped": u_shaped,
                "second_descent": False,
                "first_min_step": steps,
                "rise": rises,
                "final_loss": [5.0, 5.5, 6.0],
            }
        )
    )


@pytest.mark.parametrize(
    "u_shaped,steps,rises,verdict",
    [
        ([True] * 3, [128, 128, 256], [0.5, 0.6, 0.55], C.REPRODUCED),
        ([True] * 3, [128, 128, 1000], [0.5, 0.6, 0.55], C.NOT_REPRODUCED),
        ([True, True, False], [128, 128, np.nan], [0.5, 0.6, 0.01], C.NOT_REPRODUCED),
        ([True] * 3, [128, 128, 128], [0.05, 2.0, 0.03], C.NOT_REPRODUCED),  # the rise over runs spans 0
    ],
)
def test_seed_claim_fails_when_seeds_disagree(u_shaped, steps, rises, verdict):
    assert sb.seeds_claim(seed_table(u_shaped, steps, rises)).verdict == verdict


# -- term frequency -----------------------------------------------------------------------------------


def gap_table(gaps_by_model_step, ranking="window", shots=16, operation="multiplication"):
    """A gap table: {(model, params, step): (frequent hits, rare hits)} out of 500 instances each."""
    rows = []
    for (model, params, step), (fh, rh) in gaps_by_model_step.items():
        low, high = intervals.newcombe(fh, 500, rh, 500)
        rows.append(
            {
                "model": model,
                "params": params,
                "operation": operation,
                "shots": shots,
                "step": step,
                "gap_points": (fh - rh) / 5,
                "gap_ci95_low": 100 * low,
                "gap_ci95_high": 100 * high,
                "frequent_hits": fh,
                "frequent_n": 500,
                "rare_hits": rh,
                "rare_n": 500,
                "max_gap_points": 100.0,
                "ranking": ranking,
            }
        )
    return pd.DataFrame(rows)


GROWING = {("s", 1, 1): (50, 50), ("s", 1, 2): (60, 50), ("l", 2, 1): (60, 50), ("l", 2, 2): (300, 100)}
SHRINKING = {("s", 1, 1): (50, 50), ("s", 1, 2): (300, 100), ("l", 2, 1): (300, 100), ("l", 2, 2): (52, 50)}


def test_term_frequency_claims_pass_and_fail_on_built_gaps():
    ids = ("term_frequency.gap_positive", "term_frequency.gap_opens", "term_frequency.gap_grows_with_size")
    good = by_id(tf.claims(gap_table(GROWING), "window"))
    assert [good[i].verdict for i in ids] == [C.REPRODUCED] * 3
    bad = by_id(tf.claims(gap_table(SHRINKING), "window"))
    assert [bad[i].verdict for i in ids] == [C.NOT_REPRODUCED] * 3
    proxy = by_id(tf.claims(gap_table(GROWING, "magnitude"), "magnitude", proxy=True))
    assert all(proxy[i].verdict == C.NOT_TESTABLE and "magnitude" in proxy[i].detail for i in ids)


def test_micro_design_targets_are_measured_and_can_fail():
    met = tf.micro_targets(gap_table(GROWING))  # l at step 2: 60% of frequent right, gap 40 points
    assert met.met.all() and len(met) == 5 and met.measured[:2].round(1).tolist() == [60.0, 40.0]
    weak = tf.micro_targets(gap_table({("l", 2, 2): (140, 50)}))  # 28% frequent, gap 18 points, no growth
    assert weak.met.tolist() == [False, False, True, False, False]
    planted = gap_table(SHRINKING, ranking="task")  # the planted counts show no growth with size
    flat = gap_table({("l", 2, 2): (100, 95)}, ranking="task", operation="addition")
    with_control = tf.micro_targets(pd.concat([gap_table(GROWING), planted, flat]))
    assert with_control.met.tolist() == [True] * 5 + [False, True]
    assert "ranked by task" in with_control.target[5] and with_control.measured[6] == 1.0
    steep = gap_table({("l", 2, 2): (300, 100)}, ranking="task", operation="addition")
    assert not tf.micro_targets(pd.concat([gap_table(GROWING), planted, steep])).met.iloc[-1]
    curve = pd.DataFrame(
        {
            "model": "l",
            "kind": ["natural", "natural", "planted"],
            "duplicate_count": [4, 64, 64],
            "memorized_rate": [0.0, 0.25, 1.0],
        }
    )
    pr = pd.DataFrame(
        {
            "experiment": ["checkpoint_predicts_final"] * 3 + ["smaller_model_predicts_largest"] * 2,
            "model": ["s", "l", "l", "s", "l"],
            "step": [4, 4, 8, 8, 8],
            "precision": [1.0, 0.5, 1.0, np.nan, 1.0],
            "recall": [0.2, 1.0, 1.0, 0.0, 1.0],
        }
    )
    targets = mem.micro_targets(pr, curve, "l")  # the last cells of both experiments compare l with itself
    assert targets.measured.tolist() == [0.4, 0.25] and targets.met.tolist() == [True, True]  # 2 of 5: at the bound
    assert mem.micro_targets(pr.assign(recall=1.0), curve, "l").met.tolist() == [False, True]  # 1 of 5 inside
    assert "5 precision/recall cells" in targets.target[0]
    assert mem.micro_targets(pr.assign(recall=0.5), curve.assign(memorized_rate=0.0), "l").met.tolist() == [True, False]


def test_claims_use_the_most_shots_that_fit_and_say_so():
    found = by_id(tf.claims(gap_table(GROWING, shots=4), "window"))
    assert "4-shot (the most that fit; the paper used 16)" in found["term_frequency.gap_positive"].test


def test_control_and_coefficient_claims():
    flat = gap_table({("l", 2, 2): (100, 98)}, "task", operation="addition")
    assert tf.control_claim(flat, 16).verdict == C.REPRODUCED
    assert (
        tf.control_claim(gap_table({("l", 2, 2): (300, 100)}, "task", operation="addition"), 16).verdict
        == C.NOT_REPRODUCED
    )
    glm = pd.DataFrame(
        [
            {
                "operation": "multiplication",
                "shots": 16,
                "term": "lf",
                "coef": 0.5,
                "stderr": 0.1,
                "z": 5.0,
                "p_value": 1e-6,
                "counter": "window",
                "n_instances": 1000,
            }
        ]
    )
    assert tf.coefficient_claim(glm, "multiplication", 16).verdict == C.REPRODUCED
    assert tf.coefficient_claim(glm.assign(coef=-0.5), "multiplication", 16).verdict == C.NOT_REPRODUCED
    assert tf.coefficient_claim(None, "multiplication", 16).verdict == C.NOT_TESTABLE


def test_memorization_claims_on_a_target_alone_are_untestable_not_errors():
    pr = headline_table([], [(0.5, 90, 95, 100)])
    found = by_id(mem.claims(pr, "big"))
    assert found["memorization.recall_grows_with_size"].verdict == C.NOT_TESTABLE
    assert found["memorization.equal_compute.recall"].verdict == C.NOT_TESTABLE
    assert mem.equal_compute_comparison(mem.headline(pr, "big")).status.str.startswith("out of range").all()


def test_a_checkpoint_that_flags_no_row_is_not_compared_on_precision():
    pr = headline_table(SMALLER, [(0.02, 0, 0, 100), (0.05, 40, 41, 100)])
    equal = mem.equal_compute_comparison(mem.headline(pr, "big")).set_index(["checkpoint", "metric"])
    assert equal.loc[("big @ step1", "precision")].status.startswith("not comparable (checkpoint")
    assert equal.loc[("big @ step1", "recall")].status == "compared"
    verdicts = mem.equal_compute_verdicts(equal.reset_index()).set_index("metric")
    assert verdicts.comparable.to_dict() == {"precision": 1, "recall": 2}
