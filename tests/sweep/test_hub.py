"""Checkpoints under a disk budget: fetched just before scoring, evicted after, resumed after a kill; the plan."""

from __future__ import annotations

import pytest

from pythia_repro.suites import get_suite
from pythia_repro.sweep import executors
from pythia_repro.sweep.hub import DiskBudget, DiskBudgetExceeded, cached_revisions, human, parse_size
from pythia_repro.testing.replica import hub_entry, tiny_weights

REPO_ID = "EleutherAI/pythia-70m"
STEPS = (1000, 2000, 3000, 4000)


@pytest.fixture
def remote(tmp_path):
    """A stand-in for the hub: every revision of a tiny pythia-70m, and a fetch that copies one into a cache."""
    files = {step: tiny_weights(step, 64, 16) for step in STEPS}

    def fetch(repo_id: str, revision: str, cache):
        assert repo_id == REPO_ID
        hub_entry(cache, repo_id, revision, files[int(revision.removeprefix("step"))])

    return fetch


def budget(tmp_path, remote, limit: str) -> DiskBudget:
    return DiskBudget(parse_size(limit), tmp_path / "hub", remote, tmp_path / "ledger.json")


def present(tmp_path) -> set[str]:
    return {revision for repo, revision in cached_revisions(tmp_path / "hub") if repo == REPO_ID}


def test_sizes_parse_and_print():
    assert parse_size("200GB") == 200 * 10**9 and parse_size("1.5 TB") == 1.5e12 and parse_size("512MiB") == 2**29
    assert parse_size("1234") == 1234 and human(2.5e9) == "2.5 GB"
    with pytest.raises(ValueError, match="not a size such as 200GB"):
        parse_size("lots")


def test_a_fetched_revision_is_evicted_and_one_the_user_had_is_kept(tmp_path, remote):
    pythia = get_suite("pythia")
    mine = pythia.checkpoint("pythia-70m", 2000)
    remote(REPO_ID, mine.revision, tmp_path / "hub")  # the user's own download, before any sweep
    keeper = budget(tmp_path, remote, "1GB")
    fetched = pythia.checkpoint("pythia-70m", 1000)
    keeper.acquire(fetched)
    assert present(tmp_path) == {"step1000", "step2000"}
    keeper.release(fetched)
    assert present(tmp_path) == {"step2000"}, "evicted through huggingface_hub's cache API"
    assert not list((tmp_path / "hub").glob("models--*/snapshots/*/config.json"))[1:], "its files went too"
    keeper.acquire(mine)
    keeper.release(mine)
    assert present(tmp_path) == {"step2000"}, "a revision the user had is never deleted"


def test_a_killed_sweep_evicts_what_it_fetched_when_it_resumes(tmp_path, remote):
    pythia = get_suite("pythia")
    budget(tmp_path, remote, "1GB").acquire(pythia.checkpoint("pythia-70m", 3000))  # then killed: no release
    assert present(tmp_path) == {"step3000"}
    budget(tmp_path, remote, "1GB").acquire(pythia.checkpoint("pythia-70m", 4000))
    assert present(tmp_path) == {"step4000"}, "the ledger named step3000, fetched by the killed sweep"


def test_a_checkpoint_that_cannot_fit_is_a_clear_error(tmp_path, remote):
    pythia = get_suite("pythia")
    with pytest.raises(
        DiskBudgetExceeded, match=r"pythia-70m@step1000 needs about 140\.9 MB, more than the whole 100\.0 MB budget"
    ):
        budget(tmp_path, remote, "100MB").acquire(pythia.checkpoint("pythia-70m", 1000))
    assert present(tmp_path) == set(), "nothing fetched"
    remote(REPO_ID, "step2000", tmp_path / "hub")  # the user's: it fills what is left
    with pytest.raises(DiskBudgetExceeded, match=r"already hold .* none of it fetched by a sweep"):
        need = pythia.spec("pythia-70m").params * 2
        budget(tmp_path, remote, str(need + 100)).acquire(pythia.checkpoint("pythia-70m", 1000))


