"""The authors' image suites (`suites.vision`) on the CPU, against a replica of the hub's image datasets (offline):
the data as read, batches, training that resumes after a kill to the same weights, the plan, and the README's
commands, which train a tiny suite on Ray and reproduce `simplicity_bias_images` on it."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from pythia_repro import settings
from pythia_repro.evals import image_sets
from pythia_repro.findings import simplicity_bias_images as sbi
from pythia_repro.suites import get_suite, vision
from pythia_repro.suites.registry import IMAGE_DATASETS
from pythia_repro.testing.replica import GREY, write_image_datasets

from conftest import run_readme_block

pytestmark = pytest.mark.xdist_group("ray")  # one Ray cluster at a time on this machine


@pytest.fixture(scope="module")
def image_hub(tmp_path_factory):
    hub = tmp_path_factory.mktemp("image-hub") / "hub"
    write_image_datasets(hub)
    return hub


@pytest.fixture
def offline(image_hub, monkeypatch):
    """The replica as the hub cache, offline, and the tiny variant of the image suites."""
    env = {"HF_HUB_CACHE": str(image_hub), "HF_HUB_OFFLINE": "1", settings.variable("vision_variant"): "tiny"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_every_dataset_is_read_from_the_hub_cache_as_rgb_with_its_classes(offline, image_hub):
    for name, source in vision.DATASETS.items():
        pixels, labels, classes, commit = vision.read_split(source, "train")
        assert pixels.shape == (200, 3, 8, 8) and pixels.dtype == np.uint8, name
        assert classes == 10 and set(labels) == set(range(10)), name
        grey = (pixels[:, 0] == pixels[:, 1]).all() and (pixels[:, 1] == pixels[:, 2]).all()
        assert grey == (name in GREY), f"{name}: greyscale images become three equal channels, RGB stay RGB"
        assert (image_hub / f"datasets--{source.repo.replace('/', '--')}" / "snapshots" / commit).is_dir()


def test_a_dataset_missing_offline_names_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(vision.DatasetMissing, match="hf download uoft-cs/cifar10 --repo-type dataset"):
        vision.read_split(vision.DATASETS["cifar10"], "train")


def test_each_dataset_is_a_suite_of_seeded_runs_checkpointed_at_powers_of_two(offline):
    assert tuple(vision.DATASETS) == IMAGE_DATASETS
    suite = get_suite("svhn")
    assert "simplicity_bias_images" in suite.findings
    assert suite.steps == (0, 1, 2, 4, 8, 16)
    assert set(suite.models) == {f"svhn-{a}-test{s}" for a in ("convnext", "regnet", "swin") for s in ("", "-seed1")}
    authors = vision.config_for("svhn", "authors")
    assert authors.lr == 1e-4 and vision.config_for("cifar10", "authors").lr == 1e-3
    assert authors.steps[-1] == 2**16 and len(authors.steps) == 18 and authors.batch_size == 128
    assert authors.key() != vision.config_for("svhn", "tiny").key()


def test_batches_walk_one_permutation_per_epoch():
    n, size = 20, 8
    rows = np.concatenate([vision.batch_rows(n, size, 3, step) for step in range(5)])
    assert sorted(rows[:20]) == list(range(20)) and sorted(rows[20:40]) == list(range(20))
    assert not np.array_equal(rows[:20], rows[20:40]), "each epoch has its own order"
    assert np.array_equal(vision.batch_rows(n, size, 3, 3), rows[24:32]), "a step's batch needs no replay"


def test_a_killed_run_resumes_from_its_saved_state_to_the_same_weights(offline, tmp_path, monkeypatch):
    config = vision.config_for("cifar10")
    run = config.runs[4]  # a Swin: drop path draws random numbers at every step
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for root in (whole, killed):
        vision._build_data(config, root)
    vision.train_run(config, run, whole, progress=False)

    real = vision._step_seed

    def dying(seed: int, step: int) -> int:
        if step == 7:
            raise KeyboardInterrupt
        return real(seed, step)

    monkeypatch.setattr(vision, "_step_seed", dying)
    with pytest.raises(KeyboardInterrupt):
        vision.train_run(config, run, killed, progress=False)
    assert json.loads((killed / run[0] / "resume" / "state.json").read_text())["step"] == 4
    assert not (killed / run[0] / "step8").exists()
    monkeypatch.setattr(vision, "_step_seed", real)
    vision.train_run(config, run, killed, progress=False)
    for step in config.steps:
        file = f"{run[0]}/step{step}/model.safetensors"
        assert (whole / file).read_bytes() == (killed / file).read_bytes(), file
    assert (whole / run[0] / "losses.json").read_text() == (killed / run[0] / "losses.json").read_text()


def test_the_readme_commands_train_a_suite_on_ray_and_reproduce_the_finding_on_it(offline, project):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")} | offline
    env[settings.variable("root")] = str(project)
    run = run_readme_block("vision-commands", env, timeout=1200)
    plan = run.stdout.split("image suite ready")[0]
    assert "training the cifar10 suite (tiny variant: 6 runs of 16 steps at batch 8" in plan
    assert "planned once it is built" in plan
    root = vision.suite_dir(vision.config_for("cifar10"))
    manifest = json.loads((root / "manifest.json").read_text())
    assert set(manifest["models"]) == {r[0] for r in vision.config_for("cifar10").runs}
    assert manifest["split"] == {"train": 200, "validation": 40} and manifest["source"]["repo"] == "uoft-cs/cifar10"
    assert not list(root.rglob("resume")) and not list(root.rglob("*.bin")), "no training state left; safetensors"
    folder = project / "results" / "cifar10" / "simplicity_bias_images"
    claims = pd.read_csv(folder / "claims.csv")
    assert list(claims.id) == list(sbi.STATEMENTS) and set(claims.profile) == {"cifar10"}
    curves = pd.read_csv(folder / "curves.csv")
    assert set(curves.set) == set(image_sets.SETS) - {"third-order"}, "3×8×8 images are too large for third order"
    assert set(curves.arch) == {"convnext", "regnet", "swin"} and set(curves.step) == set(
        vision.config_for("cifar10").steps
    )
    for name in (
        "set_moments.csv",
        "curve_shapes.csv",
        "curves_swin.png",
        "examples.png",
        "simplicity_bias_images.ipynb",
    ):
        assert (folder / name).is_file(), name
