"""Memorization on scored profiles: cache reuse, resumption, and the pythia profile on a fake hub and Pile."""

import json

import numpy as np
import pytest

from pythia_repro import settings
from pythia_repro.findings import memorization
from pythia_repro.sweep.plan import chunks
from pythia_repro.sweep.score_cache import ScoreCache
from pythia_repro.testing.replica import shard


def test_chunks_are_fixed_by_the_checkpoint():
    assert chunks(10, 100, 4) == [(0, 4), (4, 8), (8, 12)]
    assert chunks(10, 9, 4)[-1] == (8, 9)


def test_rerun_reads_every_score_from_the_cache(tiny):
    first = memorization.score_suite("micro", progress=False)
    assert first.report.scored and not first.report.cached
    assert first.target == "micro-l" and first.steps[-1] == 32
    second = memorization.score_suite("micro", progress=False)
    assert not second.report.scored and not second.report.loaded, "no second scoring pass, no model loaded"
    assert len(second.report.cached) == len(first.report.scored)
    for a, b in ((first.flags, second.flags), (first.finals, second.finals)):
        assert (
            a.sort_values(["model", "row"] + (["step"] if "step" in a else []))
            .reset_index(drop=True)
            .equals(b.sort_values(["model", "row"] + (["step"] if "step" in b else [])).reset_index(drop=True))
        )
    assert len(first.finals) == 4 * 128
    assert not first.finals.duplicated(["model", "row"]).any(), "no row scored twice"


def test_an_interrupted_sweep_resumes_where_it_stopped(tiny, monkeypatch):
    calls = []
    real = memorization.memorization_scores

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(memorization, "memorization_scores", flaky)
    with pytest.raises(KeyboardInterrupt):
        memorization.score_suite("micro", progress=False)
    resumed = memorization.score_suite("micro", progress=False)
    assert len(resumed.report.cached) == 4 and resumed.report.scored
    assert not list(ScoreCache().root.rglob(".*tmp*")), "no half-written cache entry"


def test_scored_tables_have_the_published_shape(tiny):
    scored = memorization.score_suite("micro", progress=False)
    pr = memorization.precision_recall(memorization.scored_confusion(scored), scored.suite, scored.target)
    assert set(pr.experiment) == {"smaller_model_predicts_largest", "checkpoint_predicts_final"}
    final = pr[(pr.step == 32) & (pr.model == "micro-l")]
    assert (final.precision.fillna(1) == 1).all() and (final.recall.fillna(1) == 1).all()
    rates = memorization.memorization_rates(scored)
    assert set(rates.rows_set) == {"common", "all seen"}
    counts, test = memorization.poisson_test(scored.finals[scored.finals.model == "micro-l"].memorized.to_numpy())
    assert test["block_rows"] == 8 and test["blocks"] == 16 and counts.sum() <= 128


def test_poisson_test_detects_clustering():
    rng = np.random.default_rng(0)
    uniform = rng.random(512 * 64) < 0.02
    clustered = np.zeros(512 * 64, bool)
    clustered[: 512 * 4] = rng.random(512 * 4) < 0.3
    assert memorization.poisson_test(uniform)[1]["p_value_two_sided"] > 0.01
    assert memorization.poisson_test(clustered)[1]["p_value_two_sided"] < 1e-6


def test_pythia_profile_runs_end_to_end_on_a_fake_hub_and_pile(project, fake_pythia):
    from pythia_repro.run import reproduce

    params = {"models": ["pythia-70m", "pythia-160m"], "steps": [1, 2], "max_rows": 48, "batch_size": 16}
    folder = reproduce("memorization", "pythia", params)
    manifest = json.loads((folder / "manifest.json").read_text())
    revisions = {(i["model"], i["revision"]) for i in manifest["inputs"] if i["kind"] == "checkpoint"}
    assert ("pythia-160m", "step143000") in revisions and ("pythia-70m", "step1") in revisions
    assert {
        "headline.csv",
        "poisson_test.csv",
        "claims.csv",
        "equal_compute.csv",
        "score_histogram.png",
        "learned_predictor.csv",
        "learned_equal_compute.csv",
        "learned_predictor.png",
    } <= set(manifest["outputs"])
    assert "duplicate_curve.csv" not in manifest["outputs"]
    rates = (folder / "memorization_rates.csv").read_text()
    assert "pythia-160m" in rates and "all seen" in rates


def test_deduplicated_models_read_the_deduplicated_pile_and_nothing_else(fake_pythia, monkeypatch):
    from pythia_repro.data.tokens import data_identity, write_mmap
    from pythia_repro.suites import CheckpointNotFound, get_suite

    deduped = dict(models=["pythia-70m-deduped", "pythia-160m-deduped"], steps=[1, 2], max_rows=48)
    monkeypatch.delenv(settings.variable("pile_deduped"), raising=False)
    with pytest.raises(CheckpointNotFound, match="pythia-deduped suite; set PYTHIA_REPRO_PILE_DEDUPED to"):
        memorization.prepare("pythia-deduped", **deduped)
    with pytest.raises(CheckpointNotFound, match=r"are the pythia-deduped suite \(--profile pythia-deduped\)"):
        memorization.prepare("pythia", **deduped)

    rows = np.random.default_rng(5).integers(1, 64, (48, 2049), dtype=np.uint16)
    write_mmap(fake_pythia / "pile-deduped" / "document", rows)
    shard(fake_pythia / "pile-deduped" / "document", 3)
    monkeypatch.setenv(settings.variable("pile_deduped"), str(fake_pythia / "pile-deduped" / "document"))
    plan = memorization.prepare("pythia-deduped", **deduped)
    np.testing.assert_array_equal(plan.suite.training_rows().rows(0, 48), rows)
    assert plan.task.data == data_identity(plan.suite.data_prefix) != data_identity(get_suite("pythia").data_prefix)
    standard = memorization.prepare("pythia", **{**deduped, "models": ["pythia-70m", "pythia-160m"]})
    assert standard.suite.data_prefix == fake_pythia / "pile" / "document"
    assert standard.task.data == data_identity(get_suite("pythia").data_prefix)


def test_scoring_only_the_final_checkpoint_gives_untestable_claims_not_a_traceback(tiny):
    from pythia_repro.findings import load

    result = load("memorization", "micro", None, steps=[32])
    verdicts = {c.id: c.verdict for c in result.verdicts}
    assert verdicts["memorization.learned_predictor"] == "not testable here"
    assert verdicts["memorization.recall_grows_with_training"] == "not testable here"
