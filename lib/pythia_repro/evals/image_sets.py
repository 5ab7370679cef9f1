"""Evaluation sets that carry only some statistics of a class: maximum-entropy samples and edits between classes.

Each set is drawn once from its own recorded seed (the authors redraw at every checkpoint) and labelled with the
class whose statistics it carries. Statistics are those of the training split. Images are flat rows of pixels in
[0, 1]. Orders: 1 matches per-pixel marginals or means; 2 matches means and covariances; 3 adds coskewness.

  independent   order 1: every pixel drawn alone from the class's empirical marginal (the authors' "ICS", their
                per-pixel quantile table sampled uniformly)
  max-entropy   order 1: every pixel drawn alone from the maximum-entropy density on [0, 1] with the class's pixel
                mean, p(x) ∝ exp(b·x) (the authors' "Conrad" distribution)
  gaussian      order 2: the Gaussian with the class mean and a Ledoit–Wolf shrinkage covariance
  truncated-normal
                order 2: the same moments bounded to [0, 1]: samples in (0, 1) (logistic reparametrization) moved
                by L-BFGS until their mean and covariance match, an entropy estimate keeping them spread (the
                authors' truncated-normal fit)
  third-order   order 3: the same fit matching mean, covariance and the full coskewness tensor
                E[(x_i − μ_i)(x_j − μ_j)(x_k − μ_k)] (the authors' script for it fails as written)
  edits (a validation image of class A given the statistics of a class B ≠ A drawn uniformly, labelled B):
  ot-edit       the Gaussian optimal-transport map x' = μ_B + T_AB (x − μ_A), one (A, B) map in memory at a time
  quantile-edit every pixel through A's marginal CDF and B's quantile function
  mean-shift    the set of A's images shifted until its mean is μ_B, clamped to [0, 1] at every iteration
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

from ..integrity import atomic

ORDER = {
    "real": 0,
    "independent": 1,
    "max-entropy": 1,
    "gaussian": 2,
    "truncated-normal": 2,
    "third-order": 3,
    "ot-edit": 2,
    "quantile-edit": 1,
    "mean-shift": 1,
}
SETS = tuple(ORDER)
EDITS = ("ot-edit", "quantile-edit", "mean-shift")  # edited validation images; every other set but "real" is sampled
MEAN_CLIP = 3e-3  # pixel means kept this far inside [0, 1], where the max-entropy density has a finite rate
TRIPLES = 4096  # coskewness compared on this many random (i, j, k) entries: the whole tensor is d³
THIRD_ORDER_PIXELS = 100  # the third-order fit holds the whole d³ coskewness tensor: 8×8 digits' 64 pixels make
# 262,144 entries; CIFAR-10's 3,072 would make 2.9·10¹⁰, so larger images get no third-order set
SHIFT_ITERATIONS = 10_000
FIT_ITERATIONS = 100  # L-BFGS iterations of the bounded fits (the authors' truncated-normal default)
KOLEO_WEIGHT = 1e-3  # weight of the entropy estimate in the bounded fits (the authors')
FIT_MARGIN = 1e-3  # the bounded fits start from draws clamped to [margin, 1 − margin]: at the authors' float eps the
# logistic's gradient vanishes (those pixels never move) and duplicate rows make the entropy estimate −∞


def load_split(path: Path) -> dict[str, np.ndarray]:
    """A built image suite's split (`train_x`, `train_y`, `val_x`, `val_y`, …) with pixels as float32 in [0, 1]
    (the authors' datasets are stored as uint8)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k].astype(np.float32) / 255 if data[k].dtype == np.uint8 else data[k] for k in data.files}


@dataclass
class ClassStats:
    """Per class of the training split: its images, mean, shrinkage covariance and sorted pixel values."""

    images: list[np.ndarray]
    means: np.ndarray  # [classes, d]
    covariances: np.ndarray  # [classes, d, d]

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, classes: int) -> ClassStats:
        from sklearn.covariance import LedoitWolf

        images = [np.asarray(x[y == k], dtype=np.float64) for k in range(classes)]
        if any(len(a) < 2 for a in images):
            raise ValueError("every class needs at least two training images to have a covariance")
        means = np.stack([a.mean(0) for a in images])
        covariances = np.stack([LedoitWolf().fit(a).covariance_ for a in images])
        return cls(images, means, covariances)

    @property
    def classes(self) -> int:
        return len(self.images)


@dataclass
class EvalSet:
    """One evaluation set: pixels, the label (class whose statistics it carries), the source class of an edit."""

    name: str
    pixels: np.ndarray  # [n, d] float32
    labels: np.ndarray
    sources: np.ndarray  # the class an edited image came from; the label itself for samples


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def ot_map(cov_a: np.ndarray, cov_b: np.ndarray) -> np.ndarray:
    """T_AB = Σ_A^{-1/2} (Σ_A^{1/2} Σ_B Σ_A^{1/2})^{1/2} Σ_A^{-1/2}: the linear part of the optimal-transport map
    between Gaussians N(·, Σ_A) → N(·, Σ_B) (it satisfies T Σ_A T = Σ_B)."""
    root = _sqrt_psd(cov_a)
    inverse = np.linalg.pinv(root, hermitian=True)
    return inverse @ _sqrt_psd(root @ cov_b @ root) @ inverse


