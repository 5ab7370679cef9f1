"""Term frequency, scored profiles: answers per checkpoint, operand counts, gap and GLM; cached and resumable."""

import json

import numpy as np
import pandas as pd
import pytest

from pythia_repro.findings import term_frequency as tf

SMALL = dict(models=["micro-xs", "micro-l"], steps=[8, 32], shots=[0, 1], operands=[3, 17, 42, 60], progress=False)


def test_micro_scores_are_cached_and_shaped_like_the_published_table(tiny):
    scored = tf.score_suite("micro", **SMALL)
    assert scored.steps == [8, 32] and tf.eval_steps(scored.suite)[-1] == scored.suite.final_step
    second = scored.suite.default("term_frequency", "second_operands")
    assert len(second) == 10 and len(scored.per_instance) == 2 * 2 * 2 * (2 * 4 * len(second))
    assert set(scored.per_instance.x2) == set(second)
    again = tf.score_suite("micro", **SMALL)
    assert again.report.scored == [] and again.report.loaded == []
    pd.testing.assert_frame_equal(again.per_instance, scored.per_instance)
    acc = tf.scored_accuracy(scored)
    assert set(acc.columns) >= {"model", "params", "step", "operation", "x1", "shots", "acc", "acc_stderr"}
    assert (acc.n == len(second)).all()
    authors = tf.score_suite(
        "micro",
        **{**SMALL, "models": ["micro-xs"], "steps": [32], "shots": [1]},
        second_operands=list(range(1, 51)),
        examples="per_instance",
    )
    assert len(authors.per_instance) == 2 * 4 * 50, "a parameter overrides the suite's grid"


def test_prompts_longer_than_the_context_are_left_out_and_named(tiny):
    scored = tf.score_suite("micro", models=["micro-xs"], steps=[32], shots=[0, 16], operands=[5], progress=False)
    assert scored.shots == [0] and scored.dropped_shots == [16]
    with pytest.raises(ValueError, match="context"):
        tf.score_suite("micro", models=["micro-xs"], steps=[32], shots=[16], operands=[5], progress=False)


def test_operand_counts_gap_and_glm_on_the_micro_suite(tiny):
    acc, scored, freq = tf.accuracy_for("micro", **SMALL)
    assert set(freq.columns) == {"step", "x1", "window", "occurrence", "times", "plus"}
    final = freq[freq.step == scored.steps[-1]]
    assert final.times.sum() > 0 and final.plus.sum() > 0 and (final.window <= final.occurrence * 10).all()
    first = freq[freq.step == scored.steps[0]].set_index("x1")
    assert (final.set_index("x1")[["window", "times"]] >= first[["window", "times"]]).all().all()
    gaps = tf.gaps_by_ranking(acc, tf.rankings(freq, "micro"), k=2)
    assert set(gaps.ranking) == {"window", "occurrence", "task"}
    assert (gaps.gap_points <= gaps.max_gap_points + 1e-9).all()
    glm = tf.frequency_glm(acc, freq)
    assert set(glm.operation) <= {"multiplication", "addition"} and "term" in glm


def test_frequency_gap_follows_a_per_step_ranking():
    acc = tf.with_wilson(
        pd.DataFrame(
            {
                "model": "m",
                "params": 1,
                "operation": "multiplication",
                "shots": 0,
                "step": np.repeat([1, 2], 4),
                "x1": [0, 1, 2, 3] * 2,
                "n": 50,
                "acc": [1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0],
            }
        )
    )
    ranking = pd.DataFrame({"step": np.repeat([1, 2], 4), "x1": [0, 1, 2, 3] * 2, "score": [9, 8, 1, 0, 0, 1, 8, 9]})
    gaps = tf.frequency_gap(acc, ranking, k=2)
    assert list(gaps.gap_points) == [100.0, -100.0]
    assert list(gaps.max_gap_points) == [100.0, 100.0]
    assert gaps.gap_ci95_low[0] > 90 and gaps.gap_ci95_high[1] < -90 and (gaps.frequent_n == 100).all()


