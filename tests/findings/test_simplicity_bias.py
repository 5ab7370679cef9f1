"""Simplicity bias on scored profiles: statistics, sets, cached sweep, and the pythia profile end to end."""

import json

import numpy as np

from pythia_repro.findings import simplicity_bias as sb
from pythia_repro.report import curves


def test_sets_come_from_the_training_statistics(tiny):
    from pythia_repro.suites import get_suite

    suite = get_suite("micro")
    sets = sb.make_sets(suite, 8, seed=3, progress=False)
    assert sets.tokens.shape == (24, 65) and list(np.unique(sets.labels)) == ["bigram", "heldout", "unigram"]
    bigram_rows = sets.tokens[sets.rows("bigram")]
    pairs = zip(bigram_rows[:, :-1].ravel(), bigram_rows[:, 1:].ravel())
    assert all(sets.cond[a, b] > 0 or sets.cond[a].nnz == 0 for a, b in pairs), "only pairs seen in training"
    again = sb.make_sets(suite, 8, seed=3, progress=False)
    assert again.identity == sets.identity and np.array_equal(again.tokens, sets.tokens)
    assert sb.make_sets(suite, 8, seed=4, progress=False).identity != sets.identity


def test_scored_curves_are_cached_and_shaped_like_the_published_ones(tiny):
    first = sb.score_suite("micro", n_sequences=8, progress=False)
    assert len(first.report.scored) == 5 * 8 and not first.report.cached  # four sizes and a second micro-xs seed
    second = sb.score_suite("micro", n_sequences=8, progress=False)
    assert not second.report.scored and not second.report.loaded
    losses = sb.scored_losses(first)
    assert {"model", "variant", "order", "step", "loss", "loss_ci95_low", "loss_ci95_high"} <= set(losses.columns)
    assert (losses.loss_ci95_low <= losses.loss).all() and (losses.loss <= losses.loss_ci95_high).all()
    runs = losses.groupby("model", observed=True).variant.unique().map(sorted).to_dict()
    assert runs["micro-xs"] == ["main", "seed1"] and runs["micro-l"] == ["main"]
    assert sb.early_section_end(first.suite) == 4
    summary = sb.curve_summary(losses, first.per_row)
    assert len(summary) == 5 * 3 and (summary.noise_method == curves.PAIRED_BOOTSTRAP).all()
    assert summary.equals(sb.curve_summary(losses, first.per_row)), "seeded by the curve: same table every time"
    div = sb.divergences(first)
    assert sorted(div.model) == sorted(["micro-xs", "micro-s", "micro-m", "micro-l"] * len(first.steps))
    assert (div.kl_bigram >= 0).all() and (div.js_bigram <= np.log(2) + 1e-6).all()
    assert set(first.positions.step) == {32} and first.positions.position.max() == 64


def test_pythia_early_section_ends_at_512():
    from pythia_repro.suites import get_suite

    assert sb.early_section_end(get_suite("pythia")) == 512


def test_pythia_profile_runs_end_to_end_on_a_fake_hub_and_pile(project, fake_pythia, monkeypatch):
    from pythia_repro.data.tokens import write_mmap
    from pythia_repro.run import reproduce

    heldout = np.random.default_rng(5).integers(1, 64, (8, 2049), dtype=np.uint16)
    write_mmap(fake_pythia / "val" / "document", heldout)
    monkeypatch.setenv("PYTHIA_REPRO_HELDOUT", str(fake_pythia / "val" / "document"))
    params = {
        "models": ["pythia-70m", "pythia-160m"],
        "steps": [1, 2, 143000],
        "n_sequences": 4,
        "max_rows": 48,
        "batch_size": 4,
    }
    folder = reproduce("simplicity_bias", "pythia", params)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {
        "losses.csv",
        "curve_summary.csv",
        "divergences.csv",
        "position_loss.csv",
        "claims.csv",
        "comparison_bigram.png",
        "loss_bits_per_byte.png",
    } <= set(manifest["outputs"])
    assert any(i["kind"] == "ngram_sets" for i in manifest["inputs"])
