"""The release's reported problems as data: a flagged checkpoint is refused before any work, and scored only when
asked, with its manifest saying so."""

import pytest

from pythia_repro.data import known_issues as ki
from pythia_repro.suites import get_suite, load_model
from pythia_repro.suites.base import CheckpointNotFound
from pythia_repro.sweep.plan import Job, ScoringTask, sweep


def test_the_registry_holds_the_reported_grids_exactly():
    by_id = {i.id: i for i in ki.issues()}
    main = by_id["pythia-2.8b-serves-main"]
    assert len(main.revisions) == 76 and {"step0", "step512", "step53000", "step140000"} <= set(main.revisions)
    assert len(by_id["pythia-2.8b-serves-step143000"].revisions) == 9, "step143000 itself is the original"
    assert "ab496f1c3fd79e3c749a9d5414136a2c8e4224f94eecb261970315cdb0f813fe" in main.evidence
    assert by_id["pythia-12b-final-first-shard"].revisions == ("step50000", "step58000")
    assert all(i.issue.startswith("https://github.com/EleutherAI/pythia/issues/") for i in ki.issues())


@pytest.mark.parametrize(
    "model,revision,refused",
    [
        ("pythia-2.8b", "step1000", True),
        ("pythia-2.8b", "step58000", True),
        ("pythia-2.8b", "step66000", False),  # a unique file
        ("pythia-2.8b", "step143000", False),
        ("pythia-12b", "step50000", True),
        ("pythia-12b-deduped", "step32000", False),  # re-uploaded: fixed
        ("pythia-70m", "step1", False),  # steps 0-2 identical: a note, not an error
    ],
)
def test_only_checkpoints_that_serve_another_steps_weights_are_refused(model, revision, refused):
    assert (ki.refusal(model, revision) is not None) is refused


def _task(*steps):
    suite = get_suite("pythia")
    calls = []
    jobs = [Job(suite.checkpoint("pythia-2.8b", s), 8, ()) for s in steps]
    task = ScoringTask(
        finding="t",
        suite="pythia",
        data="d",
        scorer="s",
        jobs=jobs,
        score=lambda *a: calls.append(a),
        available=lambda c: 8,
        chunk_rows=8,
        device="cpu",
    )
    return task, calls


def test_a_sweep_with_a_flagged_checkpoint_is_refused_before_any_work_naming_each_and_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    task, calls = _task(66000, 1000, 50000)
    with pytest.raises(ki.FlaggedCheckpoint) as err:
        sweep(task, progress=False)
    lines = str(err.value).splitlines()
    assert [line.split(" is not")[0] for line in lines] == ["pythia-2.8b@step1000", "pythia-2.8b@step50000"]
    assert all("PYTHIA_REPRO_CHECKPOINTS=all" in line and "issues/205" in line for line in lines) and calls == []


def test_loading_a_flagged_checkpoint_is_refused_unless_asked_for(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    checkpoint = get_suite("pythia").checkpoint("pythia-12b", 58000)
    with pytest.raises(ki.FlaggedCheckpoint, match="first weight shard"):
        load_model(checkpoint, "cpu")
    monkeypatch.setenv("PYTHIA_REPRO_CHECKPOINTS", "all")
    with pytest.raises(CheckpointNotFound):  # let through: it now fails only for not being in the empty cache
        load_model(checkpoint, "cpu")


def test_a_checkpoint_scored_despite_its_issue_says_so_in_the_manifest(tmp_path):
    from pythia_repro.findings.base import record_checkpoints
    from pythia_repro.report.results import ResultWriter

    writer = ResultWriter(tmp_path)
    suite = get_suite("pythia")
    record_checkpoints(writer, suite, [suite.checkpoint("pythia-2.8b", s) for s in (1000, 66000)])
    flagged = {i["revision"]: i.get("known_issues") for i in writer.inputs}
    assert flagged == {"step1000": ["pythia-2.8b-serves-main"], "step66000": None}
