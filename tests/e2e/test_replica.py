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

from conftest import readme_block, run_commands

FINDINGS = ("memorization", "simplicity_bias", "term_frequency")

pytestmark = pytest.mark.xdist_group("replica")  # one worker writes the replica once and runs every test on it


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    """A replica of the release: pythia-70m/160m and their deduplicated twins at steps 1000 and 143000,
    GPT-NeoX-20B at main, both Piles and held-out rows."""
    from pythia_repro.data.reference import fetch

    return write_replica(tmp_path_factory.mktemp("release"), fetch("tokenizer/20B_tokenizer.json"))


def readme_parts() -> tuple[str, str, str]:
    """The block's lines in three parts, together the whole block: the setup (the data, the pilot's options), the
    standard release's commands and the deduplicated release's (two tests, so that they can run side by side)."""
    lines = readme_block("pythia-commands").splitlines(keepends=True)
    plan = next(i for i, line in enumerate(lines) if line.startswith(".venv/bin/pythia-repro plan"))
    deduped = next(i for i, line in enumerate(lines) if "--profile pythia-deduped" in line)
    assert plan < deduped
    return "".join(lines[:plan]), "".join(lines[plan:deduped]), "".join(lines[deduped:])


def _environment(replica, project) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHIA_REPRO_PILE", "PYTHIA_REPRO_MIRROR", "HF_"))
    }
    return env | replica.environment() | {settings.variable("root"): str(project)}


def _checkpoints(manifest: dict) -> set[tuple[str, str]]:
    return {(i["model"], i["revision"]) for i in manifest["inputs"] if i["kind"] == "checkpoint"}


def _manifest(project, profile: str, finding: str) -> dict:
    return json.loads((project / "results" / profile / finding / "manifest.json").read_text())


def _pilot_ran(project, profile: str, models: tuple[str, ...], scored: tuple[str, ...]) -> dict:
    """Every finding's results of the pilot on one release; the memorization manifest's training data."""
    for finding in FINDINGS:
        folder = project / "results" / profile / finding
        assert (folder / "claims.csv").is_file() and (folder / f"{finding}.ipynb").is_file()
        revisions = _checkpoints(_manifest(project, profile, finding))
        assert {(m, "step143000") for m in models} <= revisions, (profile, finding, revisions)
    memorization = _manifest(project, profile, "memorization")
    data = next(i for i in memorization["inputs"] if i["kind"] == "training_data")
    assert data["suite"] == profile and data["rows"] == 512
    assert memorization["parameters"]["suppress_eod"] is None, "the suite's default (True) applies"
    assert memorization["runtime"]["dtype"] == dict.fromkeys(scored, "float32"), "fp32 on a CPU"
    return data


def test_the_readme_commands_run_every_finding_on_the_standard_release(replica, project):
    setup, standard, deduped = readme_parts()
    assert setup + standard + deduped == readme_block("pythia-commands"), "every line of the block is run"
    run = run_commands(setup + standard, _environment(replica, project), timeout=3000)
    plan = run.stdout.split("→")[0]
    assert "checkpoints of pythia-160m: step1000, step143000 (2)" in plan
    assert re.search(r"to download: 0, about 0 B", plan), "every revision is in the replica's hub cache"
    assert "assumed, not measured" in plan
    models = ("pythia-70m", "pythia-160m")
    _pilot_ran(project, "pythia", models, models)
    counts = pd.read_csv(project / "results" / "pythia" / "term_frequency" / "operand_counts.csv")
    assert counts.window.sum() > 0, "the replica's text has numbers to count"


def test_the_readme_commands_run_every_finding_on_the_deduplicated_release(replica, project):
    from pythia_repro.data.tokens import data_identity

    setup, _, deduped = readme_parts()
    run_commands(setup + deduped, _environment(replica, project), timeout=3000)
    models = ("pythia-70m-deduped",)
    data = _pilot_ran(project, "pythia-deduped", models, (*models, "pythia-160m-deduped"))
    standard, own = (next(replica.hub.glob(f"datasets--*{k}*/snapshots/*")) / "document" for k in ("standard", "dedup"))
    assert data["identity"] == data_identity(own) != data_identity(standard), "the deduplicated suite read its own Pile"
    gender = project / "results" / "pythia-deduped" / "gender_bias"
    revisions = _checkpoints(json.loads((gender / "manifest.json").read_text()))
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


def test_the_integrity_commands_catch_the_replicas_faults_and_show_the_data_as_written(replica, project):
    run = run_commands(readme_block("integrity-commands"), _environment(replica, project), timeout=1200).stdout
    assert "pythia-14m@step2000: duplicate its weights are main, step143000's" in run
    assert "pythia-14m@step3000: shared_shard shares 1 of 3 weight files with main, step2000, step143000" in run
    audit = pd.read_csv(project / "results" / "pythia" / "checkpoints" / "audit.csv").set_index("revision")
    assert audit.flag[["step1000", "step4000", "step143000"]].tolist() == ["ok", "not_checked", "duplicate"]
    facts = pd.read_csv(project / "results" / "pythia" / "checkpoints" / "facts.csv").set_index(["model", "step"])
    assert facts.loc[("pythia-14m", 1000)].tokens_seen == 1000 * 1024 * 2048
    assert (
        facts.loc[("pythia-1b", 1000)].precision == "bfloat16" and "pythia-800m" in facts.loc[("pythia-1b", 1000)].notes
    )
    assert re.search(r"tokenizer_sha256: [0-9a-f]{64}\neod_id: 0\npad_id: 0", run)
    assert "data: 512 rows; the second pass starts within step 0" in run, "the replica's Pile is smaller than a batch"
    shown = re.findall(r"step 0 row (\d) \(data row (\d)\): '(.+)'", run)
    assert [(a, b) for a, b, _ in shown] == [("0", "0"), ("1", "1")] and all(text for *_, text in shown)
    assert "data row 100: pass 1, trained at step 0, row 100 of its batch" in run
    first, anyway = run.split("→ sweep pythia")
    for step, flag in ((2000, "duplicate"), (3000, "shared_shard")):
        assert f"left out pythia-14m@step{step}: the audit flags it {flag}" in first
        assert f"scored despite doubt pythia-14m@step{step}: the audit flags it {flag}" in anyway
    assert "2 checkpoint(s) scored" in anyway and "2 skipped" in anyway, "step2000 and step3000, marked"
    manifest = _manifest(project, "pythia", "memorization")
    assert _checkpoints(manifest) == {("pythia-14m", "step1000"), ("pythia-14m", "step143000")}
    assert [i["revision"] for i in manifest["inputs"] if i["kind"] == "checkpoint_left_out"] == ["step2000", "step3000"]
    claims = pd.read_csv(project / "results" / "pythia" / "memorization" / "claims.csv")
    assert claims[claims.profile == "pythia"].detail.str.endswith("pythia-14m@step2000, pythia-14m@step3000.").all()


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
