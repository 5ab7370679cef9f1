import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pythia_repro.suites import Checkpoint, CheckpointNotFound, get_suite, suite_names
from pythia_repro.suites.registry import BUILT_IN
from pythia_repro.testing.replica import hub_entry, random_neox, saved_files


def test_pythia_registry():
    suite, deduped = get_suite("pythia"), get_suite("pythia-deduped")
    baselines = [m for m, spec in deduped.models.items() if spec.revision is None]
    assert len(suite.models) == 10 and len(baselines) == 8 and len(deduped.models) == 8 + 5, "and the interventions"
    assert all(m.endswith("-deduped") for m in baselines) and not any(m.endswith("-deduped") for m in suite.models)
    assert "gender_bias" in deduped.findings and "gender_bias" not in suite.findings
    assert len(suite.steps) == 154 and suite.steps[:4] == (0, 1, 2, 4) and suite.final_step == 143000
    assert {512, 1000, 142000} <= set(suite.steps) and 600 not in suite.steps
    assert deduped.steps == suite.steps and deduped.tokens_per_step == suite.tokens_per_step == 2_097_152
    assert suite.default("memorization", "suppress_eod") is True, "the authors' min_length=64 by default"
    assert suite.default("memorization", "suppress_eod", False) is False, "overridable"
    assert suite.default("memorization", "dtype") == "float16"
    spec = deduped.spec("pythia-6.9b-deduped")
    assert (spec.layers, spec.hidden, spec.heads, spec.vocab, spec.hub_id) == (
        32,
        4096,
        32,
        50432,
        "EleutherAI/pythia-6.9b-deduped",
    )
    config = suite.spec("pythia-70m").config()
    assert config.use_parallel_residual and not config.tie_word_embeddings


def test_checkpoint_lookup_and_errors():
    suite = get_suite("pythia")
    assert suite.checkpoint("pythia-1b", "main") == Checkpoint("pythia", "pythia-1b", 143000, "step143000")
    assert suite.checkpoint("pythia-1b", "step512").revision == "step512"
    assert suite.nearest_step(1400) == 1000 and suite.nearest_step(700) == 512
    with pytest.raises(CheckpointNotFound, match=r"nearest is step1000\. Valid steps: 0, 1, 2, 4"):
        suite.checkpoint("pythia-1b", 1234)
    with pytest.raises(CheckpointNotFound, match="no model 'pythia-3b'"):
        suite.checkpoint("pythia-3b", 1000)
    with pytest.raises(CheckpointNotFound, match="'latest' is not one of the pythia suite's, which are named like"):
        suite.checkpoint("pythia-1b", "latest")
    with pytest.raises(
        CheckpointNotFound, match="unknown suite 'opt'; known: cifar10, cifarnet, fashion-mnist, gpt-neox-20b, micro, "
    ):
        get_suite("opt")
    with pytest.raises(CheckpointNotFound, match="pythia-deduped suite"):
        suite.checkpoint("pythia-70m-deduped", 1000)


def test_gpt_neox_20b_is_a_suite_with_one_checkpoint():
    suite = get_suite("gpt-neox-20b")
    assert suite.checkpoint("gpt-neox-20b") == Checkpoint("gpt-neox-20b", "gpt-neox-20b", 150000, "main")
    assert suite.checkpoint("gpt-neox-20b", "main") == suite.checkpoint("gpt-neox-20b", 150000)
    assert round(suite.spec("gpt-neox-20b").params / 1e9, 2) == 20.55  # the paper's 20.55B parameters
    assert set(suite.findings) == {"simplicity_bias", "term_frequency"}, "no intermediate checkpoints: no memorization"
    assert suite.default("term_frequency", "dtype") == "float16"
    with pytest.raises(CheckpointNotFound, match="no checkpoint at step 1000"):
        suite.checkpoint("gpt-neox-20b", 1000)


