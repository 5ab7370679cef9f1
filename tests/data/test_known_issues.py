"""The release's reported problems as data: a doubted checkpoint is left out of a run, which says which and why,
and is scored only when asked, marked."""

import pytest

from pythia_repro import settings
from pythia_repro.data import known_issues as ki
from pythia_repro.findings.base import record_checkpoints
from pythia_repro.report.results import ResultWriter
from pythia_repro.suites import get_suite, load_model
from pythia_repro.suites.base import CheckpointNotFound
from pythia_repro.sweep.plan import left_out_lines

from conftest import pythia_task


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
def test_only_checkpoints_that_serve_another_steps_weights_are_doubted(model, revision, refused):
    assert (ki.doubt(model, revision) is not None) is refused


def _task(*steps):
    return pythia_task(*(("pythia-2.8b", step) for step in steps))


def test_a_doubted_checkpoint_is_left_out_of_the_work_with_why_and_scored_only_when_asked_marked(tmp_path):
    task = _task(66000, 1000, 50000)
    assert [job.checkpoint.step for job in task.jobs] == [66000] and not task.marked
    assert [c.step for c in task.left_out] == [1000, 50000]
    lines = left_out_lines([task])
    assert [line.split(":")[0] for line in lines] == ["left out pythia-2.8b@step1000", "left out pythia-2.8b@step50000"]
    assert all("issues/205" in line and "-p checkpoints=all" in line for line in lines)
    writer = ResultWriter(tmp_path)
    record_checkpoints(writer, get_suite("pythia"), task)
    assert [(i["kind"], i["revision"]) for i in writer.inputs] == [
        ("checkpoint", "step66000"),
        ("checkpoint_left_out", "step1000"),
        ("checkpoint_left_out", "step50000"),
    ]
    with settings.overridden("checkpoints", "all"):
        anyway = _task(66000, 1000)
    assert settings.value("checkpoints") == "verified", "the override ends with its block"
    assert [job.checkpoint.step for job in anyway.jobs] == [66000, 1000] and not anyway.left_out
    writer = ResultWriter(tmp_path / "all")
    record_checkpoints(writer, get_suite("pythia"), anyway)
    assert [i.get("doubt", "")[:30] for i in writer.inputs] == ["", "it serves main's model.safeten"]


def test_loading_a_doubted_checkpoint_is_refused_unless_asked_for(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    checkpoint = get_suite("pythia").checkpoint("pythia-12b", 58000)
    with pytest.raises(ki.FlaggedCheckpoint, match="first weight shard.*-p checkpoints=all"):
        load_model(checkpoint, "cpu")
    monkeypatch.setenv("PYTHIA_REPRO_CHECKPOINTS", "all")
    with pytest.raises(CheckpointNotFound):  # let through: it now fails only for not being in the empty cache
        load_model(checkpoint, "cpu")


def test_every_claim_of_a_run_that_left_checkpoints_out_names_them(tmp_path):
    from pythia_repro.findings.base import Result
    from pythia_repro.report.claims import judged

    writer = ResultWriter(tmp_path)
    record_checkpoints(writer, get_suite("pythia"), _task(66000, 1000))
    result = Result("t", "pythia", writer)
    claim = judged("t.rises", "it rises", "slope > 0", True, "slope +0.1")
    result.judge({"pythia": [claim], "published": [claim]})
    detail = dict(zip(result.tables["claims"].profile, result.tables["claims"].detail))
    assert detail["pythia"] == "slope +0.1 Left out, not what they claim (see the manifest): pythia-2.8b@step1000."
    assert detail["published"] == "slope +0.1", "another profile's verdict stands on its own data"


def test_a_doubted_checkpoint_takes_its_step_out_for_every_model_so_sizes_compare_on_the_steps_they_share():
    from pythia_repro.findings.base import Plan

    suite = get_suite("pythia")
    task = pythia_task(*((m, s) for m in ("pythia-70m", "pythia-2.8b") for s in (1000, 66000)))
    assert [(j.checkpoint.model, j.checkpoint.step) for j in task.jobs] == [
        ("pythia-70m", 66000),
        ("pythia-2.8b", 66000),
    ]
    why = {c.model: w for c, w in task.left_out.items()}
    assert why["pythia-70m"] == "left out with step 1000, where pythia-2.8b@step1000 is not what it claims"
    assert Plan(task, suite, ["pythia-70m", "pythia-2.8b"], [1000, 66000]).steps == [66000]