def max_entropy_rate(mean: np.ndarray) -> np.ndarray:
    """Per pixel, the rate b of p(x) = b·e^{bx}/(e^b − 1) on [0, 1] whose mean e^b/(e^b − 1) − 1/b is `mean`."""

    def mean_of(b: float) -> float:
        return 0.5 if abs(b) < 1e-8 else 1 / -np.expm1(-b) - 1 / b

    clipped = np.clip(mean, MEAN_CLIP, 1 - MEAN_CLIP)
    return np.array(
        [optimize.brentq(lambda b, m=m: mean_of(b) - m, -500.0, 500.0, xtol=1e-12) for m in clipped.ravel()]
    )


def _max_entropy_draw(rate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of p(x) ∝ e^{bx} on [0, 1]: x = log(1 + u(e^b − 1)) / b (x = u where b = 0)."""
    safe = np.where(np.abs(rate) < 1e-8, 1.0, rate)
    x = np.log1p(u * np.expm1(safe)) / safe
    return np.where(np.abs(rate) < 1e-8, u, x)


def _targets(labels: np.ndarray, classes: int, rng: np.random.Generator) -> np.ndarray:
    """A class B ≠ A for every image of class A, uniformly."""
    return (labels + rng.integers(1, classes, size=len(labels))) % classes


def bounded_shift(x: np.ndarray, target: np.ndarray, iterations: int = SHIFT_ITERATIONS) -> np.ndarray:
    """Shift a set of images until its mean is `target`, clamping to [0, 1] after every shift (the authors'
    bounded mean shift)."""
    x = x.copy()
    for _ in range(iterations):
        gap = x.mean(0) - target
        if np.abs(gap).max() < 1e-6:
            break
        x = np.clip(x - gap, 0.0, 1.0)
    return x


STREAMS = {  # each set's stream of the seed: a set does not change when another is added or removed
    "independent": 1,
    "max-entropy": 2,
    "gaussian": 3,
    "ot-edit": 4,
    "quantile-edit": 5,
    "mean-shift": 6,
    "truncated-normal": 7,
    "third-order": 8,
}


def feasible_sets(pixels: int) -> tuple[str, ...]:
    """The sets that can be drawn for images of `pixels` values each (all but third-order above
    `THIRD_ORDER_PIXELS`)."""
    return tuple(name for name in SETS if name != "third-order" or pixels <= THIRD_ORDER_PIXELS)


def build_sets(
    stats: ClassStats,
    val_x: np.ndarray,
    val_y: np.ndarray,
    per_class: int,
    seed: int,
    names: tuple[str, ...] = SETS,
) -> dict[str, EvalSet]:
    """The evaluation sets named (default every one, in `SETS` order), each from its own stream of the seed."""
    unknown = set(names) - set(SETS)
    if unknown:
        raise ValueError(f"unknown evaluation set(s) {sorted(unknown)}; known: {', '.join(SETS)}")
    return {name: _draw(name, stats, val_x, val_y, per_class, seed) for name in SETS if name in names}


_PARTS = ("pixels", "labels", "sources")


def save_sets(path: Path, sets: dict[str, EvalSet]) -> None:
    """Write drawn sets to one `.npz` (arrays only, read back without unpickling), atomically."""
    arrays = {f"{name}/{part}": getattr(s, part) for name, s in sets.items() for part in _PARTS}
    atomic.write_with(path, lambda f: np.savez(f, names=np.array(list(sets)), **arrays))


def load_sets(path: Path) -> dict[str, EvalSet]:
    """Sets written by `save_sets`, in their order."""
    with np.load(path, allow_pickle=False) as data:
        return {str(n): EvalSet(str(n), *(data[f"{n}/{part}"] for part in _PARTS)) for n in data["names"]}


def _draw(name: str, stats: ClassStats, val_x: np.ndarray, val_y: np.ndarray, per_class: int, seed: int) -> EvalSet:
    if name == "real":
        return EvalSet("real", val_x.astype(np.float32), val_y.copy(), val_y.copy())
    k, d = stats.means.shape
    labels = np.repeat(np.arange(k), per_class)
    rng = np.random.default_rng([seed, STREAMS[name]])
    if name in EDITS:
        targets = _targets(val_y, k, rng)
        edited = np.empty_like(val_x, dtype=np.float64)
        for a in range(k):
            for b in range(k):
                rows = (val_y == a) & (targets == b)
                if rows.any():
                    edited[rows] = _edit(name, stats, val_x[rows].astype(np.float64), a, b)
        return EvalSet(name, edited.astype(np.float32), targets, val_y.copy())
    if name == "independent":
        pixels = np.stack(
            [stats.images[c][rng.integers(0, len(stats.images[c]), size=d), np.arange(d)] for c in labels]
        )
    elif name == "max-entropy":
        rates = np.stack([max_entropy_rate(m) for m in stats.means])
        pixels = _max_entropy_draw(rates[labels], rng.random((len(labels), d)))
    else:
        draws = [
            rng.multivariate_normal(stats.means[c], stats.covariances[c], size=per_class, method="eigh")
            for c in range(k)
        ]
        if name != "gaussian":
            third = name == "third-order"
            draws = [
                bounded_fit(draws[c], stats.means[c], stats.covariances[c], stats.images[c] if third else None)
                for c in range(k)
            ]
        pixels = np.concatenate(draws)
    return EvalSet(name, pixels.astype(np.float32), labels, labels)


def bounded_fit(start: np.ndarray, mean: np.ndarray, cov: np.ndarray, third_of: np.ndarray | None = None) -> np.ndarray:
    """Samples in (0, 1) whose mean and covariance match `mean` and `cov` (and, given images `third_of`, whose
    coskewness matches theirs): `start` clamped into the cube, then moved by L-BFGS on the logits, with a
    Kozachenko–Leonenko entropy estimate keeping the samples spread. One thread, float64: the same bits on a rerun."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        x0 = torch.from_numpy(np.clip(start, FIT_MARGIN, 1 - FIT_MARGIN))
        mu, sigma = torch.from_numpy(mean), torch.from_numpy(cov)
        target = _coskewness_tensor(torch.from_numpy(third_of)) if third_of is not None else None
        z = torch.nn.Parameter(torch.logit(x0))
        opt = torch.optim.LBFGS([z], max_iter=FIT_ITERATIONS, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            x = torch.sigmoid(z)
            loss = torch.linalg.norm(x.mean(0) - mu) + torch.linalg.norm(torch.cov(x.T, correction=1) - sigma)
            if target is not None:
                loss = loss + torch.linalg.norm(_coskewness_tensor(x) - target)
            nearest = torch.cdist(x, x).kthvalue(2, dim=1).values
            loss = loss - KOLEO_WEIGHT * nearest.clamp_min(1e-12).log().mean()
            loss.backward()
            return loss

        opt.step(closure)
        return torch.sigmoid(z).detach().numpy()
    finally:
        torch.set_num_threads(threads)


def _coskewness_tensor(x):
    """The full coskewness tensor E[(x_i − μ_i)(x_j − μ_j)(x_k − μ_k)] of a sample (torch, differentiable): d³
    entries, 262,144 for 8×8 digits (CIFAR's 3,072 pixels would need chunks on a GPU)."""
    centred = x - x.mean(0)
    n, d = centred.shape
    return ((centred[:, :, None] * centred[:, None, :]).reshape(n, d * d).T @ centred / n).reshape(d, d, d)


def _edit(name: str, stats: ClassStats, x: np.ndarray, a: int, b: int) -> np.ndarray:
    if name == "ot-edit":
        return stats.means[b] + (x - stats.means[a]) @ ot_map(stats.covariances[a], stats.covariances[b]).T
    if name == "quantile-edit":
        src, dst = np.sort(stats.images[a], axis=0), np.sort(stats.images[b], axis=0)
        out = np.empty_like(x)
        for j in range(x.shape[1]):  # mid-rank CDF of A, then B's empirical quantile function
            ranks = (np.searchsorted(src[:, j], x[:, j], "left") + np.searchsorted(src[:, j], x[:, j], "right")) / 2
            out[:, j] = np.quantile(dst[:, j], np.clip(ranks / len(src), 0, 1))
        return out
    return bounded_shift(x, stats.means[b])


def set_moments(sets: dict[str, EvalSet], stats: ClassStats, seed: int = 0) -> pd.DataFrame:
    """Per set and class carried: the relative error (Frobenius) of the set's mean, covariance and coskewness
    against the training class's, so a set is seen to match the orders it claims and not the others."""
    d = stats.means.shape[1]
    triples = np.random.default_rng(seed).integers(0, d, size=(TRIPLES, 3))
    rows = []
    for name, s in sets.items():
        for c in range(stats.classes):
            x = s.pixels[s.labels == c].astype(np.float64)
            if len(x) < 2:
                continue
            ref = stats.images[c]
            rows.append(
                {
                    "set": name,
                    "order": ORDER[name],
                    "class": c,
                    "images": len(x),
                    "mean_error": _relative(x.mean(0), stats.means[c]),
                    "covariance_error": _relative(np.cov(x, rowvar=False), np.cov(ref, rowvar=False)),
                    "coskewness_error": _relative(_coskewness(x, triples), _coskewness(ref, triples)),
                }
            )
    return pd.DataFrame(rows)


def _relative(estimate: np.ndarray, reference: np.ndarray) -> float:
    return float(np.linalg.norm(estimate - reference) / max(np.linalg.norm(reference), 1e-12))


def _coskewness(x: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """E[(x_i − μ_i)(x_j − μ_j)(x_k − μ_k)] at the given index triples."""
    centred = x - x.mean(0)
    return (centred[:, triples[:, 0]] * centred[:, triples[:, 1]] * centred[:, triples[:, 2]]).mean(0)
