"""The README's `pythia` commands, run as written against a replica of the release (offline, on the CPU).

The replica (`pythia_repro.testing.replica`) is laid out as the release is published: hub-cache model repos with one
`refs/step<N>` branch per checkpoint (the gender-bias interventions at one revision), the two dataset repos with
`document.idx` and 21 shards cut mid-row, and the Parquet exports of CrowS-Pairs, WinoBias and LAMBADA.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from pythia_repro import settings
from pythia_repro.testing.replica import write_replica

from conftest import run_readme_block

FINDINGS = ("memorization", "simplicity_bias", "term_frequency")


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    """A replica of the release: pythia-70m/160m and their deduplicated twins at steps 1000 and 143000,
    GPT-NeoX-20B at main, both Piles and held-out rows."""
    from pythia_repro.data.reference import fetch

    return write_replica(tmp_path_factory.mktemp("release"), fetch("tokenizer/20B_tokenizer.json"))


def test_the_readme_commands_run_every_finding_on_the_standard_and_deduplicated_release(replica, project, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHIA_REPRO_PILE", "PYTHIA_REPRO_MIRROR", "HF_"))
    }
    env |= replica.environment() | {settings.variable("root"): str(project)}
    run = run_readme_block("pythia-commands", env, timeout=3000)
    plan = run.stdout.split("→")[0]
    assert "checkpoints of pythia-160m: step1000, step143000 (2)" in plan
    assert re.search(r"to download: 0, about 0 B", plan), "every revision is in the replica's hub cache"
    assert "assumed, not measured" in plan
    for profile, models in (("pythia", ("pythia-70m", "pythia-160m")), ("pythia-deduped", ("pythia-70m-deduped",))):
        for finding in FINDINGS:
            folder = project / "results" / profile / finding
            manifest = json.loads((folder / "manifest.json").read_text())
            assert (folder / "claims.csv").is_file() and (folder / f"{finding}.ipynb").is_file()
            revisions = {(i["model"], i["revision"]) for i in manifest["inputs"] if i["kind"] == "checkpoint"}
            assert {(m, "step143000") for m in models} <= revisions, (profile, finding, revisions)
        memorization = json.loads((project / "results" / profile / "memorization" / "manifest.json").read_text())
        data = next(i for i in memorization["inputs"] if i["kind"] == "training_data")
        assert data["suite"] == profile and data["rows"] == 512
        scored = models if profile == "pythia" else (*models, "pythia-160m-deduped")
        assert memorization["parameters"]["suppress_eod"] is None, "the suite's default (True) applies"
        assert memorization["runtime"]["dtype"] == dict.fromkeys(scored, "float32"), "fp32 on a CPU"
    standard, deduped = (
        next(
            i["identity"]
            for i in json.loads((project / "results" / p / "memorization" / "manifest.json").read_text())["inputs"]
            if i["kind"] == "training_data"
        )
        for p in ("pythia", "pythia-deduped")
    )
    assert standard != deduped, "each suite read its own Pile"
    counts = pd.read_csv(project / "results" / "pythia" / "term_frequency" / "operand_counts.csv")
    assert counts.window.sum() > 0, "the replica's text has numbers to count"
    gender = project / "results" / "pythia-deduped" / "gender_bias"
    manifest = json.loads((gender / "manifest.json").read_text())
    revisions = {(i["model"], i["revision"]) for i in manifest["inputs"] if i["kind"] == "checkpoint"}
    assert ("pythia-70m-deduped-intervention", "main") in revisions, "the intervention, from its own repo"
    assert {("pythia-70m-deduped", "step1000"), ("pythia-160m-deduped", "step143000")} <= revisions
    assert not any(m == "pythia-70m-deduped-intervention" and r != "main" for m, r in revisions), "final step only"
    lambada = pd.read_csv(gender / "lambada.csv")
    assert (
        set(zip(lambada.model, lambada.arm, lambada.step))
        >= {
            ("pythia-70m-deduped", "intervention", 143000),
            ("pythia-70m-deduped", "baseline", 1000),
        }
        and (lambada["items"] == 24).all()
    ), "every replica passage scored"
    claims = pd.read_csv(gender / "claims.csv")
    assert len(claims) == 6 and (gender / "gender_bias.ipynb").is_file()
    assert (pd.read_csv(gender / "winobias.csv").pro_items == 24).all(), "each WinoBias subset, both prompts"


NEOX_20B = """
import json
from pythia_repro.findings import load
from pythia_repro.suites import get_suite, load_model
suite = get_suite("gpt-neox-20b")
model = load_model(suite.checkpoint("gpt-neox-20b"), "cpu")
config = model.config
tf = load("term_frequency", "gpt-neox-20b", operands=[3, 7], shots=[0], max_rows=512)
sb = load("simplicity_bias", "gpt-neox-20b", n_sequences=2, max_rows=512)
try:
    load("memorization", "gpt-neox-20b")
    refused = ""
except NotImplementedError as err:
    refused = str(err)
print(json.dumps({
    "class": type(model).__name__, "vocab": config.vocab_size,
    "rotary": config.rope_parameters["partial_rotary_factor"],
    "parallel": config.use_parallel_residual, "tf_steps": sorted(set(tf.tables["accuracy"].step.tolist())),
    "tf_models": sorted(set(tf.tables["accuracy"].model)), "sb_models": sorted(set(sb.tables["losses"].model)),
    "refused": refused,
}))
"""


def test_gpt_neox_20b_loads_from_the_replica_and_runs_the_final_model_findings(replica):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHIA_REPRO_PILE", "PYTHIA_REPRO_MIRROR", "HF_"))}
    pile = next(replica.hub.glob("datasets--*standard*/snapshots/*")) / "document"
    env |= replica.environment() | {settings.variable("pile"): str(pile)}
    run = subprocess.run([sys.executable, "-c", NEOX_20B], env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-5000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["class"] == "GPTNeoXForCausalLM" and out["vocab"] == 50432, "loaded from the hub cache, offline"
    assert out["rotary"] == 0.25 and out["parallel"], "a config of GPT-NeoX's shape family"
    assert out["tf_steps"] == [150000] and out["tf_models"] == out["sb_models"] == ["gpt-neox-20b"]
    assert "does not run on the 'gpt-neox-20b' profile" in out["refused"], "no intermediate checkpoints"
