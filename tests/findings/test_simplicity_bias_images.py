"""The image half of the simplicity bias: the evaluation sets carry the statistics they claim, the image suite builds
the same bytes twice, every claim can fail, and the finding runs end to end on the tiny image suite."""

import json

import numpy as np
import pandas as pd
import pytest

from pythia_repro.evals import image_sets
from pythia_repro.findings import simplicity_bias_images as sbi

# -- the evaluation sets --


@pytest.fixture(scope="module")
def correlated():
    """Two classes of correlated pixels in [0, 1] (a shared latent value), different means and covariances."""
    rng = np.random.default_rng(0)
    d, n = 6, 4000
    latent = rng.random((2 * n, 1))
    scale = np.where(np.arange(2 * n)[:, None] < n, 0.5, 0.3)
    x = np.clip(0.2 + scale * latent + 0.05 * rng.standard_normal((2 * n, d)), 0, 1)
    x[n:, : d // 2] = 1 - x[n:, : d // 2]
    y = np.repeat([0, 1], n)
    return x, y, image_sets.ClassStats.fit(x, y, 2)


def test_ot_map_carries_one_covariance_onto_the_other(correlated):
    _, _, stats = correlated
    a, b = stats.covariances
    t = image_sets.ot_map(a, b)
    np.testing.assert_allclose(t @ a @ t.T, b, atol=1e-8)
    np.testing.assert_allclose(t, t.T, atol=1e-10)  # the Gaussian OT map is symmetric positive definite
    assert np.linalg.eigvalsh(t).min() > 0


def test_max_entropy_density_has_the_class_mean_and_stays_in_the_unit_interval():
    means = np.array([0.001, 0.05, 0.3, 0.5, 0.8, 0.999])
    rates = image_sets.max_entropy_rate(means)
    assert rates[3] == pytest.approx(0, abs=1e-6) and rates[0] < 0 < rates[-1]
    draws = image_sets._max_entropy_draw(rates, np.random.default_rng(1).random((200_000, len(means))))
    assert draws.min() >= 0 and draws.max() <= 1
    expected = np.clip(means, image_sets.MEAN_CLIP, 1 - image_sets.MEAN_CLIP)
    np.testing.assert_allclose(draws.mean(0), expected, atol=3e-3)


def test_bounded_shift_reaches_the_target_mean_inside_the_bounds():
    x = np.random.default_rng(2).random((300, 5)) ** 3
    target = np.array([0.9, 0.1, 0.5, 0.02, 0.7])
    shifted = image_sets.bounded_shift(x, target)
    assert shifted.min() >= 0 and shifted.max() <= 1
    np.testing.assert_allclose(shifted.mean(0), target, atol=1e-5)


def test_each_set_matches_the_orders_it_claims_and_not_the_others(correlated):
    x, y, stats = correlated
    fitted = ("truncated-normal", "third-order")  # tested below, on skewed classes
    names = tuple(name for name in image_sets.SETS if name not in fitted)
    sets = image_sets.build_sets(stats, x[::10], y[::10], per_class=2000, seed=0, names=names)
    moments = image_sets.set_moments(sets, stats).groupby("set")[["mean_error", "covariance_error"]].max()
    for name in ("independent", "max-entropy", "gaussian", "quantile-edit", "mean-shift"):
        assert moments.loc[name, "mean_error"] < 0.05, name
    assert moments.loc["gaussian", "covariance_error"] < 0.15
    assert moments.loc["ot-edit", "covariance_error"] < 0.25, "the OT edit carries the target covariance"
    for first_order in ("independent", "max-entropy", "quantile-edit"):
        assert moments.loc[first_order, "covariance_error"] > 0.5, f"{first_order} has no correlations"
    edited = sets["ot-edit"]
    assert (edited.labels != edited.sources).all(), "an edit always goes to another class"


def test_bounded_fits_stay_in_the_cube_and_match_the_orders_they_claim():
    """Skewed classes (a squared latent value): the truncated normal matches mean and covariance inside [0, 1]; the
    third-order fit also matches coskewness, which the Gaussian and the truncated normal miss."""
    rng = np.random.default_rng(5)
    d, n = 5, 2000
    latent = rng.random((2 * n, 1)) ** 2
    x = np.clip(0.1 + 0.6 * latent + 0.05 * rng.standard_normal((2 * n, d)), 0, 1)
    x[n:, :2] = 1 - x[n:, :2]
    y = np.repeat([0, 1], n)
    stats = image_sets.ClassStats.fit(x, y, 2)
    names = ("gaussian", "truncated-normal", "third-order")
    sets = image_sets.build_sets(stats, x[::10], y[::10], per_class=400, seed=0, names=names)
    for name in ("truncated-normal", "third-order"):
        assert sets[name].pixels.min() >= 0 and sets[name].pixels.max() <= 1, name
    moments = image_sets.set_moments(sets, stats).groupby("set")[["mean_error", "covariance_error", "coskewness_error"]]
    worst = moments.max()
    assert (
        worst.loc["truncated-normal", "mean_error"] < 0.02 and worst.loc["truncated-normal", "covariance_error"] < 0.1
    )
    assert worst.loc["third-order", "mean_error"] < 0.02 and worst.loc["third-order", "covariance_error"] < 0.1
    assert worst.loc["third-order", "coskewness_error"] < 0.5 * worst.loc["gaussian", "coskewness_error"]
    assert worst.loc["third-order", "coskewness_error"] < 0.5 * worst.loc["truncated-normal", "coskewness_error"]


def test_sets_are_drawn_from_their_seed_and_each_from_its_own_stream(correlated):
    x, y, stats = correlated
    one = image_sets.build_sets(stats, x[::10], y[::10], per_class=50, seed=3)
    two = image_sets.build_sets(stats, x[::10], y[::10], per_class=50, seed=3)
    other = image_sets.build_sets(stats, x[::10], y[::10], per_class=50, seed=4)
    assert all(np.array_equal(one[k].pixels, two[k].pixels) for k in one)
    assert not np.array_equal(one["gaussian"].pixels, other["gaussian"].pixels)
    alone = image_sets.build_sets(stats, x[::10], y[::10], per_class=50, seed=3, names=("third-order", "mean-shift"))
    assert all(np.array_equal(alone[k].pixels, one[k].pixels) for k in alone), "a set does not depend on the others"
    with pytest.raises(ValueError, match="unknown evaluation set"):
        image_sets.build_sets(stats, x[::10], y[::10], per_class=50, seed=3, names=("cubic",))


# -- the claims, on curves made to pass and to fail --

STEPS = (0, 1, 2, 4, 8, 16, 32)
ITEMS = 100  # per set and checkpoint: the curves below move by tenths, far beyond 100 items' paired noise
PASSING = {
    "real": (0.1, 0.5, 0.8, 0.9, 0.95, 0.96, 0.96),
    "independent": (0.1, 0.6, 0.9, 0.8, 0.6, 0.4, 0.3),
    "max-entropy": (0.1, 0.6, 0.85, 0.8, 0.6, 0.4, 0.3),
    "gaussian": (0.1, 0.4, 0.7, 0.9, 0.7, 0.5, 0.4),
    "truncated-normal": (0.1, 0.4, 0.75, 0.9, 0.7, 0.5, 0.4),
    "third-order": (0.1, 0.3, 0.6, 0.8, 0.9, 0.7, 0.6),
    "ot-edit": (0.1, 0.4, 0.7, 0.8, 0.6, 0.4, 0.3),
    "quantile-edit": (0.1, 0.3, 0.5, 0.5, 0.4, 0.3, 0.3),
    "mean-shift": (0.1, 0.2, 0.3, 0.3, 0.2, 0.2, 0.2),
}


def per_row(curves: dict[str, tuple[float, ...]], items: int = ITEMS) -> pd.DataFrame:
    """Scores of `items` images per set whose accuracy follows `curves` exactly (the first share of items right),
    loss 0.1 when right and 3 when wrong; three seeds of two architectures."""
    frames = []
    for arch in ("mlp", "cnn"):
        for k in range(3):
            for name, accuracy in curves.items():
                for step, a in zip(STEPS, accuracy):
                    right = np.arange(items) < round(a * items)
                    frames.append(
                        pd.DataFrame(
                            {
                                "run": f"digits-{arch}" + (f"-seed{k}" if k else ""),
                                "arch": arch,
                                "set": name,
                                "step": step,
                                "item": np.arange(items),
                                "correct": right,
                                "loss": np.where(right, 0.1, 3.0),
                            }
                        )
                    )
    return pd.concat(frames, ignore_index=True)


def verdicts(curves) -> dict[str, str]:
    _, shapes = sbi.curves(per_row(curves))
    return {c.id.split(".")[1]: c.verdict for c in sbi.claims(shapes, chance=0.1)}


def test_every_claim_holds_on_curves_that_show_the_effect():
    assert set(verdicts(PASSING).values()) == {"reproduced"}


@pytest.mark.parametrize(
    ("change", "fails"),
    [
        (dict.fromkeys(sbi.MAX_ENTROPY, (0.1,) * 7), {"early_competence", "lost_later", "loss_u_shaped"}),
        (dict.fromkeys(sbi.MAX_ENTROPY, (0.1, 0.5, 0.8, 0.9, 0.9, 0.9, 0.9)), {"lost_later", "loss_u_shaped"}),
        ({"real": (0.1, 0.5, 0.9, 0.9, 0.95, 0.7, 0.6)}, {"lost_later", "real_control"}),
        ({"gaussian": (0.1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)}, {"increasing_order"}),
        ({"third-order": (0.1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)}, {"increasing_order"}),
        ({"ot-edit": (0.1, 0.4, 0.7, 0.8, 0.8, 0.8, 0.8)}, {"ot_edits"}),
    ],
)
def test_each_claim_fails_when_its_effect_is_absent(change, fails):
    found = verdicts({**PASSING, **change})
    assert {claim for claim, verdict in found.items() if verdict != "reproduced"} == fails


def test_a_fall_is_judged_against_the_paired_noise_of_the_same_images():
    slight = dict.fromkeys(sbi.MAX_ENTROPY, (0.1, 0.6, 0.9, 0.9, 0.9, 0.89, 0.885))
    rows = per_row({**PASSING, **slight}, items=400)
    assert {c.id: c.verdict for c in sbi.claims(sbi.curves(rows)[1], 0.1)}[
        "simplicity_bias_images.lost_later"
    ] == "reproduced", "6 of 400 images lost and none gained: a fall beyond the paired noise"
    final = rows.set.isin(sbi.MAX_ENTROPY) & (rows.step == STEPS[-1])
    rows.loc[final, "correct"] = rows[final].groupby(["run", "set"]).correct.transform(lambda c: np.roll(c, 100))
    assert {c.id: c.verdict for c in sbi.claims(sbi.curves(rows)[1], 0.1)}[
        "simplicity_bias_images.lost_later"
    ] == "not reproduced", "the same fall among 194 images that changed either way: within the noise"


# -- the image suite and the finding on it --


@pytest.fixture
def images_tiny(tiny):
    """The tiny micro image suite's folder (the `tiny` fixture puts it beside the tiny micro suite)."""
    from pythia_repro.suites import micro, micro_images

    return micro.suite_dir(micro_images.variant_config())


def test_the_image_suite_is_checkpointed_at_powers_of_two_with_seeds_named_like_pythias(images_tiny):
    import torch

    from pythia_repro.suites import get_suite, load_model, micro_images

    suite = get_suite("micro-images")
    assert suite.steps == (0, 1, 2, 4, 8, 16, 32)
    assert set(suite.models) == {"digits-mlp", "digits-mlp-seed1", "digits-cnn", "digits-cnn-seed1"}
    manifest = json.loads((images_tiny / "manifest.json").read_text())
    with np.load(images_tiny / micro_images.DATA, allow_pickle=False) as data:
        assert not set(data["train_index"]) & set(data["val_index"]), "the split is disjoint"
        assert data["train_x"].min() >= 0 and data["train_x"].max() <= 1
        shares = np.bincount(data["train_y"]) / np.bincount(data["val_y"])
        assert shares.max() / shares.min() < 1.5, "stratified"
        assert manifest["split"] == {"train": len(data["train_y"]), "validation": len(data["val_y"])}
    model = load_model(suite.checkpoint("digits-cnn-seed1", 8), "cpu", "float32")
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    assert not list(images_tiny.rglob("*.bin")) and not list(images_tiny.rglob("*.pt")), "safetensors only"


def test_the_image_suite_rebuilds_byte_identically(images_tiny):
    from pythia_repro.suites import micro_images

    before = json.loads((images_tiny / "manifest.json").read_text())["contents"]
    micro_images.build(force=True, progress=False)
    after = json.loads((images_tiny / "manifest.json").read_text())["contents"]
    assert {k: v for k, v in after.items() if k != "manifest.json"} == before


def test_a_missing_checkpoint_file_is_named_with_what_to_run(images_tiny):
    from pythia_repro.suites import CheckpointNotFound, get_suite, load_model

    (images_tiny / "digits-mlp" / "step4" / "model.safetensors").unlink()
    with pytest.raises(CheckpointNotFound, match="digits-mlp/step4/model.safetensors is missing; run"):
        load_model(get_suite("micro-images").checkpoint("digits-mlp", 4), "cpu", "float32")


def test_micro_profile_runs_end_to_end_on_the_tiny_image_suite(project, images_tiny):
    from pythia_repro.run import reproduce

    folder = reproduce("simplicity_bias_images", "micro", {"per_class": 10})
    claims = pd.read_csv(folder / "claims.csv")
    assert list(claims[claims.profile == "micro"].id) == list(sbi.STATEMENTS)
    curves = pd.read_csv(folder / "curves.csv")
    assert set(curves.set) == set(image_sets.SETS) and set(curves.step) == {0, 1, 2, 4, 8, 16, 32}
    moments = pd.read_csv(folder / "set_moments.csv")
    assert set(moments.set) == set(image_sets.SETS)
    for name in ("curve_shapes.csv", "curves_mlp.png", "curves_cnn.pdf", "examples.png"):
        assert (folder / name).is_file(), name
    first = (folder / "curves.csv").read_bytes()
    assert (reproduce("simplicity_bias_images", "micro", {"per_class": 10}) / "curves.csv").read_bytes() == first


def test_a_list_partly_unknown_is_refused_whole_naming_the_bad_values(images_tiny):
    from pythia_repro.parameters import BadParameter

    assert len(sbi.prepare("micro", models=["mlp"], steps=[8], per_class=2, progress=False).task.jobs) == 2
    for asked, bad in (
        ({"steps": [0, 16, 32, 99999]}, "no 99999; valid: 0, 1, 2, 4, 8, 16, 32"),
        ({"models": ["digits-mlp", "digits-nope"]}, "no 'digits-nope'; valid: "),
        ({"models": ["micro-xs"]}, "no 'micro-xs'; valid: "),
    ):
        with pytest.raises(BadParameter, match=bad):
            sbi.prepare("micro", per_class=2, progress=False, **asked)


def test_the_sets_are_drawn_once_then_read_back_bit_for_bit_and_a_damaged_copy_is_drawn_again(
    images_tiny, capsys, monkeypatch
):
    from pythia_repro.paths import cache_home

    # a sampled set and an edited one: the cache is the same for every set, and the fitted ones, which take 6 s a
    # draw here, are drawn bit for bit again from their seed in test_sets_are_drawn_from_their_seed_and_each_…
    monkeypatch.setattr(image_sets, "feasible_sets", lambda pixels: ("real", "gaussian", "ot-edit"))
    suite = sbi.scored_image_suite("micro")
    drawn = sbi.make_sets(suite, 3, 0)
    [cached] = (cache_home() / "image_sets").glob("*.npz")
    read = sbi.make_sets(suite, 3, 0)
    assert np.array_equal(read.pixels, drawn.pixels) and read.identity == drawn.identity
    assert read.items.equals(drawn.items) and read.moments.equals(drawn.moments)
    assert set(read.items.set) == {"real", "gaussian", "ot-edit"}
    assert len(list((cache_home() / "image_sets").glob("*.npz"))) == 1, "read, not drawn again"
    sbi.make_sets(suite, 4, 0)
    assert len(list((cache_home() / "image_sets").glob("*.npz"))) == 2, "another size is another entry"
    cached.write_bytes(cached.read_bytes()[:-10])
    again = sbi.make_sets(suite, 3, 0)
    assert "moved to" in capsys.readouterr().err and np.array_equal(again.pixels, drawn.pixels)
