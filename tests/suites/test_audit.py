"""The checkpoint audit: revisions grouped by their weight files' hashes, from the hub cache or the hub's metadata,
and flagged where a step is not its own."""

from types import SimpleNamespace

import pandas as pd
import pytest

from pythia_repro import cli
from pythia_repro.suites import audit, get_suite
from pythia_repro.testing.replica import hub_entry, random_neox, saved_files

REPO = "EleutherAI/pythia-70m"


def test_flags_name_duplicates_shared_shards_and_gaps_and_take_main_and_the_final_step_as_one():
    listings = {
        "step1000": {"a.safetensors": "x1", "b.safetensors": "y1"},
        "step2000": {"a.safetensors": "F1", "b.safetensors": "F2"},  # the final model's files
        "step3000": {"a.safetensors": "F1", "b.safetensors": "y3"},  # its first shard only
        "step4000": None,
        "step5000": {},
        "step143000": {"a.safetensors": "F1", "b.safetensors": "F2"},
        "main": {"a.safetensors": "F1", "b.safetensors": "F2"},
    }
    table = audit.flags(listings, "step143000").set_index("revision")
    assert table.flag.to_dict() == {
        "step1000": "ok",
        "step2000": "duplicate",
        "step3000": "shared_shard",
        "step4000": "not_checked",
        "step5000": "no_weights",
        "step143000": "duplicate",  # the group is flagged; which side is right is the known issues' call
        "main": "duplicate",
    }
    assert table.reason["step2000"] == "its weights are main, step143000's"
    assert table.reason["step3000"] == "shares 1 of 2 weight files with main, step2000, step143000"
    assert audit.flags({"step143000": {"a": "F"}, "main": {"a": "F"}}, "step143000").flag.tolist() == ["ok", "ok"]


def test_offline_the_hub_cache_is_read_by_blob_name_and_the_embedding_shows_a_step_that_is_not_its_own(
    tmp_path, monkeypatch
):
    import torch

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    final, start = random_neox(1, vocab=64, hidden=16), random_neox(2, vocab=64, hidden=16)
    grafted = random_neox(3, vocab=64, hidden=16)  # a mid-training step carrying the final model's embedding (#206)
    with torch.no_grad():
        grafted.gpt_neox.embed_in.weight.copy_(final.gpt_neox.embed_in.weight)
    for revision, model in {
        "main": final,
        "step143000": final,
        "step2000": final,
        "step0": start,
        "step1000": random_neox(4, vocab=64, hidden=16),
        "step50000": grafted,
    }.items():
        hub_entry(tmp_path, REPO, revision, saved_files(model))
    table = audit.audit(get_suite("pythia"), ["pythia-70m"], progress=False).set_index("revision")
    assert table.flag["step2000"] == "duplicate" and table.flag["step1000"] == "ok"
    assert table.flag["step50000"] == "ok", "its files are its own..."
    assert table.embedding_of["step50000"] == "main step2000 step143000", "...but not its input embedding"
    assert table.embedding_of["step1000"] == "" and table.embedding_cosine_to_step0["step0"] == pytest.approx(1.0)
    assert abs(table.embedding_cosine_to_step0["step1000"]) < 0.5, "independent random rows are far from step 0's"
    assert (
        table.flag.drop(["main", "step0", "step1000", "step2000", "step50000", "step143000"]) == "not_checked"
    ).all()
    assert table.known_issues["step1"] == "early-steps-identical"


class FakeHub:
    """The two hub calls the audit makes, as huggingface_hub answers them, counted."""

    def __init__(self, trees):
        self.trees, self.listed = trees, []

    def list_repo_refs(self, repo_id):
        return SimpleNamespace(branches=[SimpleNamespace(name=r) for r in self.trees])

    def list_repo_tree(self, repo_id, revision, recursive):
        self.listed.append(revision)
        return [
            SimpleNamespace(path=p, lfs=SimpleNamespace(sha256=sha) if sha else None)
            for p, sha in self.trees[revision].items()
        ]


def test_online_each_revision_is_listed_once_and_cached_and_an_absent_branch_is_missing(monkeypatch):
    shards = ("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin")
    suite = get_suite("pythia")
    trees = {suite.revision(s): {shards[0]: f"a{s}", shards[1]: f"b{s}", "config.json": None} for s in suite.steps}
    trees["main"] = trees["step143000"]
    trees["step50000"] = {**trees["step50000"], shards[0]: "a143000"}  # the final first shard, as in #206
    del trees["step4000"]
    hub = FakeHub(trees)
    table = audit.audit(suite, ["pythia-12b"], online=True, api=hub, progress=False).set_index("revision")
    assert table.flag["step50000"] == "shared_shard" and table.flag["step4000"] == "missing"
    assert (table.flag.drop(["step50000", "step4000", "main", "step143000"]) == "ok").all()
    assert table.known_issues["step50000"] == "pythia-12b-final-first-shard"
    assert len(hub.listed) == len(suite.steps)  # 153 branches and main, one listing each
    again = FakeHub(trees)
    pd.testing.assert_frame_equal(
        audit.audit(suite, ["pythia-12b"], online=True, api=again, progress=False).set_index("revision"), table
    )
    assert again.listed == [], "a re-run (or a resumed one) lists nothing twice"


def test_the_command_writes_the_table_and_summarises_it(project, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    hub_entry(tmp_path / "hub", REPO, "step1000", {"model.safetensors": b"x"})
    hub_entry(tmp_path / "hub", REPO, "step2000", {"model.safetensors": b"x"})
    assert cli.main(["checkpoints", "audit", "--profile", "pythia", "--models", "pythia-70m"]) == 0
    out = capsys.readouterr().out
    assert "pythia-70m@step1000: duplicate its weights are step2000's" in out
    written = pd.read_csv(project / "results" / "pythia" / "checkpoints" / "audit.csv", keep_default_na=False)
    assert len(written) == len(get_suite("pythia").steps) + 1
    assert set(written[written.revision.isin(["step1000", "step2000"])].embedding_sha256) == {"unreadable"}
    assert cli.main(["checkpoints", "audit", "--profile", "micro"]) == 1, "a suite trained here has no hub revisions"
    assert capsys.readouterr().err.startswith("pythia-repro checkpoints")


@pytest.mark.parametrize("name,weight", [("model.safetensors", True), ("training_args.bin", False), ("a.json", False)])
def test_weight_files_are_the_tensors(name, weight):
    assert audit.is_weight_file(name) is weight


def test_a_branch_whose_weight_files_are_named_unlike_the_others_is_flagged_with_what_differs():
    usual = {"model-00001-of-00002.safetensors": "", "model-00002-of-00002.safetensors": ""}
    listings = {f"step{s}000": {name: f"{name}{s}" for name in usual} for s in (1, 2, 3)}
    listings["step4000"] = {"pytorch_model.bin": "p4"}
    table = audit.flags(listings, "step3000").set_index("revision")
    assert table.flag.tolist() == ["ok", "ok", "ok", "unexpected_files"]
    assert table.reason["step4000"] == (
        "holds pytorch_model.bin; lacks model-00001-of-00002.safetensors, model-00002-of-00002.safetensors, "
        "unlike 3 other revisions"
    )
