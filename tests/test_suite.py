import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pythia_repro.suite import Checkpoint, CheckpointNotFound, get_suite, pythia_suite

from conftest import fake_hub_entry, random_neox


def test_pythia_registry():
    suite = pythia_suite()
    assert len(suite.models) == 18
    assert sum(m.endswith("-deduped") for m in suite.models) == 8
    assert len(suite.steps) == 154 and suite.steps[:4] == (0, 1, 2, 4) and suite.final_step == 143000
    assert {512, 1000, 142000} <= set(suite.steps) and 600 not in suite.steps
    spec = suite.spec("pythia-6.9b-deduped")
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
    suite = pythia_suite()
    assert suite.checkpoint("pythia-1b", "main") == Checkpoint("pythia-1b", 143000)
    assert suite.checkpoint("pythia-1b", "step512").revision == "step512"
    assert suite.nearest_step(1400) == 1000 and suite.nearest_step(700) == 512
    with pytest.raises(CheckpointNotFound, match=r"nearest is step1000\. Valid steps: 0, 1, 2, 4"):
        suite.checkpoint("pythia-1b", 1234)
    with pytest.raises(CheckpointNotFound, match="no model 'pythia-3b'"):
        suite.checkpoint("pythia-3b", 1000)
    with pytest.raises(CheckpointNotFound, match="not of the form"):
        suite.checkpoint("pythia-1b", "latest")
    with pytest.raises(CheckpointNotFound, match="unknown suite"):
        get_suite("opt")


def test_pythia_training_rows_need_a_configured_pile(monkeypatch):
    monkeypatch.delenv("PYTHIA_REPRO_PILE", raising=False)
    with pytest.raises(CheckpointNotFound, match="PYTHIA_REPRO_PILE"):
        pythia_suite().training_rows()


@pytest.fixture(scope="module")
def fake_hub(tmp_path_factory):
    """A Hugging Face cache holding tiny random GPT-NeoX weights under the real pythia-70m repo id."""
    root = tmp_path_factory.mktemp("hf")
    model = random_neox(0)
    saved = root / "saved"
    model.save_pretrained(saved, safe_serialization=True)
    fake_hub_entry(root / "hub", "EleutherAI/pythia-70m", "step1000", saved)
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
        from pythia_repro.suite import Checkpoint, CheckpointNotFound, load_model
        model = load_model(Checkpoint("pythia-70m", 1000))
        hub = __import__("pathlib").Path(__import__("os").environ["HF_HUB_CACHE"])
        snap = next(hub.glob("models--EleutherAI--pythia-70m/snapshots/*"))
        ref = load_file(snap / "model.safetensors")
        same = (torch.equal(model.get_output_embeddings().weight, ref["embed_out.weight"])
                and torch.equal(model.get_input_embeddings().weight, ref["gpt_neox.embed_in.weight"]))
        try:
            load_model(Checkpoint("pythia-70m", 2000))
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
    from pythia_repro.suite import load_model

    folder = tmp_path / "mirror" / "pythia-160m" / "step512"
    shutil.copytree(fake_hub / "saved", folder)
    monkeypatch.setenv("PYTHIA_REPRO_MIRROR", str(tmp_path / "mirror"))
    model = load_model(Checkpoint("pythia-160m", 512), device="cpu")
    assert model.config.hidden_size == 16
    with pytest.raises(CheckpointNotFound, match=r"mirror/pythia-160m/step1000/config\.json"):
        load_model(Checkpoint("pythia-160m", 1000))