def test_importing_the_package_loads_no_suite():
    code = (
        "import sys, pythia_repro.cli, pythia_repro.findings, pythia_repro.suites\n"
        "print(sorted(m for m in sys.modules if m.startswith('pythia_repro.suites.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out.strip()))
    assert loaded.isdisjoint(BUILT_IN.values()), "no suite's module (its corpus, its models)"
    machinery = {"base", "loading", "registry", "audit", "facts"}  # what every suite shares
    assert loaded == {f"pythia_repro.suites.{name}" for name in machinery}


def test_suites_setting_is_checked(monkeypatch):
    monkeypatch.setenv("PYTHIA_REPRO_SUITES", "broken")
    with pytest.raises(CheckpointNotFound, match="'broken' is not of the form name=package.module"):
        suite_names()
    monkeypatch.setenv("PYTHIA_REPRO_SUITES", "mine=no_such_module_here")
    with pytest.raises(CheckpointNotFound, match="suite 'mine': cannot import its module no_such_module_here"):
        get_suite("mine")
    monkeypatch.setenv("PYTHIA_REPRO_SUITES", "mine=json")
    with pytest.raises(CheckpointNotFound, match=r"suite module json did not call register_suite\('mine'"):
        get_suite("mine")


def test_pythia_training_rows_need_a_configured_pile(monkeypatch):
    monkeypatch.delenv("PYTHIA_REPRO_PILE", raising=False)
    monkeypatch.setenv("PYTHIA_REPRO_PILE_DEDUPED", "/nowhere/document")
    with pytest.raises(CheckpointNotFound, match="set PYTHIA_REPRO_PILE to"):
        get_suite("pythia").training_rows()
    monkeypatch.setenv("PYTHIA_REPRO_PILE", "/somewhere/document")
    monkeypatch.delenv("PYTHIA_REPRO_PILE_DEDUPED")
    with pytest.raises(CheckpointNotFound, match="pythia-deduped suite; set PYTHIA_REPRO_PILE_DEDUPED to"):
        get_suite("pythia-deduped").training_rows()


@pytest.fixture(scope="module")
def fake_hub(tmp_path_factory):
    """A Hugging Face cache holding tiny random GPT-NeoX weights under the real pythia-70m repo id."""
    root = tmp_path_factory.mktemp("hf")
    model = random_neox(0, positions=64)
    model.save_pretrained(root / "saved", safe_serialization=True)
    hub_entry(root / "hub", "EleutherAI/pythia-70m", "step1000", saved_files(model))
    return root


def _run_offline(fake_hub: Path, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(fake_hub), "HF_HUB_CACHE": str(fake_hub / "hub")}
    env.pop("PYTHIA_REPRO_MIRROR", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300
    )


def test_load_pythia_from_an_offline_hub_cache(fake_hub):
    result = _run_offline(
        fake_hub,
        """
        import json, torch
        from safetensors.torch import load_file
        from pythia_repro.suites import Checkpoint, CheckpointNotFound, get_suite, load_model
        model = load_model(get_suite("pythia").checkpoint("pythia-70m", 1000))
        hub = __import__("pathlib").Path(__import__("os").environ["HF_HUB_CACHE"])
        snap = next(hub.glob("models--EleutherAI--pythia-70m/snapshots/*"))
        ref = load_file(snap / "model.safetensors")
        same = (torch.equal(model.get_output_embeddings().weight, ref["embed_out.weight"])
                and torch.equal(model.get_input_embeddings().weight, ref["gpt_neox.embed_in.weight"]))
        try:
            load_model(get_suite("pythia").checkpoint("pythia-70m", 2000))
            missing = "loaded"
        except CheckpointNotFound as err:
            missing = str(err)
        print(json.dumps({"dtype": str(model.dtype), "training": model.training, "same": same, "missing": missing,
                          "attn": model.config._attn_implementation}))
    """,
    )
    assert result.returncode == 0, result.stderr
    assert "Loading weights" not in result.stderr, "transformers' per-load progress bar leaks into notebooks"
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {**out, "dtype": "torch.float32", "training": False, "same": True, "attn": "sdpa"}
    assert (
        "EleutherAI/pythia-70m" in out["missing"] and "step2000" in out["missing"] and "offline=True" in out["missing"]
    )


def test_local_mirror_folder(tmp_path, fake_hub, monkeypatch):
    from pythia_repro.suites import load_model

    folder = tmp_path / "mirror" / "pythia-160m" / "step512"
    shutil.copytree(fake_hub / "saved", folder)
    monkeypatch.setenv("PYTHIA_REPRO_MIRROR", str(tmp_path / "mirror"))
    model = load_model(get_suite("pythia").checkpoint("pythia-160m", 512), device="cpu")
    assert model.config.hidden_size == 16
    with pytest.raises(CheckpointNotFound, match=r"mirror/pythia-160m/step1000/config\.json"):
        load_model(get_suite("pythia").checkpoint("pythia-160m", 1000))
