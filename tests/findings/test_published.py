"""The published profile's analyses against the numbers quoted in the papers (computed from the files)."""

import pandas as pd
import pytest

from pythia_repro.findings import memorization, simplicity_bias, term_frequency
from pythia_repro.report import intervals
from pythia_repro.report.claims import NOT_REPRODUCED, REPRODUCED
from pythia_repro.suites import get_suite


@pytest.fixture(scope="module")
def pr():
    return memorization.precision_recall(memorization.load_confusion())


def _row(pr, experiment, model, million):
    hit = pr[(pr.experiment == experiment) & (pr.model == model) & (pr.checkpoint_label == f"{million}M")]
    assert len(hit) == 1
    return hit.iloc[0]


@pytest.mark.parametrize(
    "model,precision,recall",
    [
        ("pythia-70m", 0.956, 0.197),
        ("pythia-6.9b", 0.884, 0.795),
    ],
)
def test_smaller_final_model_predicting_12b(pr, model, precision, recall):
    row = _row(pr, "smaller_model_predicts_largest", model, 146)
    assert row.precision == pytest.approx(precision, abs=5e-4)
    assert row.recall == pytest.approx(recall, abs=5e-4)


@pytest.mark.parametrize("million,precision,recall", [(23, 0.918, 0.500), (126, 0.943, 0.916)])
def test_12b_checkpoint_predicting_final(pr, million, precision, recall):
    row = _row(pr, "checkpoint_predicts_final", "pythia-12b", million)
    assert row.precision == pytest.approx(precision, abs=5e-4)
    assert row.recall == pytest.approx(recall, abs=5e-4)


def test_recomputed_metrics_agree_with_released_columns(pr):
    released = memorization.load_confusion()
    merged = pr.merge(released, on=["experiment", "model", "step"], suffixes=("", "_rel"))
    assert len(merged) == 112
    assert (merged.precision - merged.precision_rel).abs().max() < 5.1e-5
    assert (merged.recall - merged.recall_rel).abs().max() < 5.1e-5


def test_checkpoint_labels_map_to_steps_every_20000():
    steps = [memorization.step_for_million_sequences(m) for m in (23, 44, 65, 85, 105, 126, 146)]
    assert steps == [23000, 43000, 63000, 83000, 103000, 123000, 143000]
    with pytest.raises(ValueError):
        memorization.step_for_million_sequences(30)


def test_compute_fraction_is_relative_to_12b_final(pr):
    final = pr[(pr.model == "pythia-12b") & (pr.step == 143000)]
    assert final.compute_fraction_of_target_final.tolist() == [1.0, 1.0]
    row = _row(pr, "smaller_model_predicts_largest", "pythia-70m", 146)
    assert row.compute_fraction_of_target_final == pytest.approx(70_426_624 / 11_846_072_320)


def test_headline_has_both_kinds_without_the_target_itself(pr):
    head = memorization.headline(pr)
    assert set(head.kind) == {memorization.SMALLER, memorization.EARLY}
    assert (head.precision < 1).all() and len(head) == 7 + 6


def test_pythia_parameter_counts():
    suite = get_suite("pythia")
    assert suite.spec("pythia-70m").params == 70_426_624
    assert suite.spec("pythia-12b").params == 11_846_072_320
    assert suite.spec("pythia-1b").train_dtype == "bfloat16"


@pytest.fixture(scope="module")
def losses():
    return simplicity_bias.load_losses()


def test_bigram_loss_u_shape_over_the_whole_curve(losses):
    summary = simplicity_bias.curve_summary(losses)
    main = summary[(summary.variant == "main") & (summary.order == "bigram")].set_index("model")
    assert set(main.index) == {
        "pythia-14m",
        "pythia-70m",
        "pythia-160m",
        "pythia-410m",
        "pythia-1b",
        "pythia-1.4b",
        "pythia-2.8b",
        "pythia-6.9b",
        "pythia-12b",
    }
    assert main.u_shaped.all() and (main.rise > main.rise_threshold).all()
    assert main.loc["pythia-14m"].first_min_step == 1000, "14m rises by 0.54 nats after its step-1000 minimum"
    assert (main.drop(index="pythia-14m").first_min_step == 256).all()
    assert main.noise_method.str.startswith(intervals.AUTHORS_BOUND).all()
    # 410m to 2.8b end 0.06-0.10 nats below their first minimum: inside the authors' bound, so not a descent
    middle = ["pythia-410m", "pythia-1b", "pythia-1.4b", "pythia-2.8b"]
    assert (main.loc[middle].lowest_after_peak < main.loc[middle].first_min_loss).all()
    assert not main.loc[["pythia-70m", "pythia-160m", *middle]].second_descent.any()
    assert main.loc[["pythia-6.9b", "pythia-12b"]].second_descent.all()


