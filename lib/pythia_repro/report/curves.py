"""The shape of one training curve, judged against that run's own noise: a first minimum, a rise, a second descent.

Every finding that reads a loss curve over checkpoints (the simplicity bias on text, and on images) calls
`u_shape`. A rise is a difference of two points of the same curve, so its noise is that run's measurement noise
of the difference: a paired bootstrap over the scored items where per-item losses exist, else per-checkpoint
bounds (the authors' released ones). The spread across seeds answers another question (do runs agree) and is
never used here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

NOISE_FLOOR = 0.01  # no change smaller than twice this counts (each side of a difference), whatever the noise says
MIN_DEPTH = 0.5  # a first minimum lies at least this share of the way from the initial to the lowest value
RESAMPLES = 1000
PAIRED_BOOTSTRAP = f"paired percentile bootstrap over scored items of the difference, {RESAMPLES} resamples, 95%"
COMBINED_BOUNDS = (
    "the two checkpoints' half-widths combined as independent, √(h_i² + h_j²): conservative, since both "
    "checkpoints score the same items"
)


class Noise(Protocol):
    """The 95% half-width of the difference between two checkpoints `j` and `i` of one run's curve."""

    method: str

    def half_width(self, i: int, j: int) -> float: ...


@dataclass
class PairedBootstrap:
    """Percentile bootstrap of a difference of two checkpoints' mean losses, resampling items (sequences, images)
    jointly across checkpoints, so each item is paired with itself."""

    means: np.ndarray  # [resamples, checkpoints]: the curve's mean under each resample of the items
    method: str = PAIRED_BOOTSTRAP

    @classmethod
    def of(cls, values: np.ndarray, rng: np.random.Generator, resamples: int = RESAMPLES) -> PairedBootstrap:
        """`values` is [checkpoints, items]: one loss per item at every checkpoint, items in the same order."""
        n = values.shape[1]
        weights = rng.multinomial(n, np.full(n, 1 / n), size=resamples) / n  # [resamples, items]
        return cls(weights @ values.T)

    def half_width(self, i: int, j: int) -> float:
        low, high = np.quantile(self.means[:, j] - self.means[:, i], [0.025, 0.975])
        return float(high - low) / 2


@dataclass
class PointBounds:
    """Half-widths given per checkpoint (e.g. the authors' mean ± 1.96·√(mean/n)) when only means were released.
    A difference's half-width treats the two as independent; the same items at both checkpoints make the real
    paired noise smaller, so this errs towards calling a change noise."""

    half_widths: np.ndarray
    name: str

    @property
    def method(self) -> str:
        return f"{self.name}; {COMBINED_BOUNDS}"

    def half_width(self, i: int, j: int) -> float:
        return float(np.hypot(self.half_widths[i], self.half_widths[j]))


def _threshold(noise: Noise, i: int, j: int, floor: float) -> float:
    return max(noise.half_width(i, j), 2 * floor)


EMPTY = {
    "u_shaped": False,
    "first_min_step": np.nan,
    "first_min_loss": np.nan,
    "peak_after_min_step": np.nan,
    "peak_after_min_loss": np.nan,
    "rise": np.nan,
    "rise_threshold": np.nan,
    "second_descent": False,
    "second_descent_step": np.nan,
    "lowest_after_peak": np.nan,
    "descent_threshold": np.nan,
}


def u_shape(steps: np.ndarray, loss: np.ndarray, noise: Noise, floor: float = NOISE_FLOOR) -> dict:
    """The first local minimum followed by a rise beyond the noise, the peak of that rise, and whether the curve
    later falls below that minimum by more than the noise (a second descent). NaN where there is no U.

    Only minima at least `MIN_DEPTH` of the way down from the initial to the lowest value count: a wobble of the
    first few steps (pythia-12b dips at step 4 and spikes at step 8) is not the fit of low-order statistics.
    Without a U, `rise` and `rise_threshold` give the largest rise after a deep-enough minimum (0 if none), so
    runs can be compared whatever their verdict."""
    n = len(loss)
    deep_enough = loss[0] - MIN_DEPTH * (loss[0] - loss.min())
    best = (0.0, np.nan)
    for i in range(1, n - 1):
        if not (loss[i] <= loss[i - 1] and loss[i] <= loss[i + 1] and loss[i] <= deep_enough):
            continue
        end = next((j for j in range(i + 1, n) if loss[j] < loss[i]), n)  # the rise lasts until it falls below
        peak = i + 1 + int(np.argmax(loss[i + 1 : end]))
        rise, threshold = float(loss[peak] - loss[i]), _threshold(noise, i, peak, floor)
        if rise <= threshold:
            best = max(best, (rise, threshold), key=lambda r: r[0])
            continue
        after = peak + 1 + np.arange(n - peak - 1)
        below = [k for k in after if loss[i] - loss[k] > _threshold(noise, i, k, floor)]
        lowest = int(after[np.argmin(loss[after])]) if len(after) else None
        return {
            "u_shaped": True,
            "first_min_step": int(steps[i]),
            "first_min_loss": float(loss[i]),
            "peak_after_min_step": int(steps[peak]),
            "peak_after_min_loss": float(loss[peak]),
            "rise": rise,
            "rise_threshold": threshold,
            "second_descent": bool(below),
            "second_descent_step": int(steps[below[0]]) if below else np.nan,
            "lowest_after_peak": float(loss[lowest]) if lowest is not None else np.nan,
            "descent_threshold": _threshold(noise, i, lowest, floor) if lowest is not None else np.nan,
        }
    return {**EMPTY, "rise": best[0], "rise_threshold": best[1]}