def test_pythia_profile_runs_end_to_end_on_a_fake_hub_and_pile(project, make_fake_pythia):
    from pythia_repro.run import reproduce
    from pythia_repro.suites import get_suite, load_tokenizer

    tok = load_tokenizer(get_suite("pythia"))
    ids = tok("she had 3 cats and 7 dogs, then 42 birds. " * 1500)["input_ids"][: 8 * 2049]
    make_fake_pythia(vocab=50304, rows=np.array(ids, dtype=np.uint16).reshape(8, 2049))
    params = {
        "models": ["pythia-70m", "pythia-160m"],
        "steps": [1, 2],
        "shots": [0, 2],
        "operands": [3, 7],
        "max_rows": 8,
        "batch_size": 64,
    }
    folder = reproduce("term_frequency", "pythia", params)
    manifest = json.loads((folder / "manifest.json").read_text())
    revisions = {(i["model"], i["revision"]) for i in manifest["inputs"] if i["kind"] == "checkpoint"}
    assert revisions == {(m, f"step{s}") for m in ("pythia-70m", "pythia-160m") for s in (1, 2)}
    counts = pd.read_csv(folder / "operand_counts.csv").set_index(["step", "x1"])
    assert counts.loc[(2, 3), "window"] > 0 and counts.loc[(2, 42), "window"] > 0 and counts.loc[(2, 5), "window"] == 0
    assert counts.loc[(1, 3), "window"] > 0  # step 1 has seen rows [0, 1024), capped at the 8 rows present
    accuracy = pd.read_csv(folder / "accuracy.csv")
    assert set(accuracy.model) == {"pythia-70m", "pythia-160m"} and set(accuracy.shots) == {0, 2}
    assert {
        "frequency_gap.csv",
        "glm.csv",
        "gap_multiplication.png",
        "claims.csv",
        "accuracy_vs_frequency_by_checkpoint.png",
    } <= set(manifest["outputs"])
    assert manifest["table_notes"]["accuracy"]["acc_ci95_low"].startswith("Wilson")


def test_heatmap_orders_operands_by_frequency_and_fits_its_colour_scale():
    rng = np.random.default_rng(0)
    acc = pd.DataFrame(
        [
            {"model": "m", "shots": 4, "operation": op, "x1": x, "step": step, "acc": rng.uniform(0, 0.17)}
            for op in tf.OPERATIONS
            for x in range(10)
            for step in (100, 20_000)
        ]
    )
    scores = pd.Series(rng.permutation(10), index=range(10), dtype=float)
    fig = tf.heatmap_figure(acc, "m", 4, scores, "most frequent first")
    ax = fig.axes[0]
    shown = [int(t.get_text()) for t in ax.get_yticklabels()]
    assert shown == list(scores.sort_values(ascending=False).index[::5]), "most frequent operand on top"
    colourbar = fig.axes[-1]
    assert colourbar.get_ylabel() == "accuracy (fraction of instances correct)"
    assert colourbar.get_ylim()[1] == pytest.approx(0.2), "scale up to the largest accuracy, rounded up"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["100", "20k"]
    assert "most frequent first" in ax.get_ylabel()


def test_every_saved_figure_says_whose_numbers_it_shows(tmp_path):
    import matplotlib.pyplot as plt

    from pythia_repro.report.plots import source_note
    from pythia_repro.report.results import ResultWriter

    out = ResultWriter(tmp_path, title_note=source_note("published"))
    plain, titled = plt.figure(), plt.figure()
    titled.suptitle("gap")
    out.figure("plain", plain)
    out.figure("titled", titled)
    assert plain.get_suptitle() == "the authors' released data"
    assert titled.get_suptitle() == "gap (the authors' released data)"
    assert (tmp_path / "plain.png").is_file() and (tmp_path / "titled.pdf").is_file()
