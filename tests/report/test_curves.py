"""One run's shape judged by its own noise (`curves.u_shape`), for both noise sources; seeds answer replication."""

import numpy as np
import pandas as pd
import pytest

from pythia_repro.findings import simplicity_bias as sb
from pythia_repro.report import curves

STEPS = np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000])
U = np.array([10, 10, 9, 8, 7, 6, 5, 4.5, 4, 4.3, 4.6, 4.2, 3.8])  # minimum 4 at 128, peak 4.6 at 512, then 3.8


def bounds(half):
    return curves.PointBounds(np.full(len(STEPS), half), "test bound")


@pytest.mark.parametrize("half,u_shaped", [(0.1, True), (0.5, False)])
def test_a_rise_counts_only_beyond_the_per_checkpoint_bounds(half, u_shaped):
    shape = curves.u_shape(STEPS, U, bounds(half))
    assert shape["u_shaped"] == u_shaped
    assert shape["rise"] == pytest.approx(0.6) and shape["rise_threshold"] == pytest.approx(np.hypot(half, half))
    if u_shaped:
        assert shape["first_min_step"] == 128 and shape["peak_after_min_step"] == 512
        assert shape["second_descent"] and shape["second_descent_step"] == 2000


def test_a_second_descent_counts_only_beyond_the_noise():
    shallow = U.copy()
    shallow[-2:] = [4.2, 3.95]  # falls 0.05 below the minimum: inside a 0.1 bound, beyond a 0.01 one
    assert not curves.u_shape(STEPS, shallow, bounds(0.1))["second_descent"]
    assert curves.u_shape(STEPS, shallow, bounds(0.01))["second_descent_step"] == 2000


def test_a_wobble_of_the_first_steps_is_not_the_first_minimum():
    transient = np.array([10, 9.5, 11, 9, 7, 6, 5, 4.5, 4, 4.5, 5, 4.6, 4.4])
    assert curves.u_shape(STEPS, transient, bounds(0.02))["first_min_step"] == 128


def test_the_floor_holds_whatever_the_noise_says():
    tiny_rise = U.copy()
    tiny_rise[9:] = [4.005, 4.015, 4.01, 4.01]
    assert not curves.u_shape(STEPS, tiny_rise, bounds(0.0))["u_shaped"]
    assert curves.u_shape(STEPS, tiny_rise, bounds(0.0), floor=0.001)["u_shaped"]


def per_item(curve, spread, n=64, seed=0, shared=0.0):
    """[checkpoints, items] losses whose means follow `curve`: item noise of sd `spread`, independent across
    checkpoints, plus an item effect of sd `shared` common to every checkpoint (what pairing cancels)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, spread, (len(curve), n)) + rng.normal(0, shared, n)
    return curve[:, None] + noise - noise.mean(1, keepdims=True)


@pytest.mark.parametrize("spread,u_shaped", [(0.2, True), (4.0, False)])
def test_a_rise_counts_only_beyond_the_paired_bootstrap(spread, u_shaped):
    noise = curves.PairedBootstrap.of(per_item(U, spread), np.random.default_rng(1))
    assert curves.u_shape(STEPS, U, noise)["u_shaped"] == u_shaped


def test_pairing_cancels_what_every_checkpoint_shares():
    """Items that are hard at every checkpoint widen each mean's interval, not the difference's."""
    values = per_item(U, 0.05, shared=3.0)
    paired = curves.PairedBootstrap.of(values, np.random.default_rng(2))
    assert paired.half_width(8, 10) < 0.05
    unpaired = np.hypot(*(1.96 * values[[8, 10]].std(1) / np.sqrt(values.shape[1])))
    assert unpaired > 0.6, "treated as independent, the same rise would be noise"
    assert curves.u_shape(STEPS, U, paired)["u_shaped"]


def released_like(curve, model, variant):
    """A run shaped like a released file: means with the authors' bound for n = 1024 sequences."""
    low, high = sb.intervals.authors_bound(curve, sb.AUTHORS_SEQUENCES)
    return pd.DataFrame(
        {
            "model": model,
            "variant": variant,
            "order": "bigram",
            "step": STEPS,
            "loss": curve,
            "authors_bound_low": low,
            "authors_bound_high": high,
        }
    )


def test_runs_that_end_far_apart_but_all_rise_are_u_shaped():
    """The pythia-14m case: every seed rises by 0.35 nats or more after its minimum, but the seeds end up to a nat
    apart. Each run is U-shaped by its own noise, and the seed table says so."""
    base = np.array([11, 11, 10.5, 10, 9.5, 9, 8.5, 8, 7.5, 7.2, 7.0, 6.9, 7.0])
    ends = [0.35, 0.5, 0.8, 1.1, 1.43]
    runs = []
    for i, end in enumerate(ends):
        curve = base.copy()
        curve[-1] = 6.9 + end
        runs.append(released_like(curve, "m", "main" if i == 0 else f"seed{i}"))
    summary = sb.curve_summary(pd.concat(runs, ignore_index=True))
    assert summary.u_shaped.all() and (summary.first_min_step == 1000).all()
    table = sb.seed_runs(summary).iloc[0]
    assert table.u_shaped_runs == 5 and table.final_level_sd_across_runs > 0.4
    assert table.rise_ci95_low > 0
    assert sb.seeds_claim(sb.seed_runs(summary)).verdict == "reproduced"
