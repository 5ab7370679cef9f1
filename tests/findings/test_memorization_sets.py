"""The authors' per-sequence memorization results (EleutherAI/pythia-memorized-evals): read at the pinned revision
from a replica laid out as the hub cache leaves it, the figures they make, and what happens without them."""

import numpy as np
import pandas as pd
import pytest

from pythia_repro import cli
from pythia_repro.data import memorized_evals as me
from pythia_repro.findings import load
from pythia_repro.findings import memorization as mem
from pythia_repro.findings.memorization import sets
from pythia_repro.report.claims import NOT_TESTABLE
from pythia_repro.testing.replica import hub_entry, memorized_evals_files, write_memorized_evals


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty hub cache, offline."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hub"


def test_the_card_names_each_split_its_model_step_and_rows_and_sets_aside_unknown_forms():
    card = memorized_evals_files()["README.md"].decode().replace("- name: duped.70m\n", "- name: duped.70m.new\n", 1)
    splits, size, unknown = me.parse_card(card)
    assert unknown == ["duped.70m.new"] and size > 0
    by_name = {s.name: s for s in splits}
    assert by_name["deduped.12b.23000"].model == "pythia-12b-deduped" and by_name["deduped.12b.23000"].step == 23000
    assert by_name["duped.1.4b"].model == "pythia-1.4b" and by_name["duped.1.4b"].rows_evaluated == 143000 * 1024


def test_splits_are_read_from_the_pinned_revision_sorted_and_checked_against_the_card(hub):
    write_memorized_evals(hub)
    found = me.load()
    assert len(found) == 2 * 8 + 6 + 4
    for split, index in found.items():
        assert len(index) == split.examples and (np.diff(index) > 0).all() and index.max() < split.rows_evaluated
    files = memorized_evals_files()
    card = files["README.md"].decode().replace("num_examples: ", "num_examples: 1", 1)  # one split claims more rows
    hub_entry(hub, me.REPO, me.REVISION, {**files, "README.md": card.encode()}, "dataset")
    with pytest.raises(me.MemorizedEvalsMissing, match="incomplete or damaged"):
        me.load()


def test_set_statistics_are_the_textbook_ones():
    a, b = np.array([1, 3, 5, 7]), np.array([3, 5, 8])
    rows = 10
    va, vb = np.isin(np.arange(rows), a), np.isin(np.arange(rows), b)
    assert sets.phi(a, b, rows) == pytest.approx(np.corrcoef(va, vb)[0, 1])
    assert sets.phi(a, b, 6) == pytest.approx(np.corrcoef(va[:6], vb[:6])[0, 1]), "only the rows both saw"
    split = lambda name, step: me.Split(name, "pythia-70m", step, 0)  # noqa: E731
    target, p = split("t", 143000), split("p", 143000)
    pr = sets.precision_recall({target: b, p: a}, target, [p], rows).iloc[0]
    assert (pr.tp_rows, pr.precision, pr.recall) == (2, 0.5, pytest.approx(2 / 3))
    batches = sets.per_batch(split("x", 3), np.array([0, 1023, 1024, 3071]))
    assert batches.tolist() == [2, 1, 1]


def _published(tmp_path):
    """A published memorization run into a results tree; the results folder and the run."""
    results = tmp_path / "results"
    return results, load("memorization", "published", results / "published" / "memorization")


NEEDS_DOWNLOAD = {"Pythia Fig. 3", "EMP Fig. 1", "EMP Fig. 3", "EMP Fig. 8", "EMP Fig. 9", "EMP Fig. 10"}


def test_published_memorization_draws_the_per_row_figures_from_the_replica(hub, tmp_path):
    write_memorized_evals(hub)
    results, result = _published(tmp_path)
    declared = [f for f in mem.PAPER_FIGURES if "published" in f.needs]
    assert {f.label for f in declared} == NEEDS_DOWNLOAD
    folder = results / "published" / "memorization"
    assert all(all(f.matches(folder, "published").values()) for f in declared)
    poisson = next(c for c in result.verdicts if c.id == "memorization.poisson")
    assert poisson.verdict != NOT_TESTABLE and poisson.numbers["blocks"] == 143000
    counts = pd.read_csv(results / "published" / "memorization" / "memorized_counts.csv")
    assert counts.memorized.sum() == sum(s.examples for s in me.load())
    inputs = [i for i in result.writer.inputs if i["kind"] == "hub_dataset"]
    assert inputs == [{"kind": "hub_dataset", "repo": me.REPO, "revision": me.REVISION, "splits": 26}]
    for drawn in folder.glob("poisson_qq_standard.*"):
        drawn.unlink()
    fig3 = next(f for f in declared if f.label == "Pythia Fig. 3")
    assert "published/memorization/poisson_qq_standard.*" in fig3.missing(results, "memorization"), (
        "a figure drawn in part is missing the rest"
    )


def test_without_the_download_the_figures_await_it_and_the_poisson_claim_says_how_to_get_it(hub, tmp_path, capsys):
    results, result = _published(tmp_path)
    poisson = next(c for c in result.verdicts if c.id == "memorization.poisson")
    assert poisson.verdict == NOT_TESTABLE and "pythia-repro fetch memorized-evals" in poisson.detail
    assert any("pythia-repro fetch memorized-evals" in str(item) for item in result.sections["rows"])
    figures = [f for f in mem.PAPER_FIGURES if "published" in f.needs]
    assert {f.label for f in figures if f.awaits(results / "published" / "memorization", "published")} == NEEDS_DOWNLOAD
    assert not [m for f in figures for m in f.missing(results, "memorization") if m.startswith("published/")]
    assert cli.main(["fetch", "memorized-evals"]) == 1
    assert "pythia-repro fetch memorized-evals" in capsys.readouterr().err