def test_a_mirror_is_not_managed_by_a_budget(tmp_path, remote, monkeypatch):
    monkeypatch.setenv("PYTHIA_REPRO_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(ValueError, match="loads from a local folder .* a disk budget manages the Hugging Face cache"):
        budget(tmp_path, remote, "1GB").acquire(get_suite("pythia").checkpoint("pythia-70m", 1000))


def test_the_local_executor_fetches_scores_and_evicts_one_checkpoint_at_a_time(monkeypatch):
    pythia = get_suite("pythia")
    todo = [pythia.checkpoint("pythia-70m", s) for s in (1000, 2000)]
    events = []

    class Recorder:
        def acquire(self, ckpt):
            events.append(("fetch", ckpt.step))
            if ckpt.step == 2000:
                raise DiskBudgetExceeded("does not fit")

        def release(self, ckpt):
            events.append(("evict", ckpt.step))

    def score(tasks, ckpt, cache):
        events.append(("score", ckpt.step))
        return executors.CheckpointResult(ckpt)

    monkeypatch.setattr(executors, "score_checkpoint", score)
    outcomes = list(executors.LocalExecutor(budget=Recorder())._execute([], todo, None))
    assert events == [("fetch", 1000), ("score", 1000), ("evict", 1000), ("fetch", 2000)]
    assert isinstance(outcomes[1][1], executors.Failure) and "does not fit" in outcomes[1][1].reason


def test_a_failed_fetch_leaves_nothing_in_the_ledger_so_the_users_later_copy_is_kept(tmp_path, remote):
    pythia = get_suite("pythia")
    wanted = pythia.checkpoint("pythia-70m", 1000)

    def broken(repo_id, revision, cache):
        raise ConnectionError("the hub did not answer")

    with pytest.raises(ConnectionError):
        DiskBudget(parse_size("1GB"), tmp_path / "hub", broken, tmp_path / "ledger.json").acquire(wanted)
    remote(REPO_ID, wanted.revision, tmp_path / "hub")  # the user fetches it by hand
    later = budget(tmp_path, remote, "1GB")
    later.acquire(pythia.checkpoint("pythia-70m", 2000))
    later.release(pythia.checkpoint("pythia-70m", 2000))
    later.evict_all()
    assert present(tmp_path) == {"step1000"}, "the user's copy survives every later eviction"


def test_a_commit_another_ref_points_to_is_not_evicted(tmp_path, remote):
    pythia = get_suite("pythia")
    keeper = budget(tmp_path, remote, "1GB")
    keeper.acquire(pythia.checkpoint("pythia-70m", 1000))
    commit = cached_revisions(tmp_path / "hub")[(REPO_ID, "step1000")][0]
    assert keeper._fetched() == {REPO_ID: {commit: ["step1000"]}}, "the ledger is keyed by the commit fetched"
    (tmp_path / "hub" / "models--EleutherAI--pythia-70m" / "refs" / "main").write_text(commit)  # the user's, since
    keeper.release(pythia.checkpoint("pythia-70m", 1000))
    assert present(tmp_path) == {"step1000", "main"} and keeper._fetched() == {}


def _as_main(tmp_path, remote, step: int) -> str:
    """The user's download of `main`, the same commit as `step<step>` (the hub serves the final step as main)."""
    remote(REPO_ID, f"step{step}", tmp_path / "hub")
    refs = tmp_path / "hub" / "models--EleutherAI--pythia-70m" / "refs"
    (refs / f"step{step}").rename(refs / "main")
    return (refs / "main").read_text()


@pytest.mark.parametrize("by_hash", [False, True], ids=["as-main", "by-commit-hash"])
def test_a_commit_the_user_had_under_another_name_is_never_evicted(tmp_path, remote, by_hash):
    pythia = get_suite("pythia")
    commit = _as_main(tmp_path, remote, 4000)
    if by_hash:  # a download by commit hash leaves a snapshot and no ref
        (tmp_path / "hub" / "models--EleutherAI--pythia-70m" / "refs" / "main").unlink()
    keeper = budget(tmp_path, remote, "1GB")
    final = pythia.checkpoint("pythia-70m", 4000)
    keeper.acquire(final)  # step4000 resolves to the commit the user already has
    keeper.release(final)
    keeper.evict_all()
    snapshot = tmp_path / "hub" / "models--EleutherAI--pythia-70m" / "snapshots" / commit
    assert (snapshot / "config.json").is_file(), "the user's copy survives"
    assert keeper._fetched() == {}


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit, ConnectionError])
def test_an_interrupted_fetch_leaves_the_ledger_as_it_was(tmp_path, remote, interrupt):
    pythia = get_suite("pythia")
    keeper = budget(tmp_path, remote, "1GB")
    keeper.acquire(pythia.checkpoint("pythia-70m", 1000))
    keeper.release(pythia.checkpoint("pythia-70m", 1000))
    before = (tmp_path / "ledger.json").read_bytes()

    def cut(repo_id, revision, cache):
        remote(repo_id, revision, cache)  # part of it arrived
        raise interrupt()

    with pytest.raises(interrupt):
        DiskBudget(parse_size("1GB"), tmp_path / "hub", cut, tmp_path / "ledger.json").acquire(
            pythia.checkpoint("pythia-70m", 2000)
        )
    assert (tmp_path / "ledger.json").read_bytes() == before
    remote(REPO_ID, "step2000", tmp_path / "hub")  # the user then downloads it by hand
    later = budget(tmp_path, remote, "1GB")
    later.acquire(pythia.checkpoint("pythia-70m", 3000))
    later.evict_all()
    assert present(tmp_path) == {"step2000"}, "the user's copy survives; the sweep's own were evicted"


def test_a_ledger_of_the_older_format_keeps_only_finished_fetches(tmp_path, remote):
    import json

    pythia = get_suite("pythia")
    remote(REPO_ID, "step1000", tmp_path / "hub")
    remote(REPO_ID, "step2000", tmp_path / "hub")
    commit = cached_revisions(tmp_path / "hub")[(REPO_ID, "step1000")][0]
    (tmp_path / "ledger.json").write_text(json.dumps({REPO_ID: {"step1000": commit, "step2000": None}}))
    budget(tmp_path, remote, "1GB").acquire(pythia.checkpoint("pythia-70m", 3000))
    assert present(tmp_path) == {"step2000", "step3000"}, "a killed download of the old format is not ours"
