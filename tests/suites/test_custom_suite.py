"""A checkpointed suite defined only here runs the memorization finding through the CLI, with no edit to the package.

Its revisions are named like `step{N}-tokens{M}B` and its end-of-document id is 2, not Pythia's 0. Its models
always put the end-of-document token first and token 5 second, so a row continued by 5s is memorized only when
the end-of-document token is suppressed (the suite's default, as for Pythia) and the right id is suppressed.
`PYTHIA_REPRO_SUITES` names this module, which registers the suite when the CLI, the notebook's kernel or a
worker imports it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pythia_repro import settings
from pythia_repro.suites import ModelSpec, Suite, register_suite
from pythia_repro.testing.replica import random_neox

NAME = "tokens-suite"
EOD, SECOND = 2, 5
STEPS = (0, 4, 8)
ROWS_PER_STEP, ROW_LEN, VOCAB = 16, 65, 64
MODELS = {"tok-s": 16, "tok-l": 32}  # name: hidden size


def suite() -> Suite:
    """The suite as its folder (`settings.path("checkpoint_folder")` names it in the tests) lays it out."""
    root = settings.path("checkpoint_folder")
    return Suite(
        NAME,
        {name: ModelSpec(name, 1, hidden, 2, VOCAB, seq_len=ROW_LEN - 1) for name, hidden in MODELS.items()},
        STEPS,
        rows_per_step=ROWS_PER_STEP,
        row_len=ROW_LEN,
        tokenizer_file=lambda: root / "tokenizer.json",
        findings={"memorization": {"suppress_eod": True}},
        local_root=root,
        data_prefix=root / "data" / "train",
        revision_format="step{step}-tokens{tokens_b}B",
        eod_id=EOD,
        pad_id=EOD,
        description="a test-only suite",
    )


register_suite(NAME, suite)


def eod_first_model(hidden: int):
    """A GPT-NeoX whose final layer norm outputs a constant, so the logits are the same everywhere: the
    end-of-document id highest, token 5 next."""
    import torch

    model = random_neox(hidden, VOCAB, hidden, positions=ROW_LEN, bos_token_id=EOD, eos_token_id=EOD)
    with torch.no_grad():
        model.gpt_neox.final_layer_norm.weight.zero_()
        model.gpt_neox.final_layer_norm.bias.fill_(1.0)
        model.get_output_embeddings().weight.zero_()
        model.get_output_embeddings().weight[EOD] = 1.0
        model.get_output_embeddings().weight[SECOND] = 0.5
    return model


@pytest.fixture
def custom_suite(tmp_path, project, monkeypatch):
    """The suite's folder (checkpoints under their revision names, a word-level tokenizer, training rows) and the
    settings that make every process find this module."""
    from tokenizers import Tokenizer, models

    from pythia_repro.data.tokens import write_mmap

    root = tmp_path / "tokens-suite"
    vocab = {f"w{i}": i for i in range(VOCAB)} | {"<|endoftext|>": EOD}
    del vocab[f"w{EOD}"]
    root.mkdir()
    Tokenizer(models.WordLevel(vocab, unk_token="w1")).save(str(root / "tokenizer.json"))
    rng = np.random.default_rng(0)
    rows = rng.integers(6, VOCAB, (ROWS_PER_STEP * STEPS[-1], ROW_LEN), dtype=np.uint16)
    rows[0::4, 32:64] = SECOND  # memorized when the end-of-document id (2) is suppressed
    rows[1::4, 32:64] = EOD  # memorized only by plain greedy decoding
    write_mmap(root / "data" / "train", rows)
    monkeypatch.setenv(settings.variable("checkpoint_folder"), str(root))
    monkeypatch.setenv(settings.variable("suites"), f"{NAME}={Path(__file__).stem}")
    monkeypatch.setenv("PYTHONPATH", f"{Path(__file__).parent}:{__import__('os').environ.get('PYTHONPATH', '')}")
    for name, hidden in MODELS.items():
        model = eod_first_model(hidden)
        for step in STEPS:
            model.save_pretrained(root / name / suite().revision(step), safe_serialization=True)
    return root


def test_a_suite_from_a_test_module_runs_memorization_through_the_cli(custom_suite, project, capsys):
    from pythia_repro import cli
    from pythia_repro.suites import get_suite

    assert get_suite(NAME).checkpoint("tok-l", 8).revision == "step8-tokens0B"
    assert cli.main(["reproduce", "--profile", NAME, "--finding", "memorization"]) == 0, capsys.readouterr().err
    folder = project / "results" / NAME / "memorization"
    manifest = json.loads((folder / "manifest.json").read_text())
    revisions = {i["revision"] for i in manifest["inputs"] if i["kind"] == "checkpoint"}
    assert revisions == {"step4-tokens0B", "step8-tokens0B"}
    assert manifest["parameters"]["suppress_eod"] is None, "the suite's default applies"
    rates = pd.read_csv(folder / "memorization_rates.csv")
    final = rates[(rates.rows_set == "all seen") & (rates.model == "tok-l") & (rates.step == STEPS[-1])]
    assert final.memorized_rate.iloc[0] == pytest.approx(0.25), "rows continued by 5s, with id 2 suppressed"


def test_the_suites_end_of_document_id_is_the_one_suppressed(custom_suite):
    from pythia_repro.findings import memorization

    plan = memorization.prepare(NAME, max_rows=64)
    assert all(dict(job.params)["suppress_eod"] for job in plan.task.jobs if "fractional" in dict(job.params))
    flags = plan.task.score(eod_first_model(16), 0, 8, {"fractional": False, "suppress_eod": True})
    assert flags.memorized.tolist() == [True, False, False, False] * 2
    plain = plan.task.score(eod_first_model(16), 0, 8, {"fractional": False, "suppress_eod": False})
    assert plain.memorized.tolist() == [False, True, False, False] * 2