def test_the_trigram_series_has_no_u_shape_beyond_its_noise_and_the_claim_turns_with_the_curves(losses):
    summary = simplicity_bias.curve_summary(losses)
    trigram = summary[(summary.variant == "main") & (summary.order == "trigram")]
    assert len(trigram) == 7 and not trigram.u_shaped.any()
    assert (trigram.rise.fillna(0) < 0.11).all(), "the largest rise after a minimum is 0.10 nats, under 0.2 of noise"
    params = simplicity_bias.parameter_counts("published", losses)

    def verdict(table):
        judged = simplicity_bias.claims(table, params, 1000)
        return next(c.verdict for c in judged if c.id == "simplicity_bias.u_shape.trigram")

    assert verdict(summary) == NOT_REPRODUCED
    assert verdict(summary.assign(u_shaped=summary.u_shaped | (summary.order == "trigram"))) == REPRODUCED
    assert "simplicity_bias.u_shape.trigram" not in {
        c.id for c in simplicity_bias.claims(summary[summary.order != "trigram"], params, 1000)
    }, "a profile without the trigram series judges no trigram claim"


def test_released_bounds_are_the_authors_formula(losses):
    from pythia_repro.report.intervals import authors_bound

    low, high = authors_bound(losses.loss, simplicity_bias.AUTHORS_SEQUENCES)
    assert abs(losses.authors_bound_low - low).max() < 1e-6 and abs(losses.authors_bound_high - high).max() < 1e-6


def test_released_kl_disagrees_at_step_zero_and_is_flagged():
    kl = simplicity_bias.released_divergences()
    warmups = kl[(kl.step == 0) & kl.variant.str.startswith("warmup")]
    assert set(warmups.model) == {"pythia-14m", "pythia-70m"} and warmups.bigram_kl_known_defect.all()
    assert warmups.kl_bigram.between(3.28, 3.29).all(), "the warm-up runs' step-0 bigram KL is the defective value"
    start = kl[(kl.step == 0) & (kl.variant == "main")].set_index("model")
    before, after = start[start.bigram_kl_known_defect], start[~start.bigram_kl_known_defect]
    assert set(after.index) == {"pythia-6.9b", "pythia-12b"}
    # Every step-0 model is a random initialization predicting almost uniformly: KL ≈ log V − H(bigram) for all.
    assert (
        before.kl_bigram.max() / before.kl_bigram.min() < 1.01 and after.kl_bigram.max() / after.kl_bigram.min() < 1.05
    )
    assert after.kl_bigram.min() / before.kl_bigram.max() > 1.8, "the two groups disagree by almost a factor of two"


def test_bits_per_byte_and_seed_spread(losses):
    assert (losses.loss_bpb / losses.loss).round(7).eq(0.3650388).all()
    summary = simplicity_bias.curve_summary(losses)
    bands, runs = simplicity_bias.seed_bands(losses), simplicity_bias.seed_runs(summary)
    by = runs.set_index(["model", "order"])
    assert by.n_runs[("pythia-70m", "bigram")] == 10 and by.n_runs[("pythia-410m", "bigram")] == 5
    assert by.u_shaped_runs[("pythia-14m", "bigram")] == 10 and by.u_shaped_runs[("pythia-70m", "bigram")] == 10
    assert (
        by.rise_min[("pythia-14m", "bigram")] > 0.35 and by.final_level_sd_across_runs[("pythia-14m", "bigram")] > 0.3
    )
    assert "pythia-12b" not in set(bands.model)


