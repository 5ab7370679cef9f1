"""The image half of the simplicity bias: building its evaluation sets and scoring every checkpoint, ours against
the authors' approach, in one run; the image suite's build time; memory of the optimal-transport maps.

Ours: every set drawn once (OT maps one (A, B) pair at a time), each checkpoint scored on the same images in
batches. The authors' (features-across-time `train_vision.py`): all k(k−1) OT maps computed up front and held,
then at every checkpoint each item redrawn one at a time (a Gaussian sample or a transport of one image) and scored.
The floor: one forward pass over the same images. On the micro image suite (built first if missing).

    .venv/bin/python benchmarks/image_sets.py [--variant tiny] [--dim 3072]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import torch

from pythia_repro.evals import image_sets
from pythia_repro.findings.simplicity_bias_images import make_sets
from pythia_repro.suites import micro_images


def _score(models, pixels: np.ndarray) -> None:
    with torch.inference_mode():
        for model in models:
            model(torch.from_numpy(pixels))


def authors(stats: image_sets.ClassStats, val_x, val_y, models, per_class: int, shape) -> float:
    """All maps up front, then per checkpoint every item redrawn alone (Gaussian, OT edit) and scored in one batch."""
    started = time.perf_counter()
    k = stats.classes
    maps = {(a, b): image_sets.ot_map(stats.covariances[a], stats.covariances[b]) for a in range(k) for b in range(k)}
    rng = np.random.default_rng(0)
    for model in models:
        gaussian = [
            rng.multivariate_normal(stats.means[c], stats.covariances[c]) for c in range(k) for _ in range(per_class)
        ]
        edited = []
        for x, a in zip(val_x, val_y):
            b = (a + rng.integers(1, k)) % k
            edited.append(stats.means[b] + maps[a, b] @ (x - stats.means[a]))
        _score([model], np.asarray(gaussian + edited, dtype=np.float32).reshape(-1, *shape))
    return time.perf_counter() - started


def ours(suite, models, per_class: int) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    sets = make_sets(suite, per_class, seed=0)
    _score(models, sets.pixels)
    return time.perf_counter() - started, sets.pixels


def map_memory(dim: int, classes: int = 10) -> tuple[float, float]:
    """Peak bytes (traced) of one OT map at `dim`, ours held one at a time; the authors' k² maps in float32."""
    rng = np.random.default_rng(0)
    a, b = (np.cov(rng.random((dim + 8, dim)), rowvar=False) for _ in range(2))
    tracemalloc.start()
    image_sets.ot_map(a, b)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, classes * classes * dim * dim * 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="default", help="micro variant whose image suite to use")
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--dim", type=int, default=1024, help="pixels of the maps measured (CIFAR-10: 3072)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    micro_images.build(args.variant)
    print(f"image suite ready in {time.perf_counter() - started:.1f} s (0 when already built)")
    suite = micro_images.images_suite(args.variant)
    models = [
        suite.loader(suite.checkpoint(run, step), "cpu", torch.float32) for run in suite.models for step in suite.steps
    ]
    with np.load(suite.local_root / "data" / "digits.npz", allow_pickle=False) as data:
        train_x, train_y, val_x, val_y = (data[k] for k in ("train_x", "train_y", "val_x", "val_y"))
    shape = train_x.shape[1:]
    stats = image_sets.ClassStats.fit(train_x.reshape(len(train_x), -1), train_y, 10)
    ours_s, pixels = ours(suite, models, args.per_class)
    floor_started = time.perf_counter()
    _score(models, pixels)
    floor = time.perf_counter() - floor_started
    theirs = authors(stats, val_x.reshape(len(val_x), -1), val_y, models, args.per_class, shape)
    print(f"{len(models)} checkpoints, {len(pixels)} images each (ours: every set; the authors': Gaussian + OT edit)")
    print(f"{'method':34} {'seconds':>8} {'× floor':>8}")
    for name, seconds in (
        ("floor: one forward pass each", floor),
        ("ours: sets once, batched", ours_s),
        ("authors': k² maps, per-item redraw", theirs),
    ):
        print(f"{name:34} {seconds:8.2f} {seconds / floor:8.1f}")
    print(f"authors' / ours: {theirs / ours_s:.1f}× (theirs builds two of our {len(image_sets.SETS) - 1} sets)")
    peak, dense = map_memory(args.dim)
    print(f"OT maps at {args.dim} pixels: ours peak {peak / 2**20:.0f} MiB (one map at a time, float64, traced); ")
    print(f"  the authors' {10 * 10} maps held at once: {dense / 2**30:.2f} GiB in float32")


if __name__ == "__main__":
    main()
