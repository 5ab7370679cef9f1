"""A suite's facts: what each checkpoint has seen and from which pass over the data, the rows of a step's batch and
where a row was trained, the tokenizer's fingerprint; and the replica's faults, each caught when a checkpoint loads."""

import json
import re

import numpy as np
import pytest

from pythia_repro import settings
from pythia_repro.data.known_issues import FlaggedCheckpoint
from pythia_repro.data.tokens import write_mmap
from pythia_repro.parameters import BadParameter
from pythia_repro.suites import ModelSpec, Suite, facts, get_suite, load_model

from conftest import pythia_task

ROWS_PER_STEP, ROW_LEN, DATA_ROWS = 4, 8, 20  # the data holds five steps' rows; training runs ten


@pytest.fixture
def short_data(tmp_path) -> Suite:
    """A suite trained for ten steps on data of five steps' rows: row i is [i, i, …]."""
    write_mmap(tmp_path / "train", [np.full(ROW_LEN, i, np.uint16) for i in range(DATA_ROWS)])
    return Suite(
        "short",
        {"m": ModelSpec("m", 1, 16, 2, 64, seq_len=ROW_LEN - 1)},
        tuple(range(11)),
        rows_per_step=ROWS_PER_STEP,
        row_len=ROW_LEN,
        tokenizer_file=None,
        findings={},
        data_prefix=tmp_path / "train",
    )


def test_a_second_pass_starts_where_the_data_ends_and_reads_it_again_in_order(short_data):
    rows = facts.data_rows(short_data)
    assert rows == DATA_ROWS and facts.epoch_boundary(short_data, rows) == 5.0
    table = facts.table(short_data, ["m"]).set_index("step")
    assert table.batch_pass[[0, 4, 5, 9]].tolist() == [1, 1, 2, 2] and table.rows_seen[6] == 24
    indices, tokens = facts.batch_rows(short_data, 6, 1, 3)
    assert indices == [5, 6] and tokens[:, 0].tolist() == [5, 6], "step 6's rows 1-2 are data rows 25-26 mod 20"
    assert facts.locate(short_data, 2) == [(1, 0, 2), (2, 5, 2)], "row 2 trained at step 0, then again at step 5"
    assert facts.locate(short_data, 19) == [(1, 4, 3), (2, 9, 3)]
    with pytest.raises(BadParameter, match="no batch was trained at step 10"):
        facts.batch_rows(short_data, 10)
    with pytest.raises(BadParameter, match="holds 20 rows"):
        facts.locate(short_data, 20)


def test_data_that_covers_training_has_no_second_pass(short_data):
    assert facts.epoch_boundary(short_data, 40) is None and facts.epoch_boundary(short_data, None) is None


def test_the_pythia_facts_name_what_changes_results():
    table = facts.table(get_suite("pythia"), ["pythia-1b", "pythia-2.8b"]).set_index(["model", "step"])
    assert table.loc[("pythia-1b", 143000)].precision == "bfloat16"
    assert "bf16" in table.loc[("pythia-1b", 0)].notes and "pythia-800m" in table.loc[("pythia-1b", 0)].notes
    assert table.loc[("pythia-2.8b", 1000)].known_issues == "pythia-2.8b-serves-main"
    assert table.loc[("pythia-2.8b", 143000)].tokens_seen == 299_892_736_000, "the README's token count"


def test_the_tokenizer_fingerprint_is_what_it_maps_not_its_bytes(tmp_path):
    spec = {"model": {"vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}, "added_tokens": []}
    (tmp_path / "one.json").write_text(json.dumps(spec))
    (tmp_path / "two.json").write_text(json.dumps({**spec, "model": {**spec["model"], "merges": ["a b"]}}, indent=2))
    (tmp_path / "swapped.json").write_text(json.dumps({**spec, "model": {**spec["model"], "vocab": {"a": 1, "b": 0}}}))
    one, two, swapped = (facts.tokenizer_fingerprint(tmp_path / f"{n}.json") for n in ("one", "two", "swapped"))
    assert one == two != swapped


@pytest.fixture(scope="module")
def faulty_hub(tmp_path_factory):
    from pythia_repro.data.reference import fetch
    from pythia_repro.testing.replica import write_faults

    hub = tmp_path_factory.mktemp("faults")
    write_faults(hub, fetch("tokenizer/20B_tokenizer.json"))
    return hub


@pytest.mark.parametrize(
    "step,refused",
    [
        (1000, None),
        (143000, None),
        (2000, "its weight files are step143000's"),  # the whole checkpoint is the final one
        (3000, "its model-00001-of-00003.safetensors (of 3 files) is step143000's"),  # its embedding shard
        (5000, "its tokenizer is not the pythia suite's: 2 tokens at other ids"),
    ],
)
def test_a_fetched_revision_whose_files_or_tokenizer_are_not_its_own_is_refused(faulty_hub, monkeypatch, step, refused):
    monkeypatch.setenv("HF_HUB_CACHE", str(faulty_hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    checkpoint = get_suite("pythia").checkpoint("pythia-14m", step)
    if refused is None:
        assert load_model(checkpoint, "cpu").config.vocab_size == 50304
        return
    with pytest.raises(FlaggedCheckpoint, match=re.escape(refused)):
        load_model(checkpoint, "cpu")
    with settings.overridden("checkpoints", "all"):
        if step == 5000:  # a tokenizer of other ids is never scored
            with pytest.raises(FlaggedCheckpoint, match="never scored"):
                load_model(checkpoint, "cpu")
        else:
            load_model(checkpoint, "cpu")


def test_each_scored_checkpoints_embedding_check_goes_to_the_manifest_so_a_grafted_embedding_shows(
    faulty_hub, monkeypatch, tmp_path
):
    from pythia_repro.findings.base import record_checkpoints
    from pythia_repro.report.results import ResultWriter

    monkeypatch.setenv("HF_HUB_CACHE", str(faulty_hub))
    suite = get_suite("pythia")
    task = pythia_task(*(("pythia-14m", s) for s in (1000, 3000, 143000)))
    writer = ResultWriter(tmp_path)
    record_checkpoints(writer, suite, task)
    checks = {i["revision"]: i for i in writer.inputs}
    assert checks["step3000"]["embedding_sha256"] == checks["step143000"]["embedding_sha256"], "#206's fault shows"
    assert checks["step1000"]["embedding_sha256"] != checks["step143000"]["embedding_sha256"]
    assert all(abs(c["embedding_cosine_to_step0"]) < 0.1 for c in checks.values()), "random weights, unlike step 0"
    assert all(c["embedding_median_norm"] > 0 for c in checks.values())