def test_the_trigram_series_join_the_losses_and_seeds_stay_unigram_and_bigram(losses):
    trigram = losses[losses.order == "trigram"]
    sizes = ["pythia-14m", "pythia-70m", "pythia-160m", "pythia-410m", "pythia-1b", "pythia-1.4b", "pythia-2.8b"]
    assert sorted(set(trigram.model), key=sizes.index) == sizes and set(trigram.variant) == {"main"}
    steps = [1, 2, 4, 8, 16, 256, 1000, 8000, 33000, 66000, 131000, 143000]
    assert all(sorted(g.step) == steps for _, g in trigram.groupby("model", observed=True))
    assert set(simplicity_bias.seed_bands(losses).order) == {"unigram", "bigram"}, "no seeds were released on trigram"


def test_released_positions_take_the_authors_steps_by_block_and_every_size_on_trigram_text():
    from pythia_repro.data.reference import fetch

    positions = simplicity_bias.released_positions()
    twelve = positions[(positions.model == "pythia-12b") & (positions.order == "bigram")]
    assert sorted(set(twelve.step)) == list(simplicity_bias.IN_CONTEXT_STEPS)
    assert (twelve.groupby("step").position.agg(["min", "max"]) == [1, 2048]).all().all(), "1-indexed, 2048 each"
    first = pd.read_csv(fetch("published/simplicity_bias/pythia-12b_1024_steps.csv"))
    later = pd.read_csv(fetch("published/simplicity_bias/pythia-12b_1024_steps_additional.csv"))
    at = twelve.set_index(["step", "position"]).loss
    assert at[16, 1] == first.mean_bigram_loss.iloc[0] and at[8000, 2048] == first.mean_bigram_loss.iloc[-1]
    assert at[33000, 1] == later.mean_bigram_loss.iloc[0] and at[143000, 2048] == later.mean_bigram_loss.iloc[-1]
    trigram = positions[positions.order == "trigram"]
    assert trigram.model.nunique() == 9 and set(trigram.step) >= {0, 256, 143000}


def test_position_files_whose_blocks_are_not_the_authors_steps_are_refused(monkeypatch):
    from pythia_repro.data.reference import ReferenceDataError

    monkeypatch.setattr(simplicity_bias, "IN_CONTEXT_STEPS", simplicity_bias.IN_CONTEXT_STEPS[:-1])
    with pytest.raises(ReferenceDataError, match="8 position blocks, not 7"):
        simplicity_bias.released_positions()


@pytest.fixture(scope="module")
def accuracy():
    return term_frequency.load_accuracy()


def test_mean_accuracy_12b_multiplication_16_shots(accuracy):
    mean = term_frequency.mean_accuracy(accuracy)
    row = mean[
        (mean.model == "pythia-12b-deduped")
        & (mean.operation == "multiplication")
        & (mean.shots == 16)
        & (mean.step == 143000)
    ]
    assert row.mean_acc.item() == pytest.approx(0.448, abs=5e-4)
    assert row.n_operands.item() == 100


def test_accuracy_table_shape_and_names(accuracy):
    assert len(accuracy) == 7 * 6 * 5 * 200
    assert set(accuracy.model) == {f"pythia-{s}-deduped" for s in ("160m", "410m", "1b", "1.4b", "2.8b", "6.9b", "12b")}
    assert sorted(accuracy.step.unique()) == [13000, 39000, 65000, 91000, 117000, 143000]


def test_gap_for_a_ranking_and_its_upper_bound(accuracy, tmp_path):
    best_first = accuracy[
        (accuracy.model == "pythia-12b-deduped")
        & (accuracy.step == 143000)
        & (accuracy.shots == 16)
        & (accuracy.operation == "multiplication")
    ]
    counts = pd.DataFrame({"operand": best_first.x1, "count": best_first.acc.rank(method="first")})
    counts.to_csv(tmp_path / "counts.csv", index=False)
    gaps = term_frequency.frequency_gap(best_first, term_frequency.operand_ranking(tmp_path / "counts.csv"))
    assert gaps.gap_points.item() == pytest.approx(gaps.max_gap_points.item())
    proxy = term_frequency.frequency_gap(best_first, term_frequency.operand_ranking())
    assert proxy.gap_points.item() <= proxy.max_gap_points.item()
    with pytest.raises(ValueError, match="operand"):
        (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
        term_frequency.operand_ranking(tmp_path / "bad.csv")
