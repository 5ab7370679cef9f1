"""The micro image suite: image classifiers checkpointed across training, built here in minutes on a CPU.

Its images are the procedural glyphs of `glyphs` (16×16, eight classes that share one mean and covariance; a spot
and a grating tell the class more often than chance; drawn from the build seed, the generator's settings in the
build manifest), or, for the tests' tiny suite, scikit-learn's bundled handwritten digits (8×8, no download); in
[0, 1], split once into stratified training and validation sets (the split is recorded). Every architecture trains
with several seeds, named like Pythia's (`glyphs-cnn`, `glyphs-cnn-seed1`, …); a seed sets the
initialisation, the data order and the augmentation. The authors' recipe scaled down: AdamW (β2 0.95, weight decay
0.05), linear warmup then cosine decay, random crops with padding h/8 on real images; checkpoints at steps 0, 1, 2,
4, …, 2^k as safetensors under `<cache>/suites/micro/<variant>-<key>/<run>/step<N>/`, built with the micro suite's
lock, resume and manifest.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..integrity import atomic, kernels, workers
from ..integrity.hashing import content_key
from . import glyphs, image_models, micro
from .base import Checkpoint, CheckpointNotFound, Suite
from .registry import register_suite

FORMAT_VERSION = 4  # the build key: bump it whenever this module or image_models makes other bytes
SUITE = "micro-images"
DATA = Path("data") / "images.npz"  # the split, in the suite's folder
IMAGES = {"glyphs": (glyphs.SIZE, len(glyphs.CLASSES)), "digits": (8, 10)}  # what a suite trains on: (side, classes)


class SeededRuns:
    """What image suites' configs share: runs of each (architecture, size) under several seeds, named like Pythia's
    (`run_name`, then `…-seed1`, …), checkpointed at 0, 1, 2, 4, …, final_step; a build key that hashes every
    field with the module's format version."""

    format_version: ClassVar[int]
    archs: tuple[tuple[str, Any], ...]
    seeds: int
    final_step: int

    def run_name(self, arch: str, size: Any) -> str:
        """The name of an architecture's first run (the others add `-seed<k>`)."""
        raise NotImplementedError

    @property
    def steps(self) -> tuple[int, ...]:
        """0, 1, 2, 4, …, final_step."""
        return (0, *(2**i for i in range(int(math.log2(self.final_step)) + 1)))

    @property
    def runs(self) -> tuple[tuple[str, str, Any, int], ...]:
        """(run name, architecture, size or width, seed index) of every trained run."""
        return tuple(
            (self.run_name(arch, size) + (f"-seed{k}" if k else ""), arch, size, k)
            for arch, size in self.archs
            for k in range(self.seeds)
        )

    def key(self) -> str:
        return content_key(kernels.keyed({"format": self.format_version, **asdict(self)}))[:12]


@dataclass(frozen=True)
class ImagesConfig(SeededRuns):
    """Everything that determines a built image suite (its content key is a hash of this)."""

    format_version: ClassVar[int] = FORMAT_VERSION

    variant: str
    seed: int
    archs: tuple[tuple[str, int], ...]  # (architecture, width)
    seeds: int  # runs per architecture
    final_step: int  # a power of two
    batch_size: int = 64
    validation_share: float = 1 / 3
    lr: float = 3e-3
    warmup_steps: int = 64
    weight_decay: float = 0.05
    beta2: float = 0.95
    crop_padding: int = 2  # h/8
    images: str = "glyphs"  # a key of `IMAGES`: "glyphs" (`glyphs.images`) or "digits" (scikit-learn's)
    per_class: int = 1000  # glyph images drawn per class
    noise: float = 0.1  # the glyph images' pixel noise (standard deviation)
    grating_share: float = 0.65  # how often a glyph image's grating is its own class's
    grating_amplitude: float = 0.2
    spot_share: float = 0.8  # how often a glyph image's spot is its own class's
    spot_amplitude: float = 0.5
    images_limit: int = 0  # 0: every image; else the first this many (tiny variants)
    threads: int = 2

    def __post_init__(self) -> None:
        if self.images not in IMAGES:
            raise ValueError(f"unknown images {self.images!r}; known: {', '.join(IMAGES)}")

    def run_name(self, arch: str, size: int) -> str:
        return f"{self.images}-{arch}"

    @property
    def size(self) -> int:
        """Images are size × size."""
        return IMAGES[self.images][0]

    @property
    def classes(self) -> int:
        return IMAGES[self.images][1]


# fmt: off
VARIANTS = {
    "glyphs": ImagesConfig(
        variant="glyphs", seed=2024, archs=(("cnn", 16),), seeds=5, final_step=2048, lr=1e-2,
    ),
    "digits-tiny": ImagesConfig(
        variant="digits-tiny", seed=5, archs=(("mlp", 16), ("cnn", 4)), seeds=2, final_step=32, batch_size=16,
        warmup_steps=4, crop_padding=1, images="digits", images_limit=400, threads=1,
    ),
}
# fmt: on
COMPANION = {"default": "glyphs", "tiny": "digits-tiny"}  # the micro variant each image variant goes with


def variant_config(variant: str | None = None) -> ImagesConfig:
    """The image suite that goes with the micro variant in use (or the one named)."""
    return micro.companion_config(VARIANTS, COMPANION, "image", variant)


def build(variant: str | None = None, force: bool = False, progress: bool = True) -> Path:
    """Build the image suite that goes with a micro variant (skipped when complete); returns its folder."""
    config = variant_config(variant)
    return micro.build_locked(config, micro.suite_dir(config), _build_into, force, progress)


# -- building ---------------------------------------------------------------------------------


def _build_into(config: ImagesConfig, partial: Path, progress: bool) -> None:
    """The split, then every run not yet done (in parallel, one thread each), then the manifest."""
    started = time.time()
    stage = micro.staged(partial, lambda: _build_data(config, partial))
    jobs = [(config, run, partial, progress, slot) for slot, run in enumerate(config.runs) if not stage.done(run[0])]
    if config.threads > 1 and len(jobs) > 1:
        jobs.sort(key=lambda job: job[1][1] != "cnn")  # the slower architecture first, so the cores stay busy
        with workers.pool(config.threads) as pool:
            for job, _ in zip(jobs, pool.map(_train_run, jobs)):
                stage.mark(job[1][0])
    else:
        for job in jobs:
            _train_run(job)
            stage.mark(job[1][0])
    losses = {name: json.loads((partial / name / "losses.json").read_text()) for name, *_ in config.runs}
    for marker in partial.glob(".done-*"):
        marker.unlink()
    with np.load(partial / DATA, allow_pickle=False) as data:
        split = {"train": len(data["train_y"]), "validation": len(data["val_y"])}
    micro.write_manifest(
        partial,
        {
            "suite": SUITE,
            "format_version": FORMAT_VERSION,
            "key": config.key(),
            "config": asdict(config),
            "steps": list(config.steps),
            "split": split,
            "models": {
                name: {**asdict(_spec(config, arch, width, name)), "params": _spec(config, arch, width, name).params}
                for name, arch, width, _ in config.runs
            },
            "losses": losses,
            "build_seconds": round(time.time() - started, 1),
        },
    )


def _images(config: ImagesConfig) -> tuple[np.ndarray, np.ndarray]:
    """The suite's images in [0, 1] as [n, 1, size, size] float32, and their labels."""
    if config.images == "glyphs":
        return glyphs.images(
            config.per_class,
            config.seed,
            noise=config.noise,
            grating_share=config.grating_share,
            grating_amplitude=config.grating_amplitude,
            spot_share=config.spot_share,
            spot_amplitude=config.spot_amplitude,
        )
    from sklearn.datasets import load_digits  # "digits"

    digits = load_digits()
    return (digits.images / 16.0).astype(np.float32)[:, None], digits.target.astype(np.int64)


def _build_data(config: ImagesConfig, root: Path) -> None:
    """The images, split once (stratified, seeded); the indices are kept with them."""
    from sklearn.model_selection import train_test_split

    pixels, labels = _images(config)
    index = np.arange(len(labels))[: config.images_limit or None]
    train, val = train_test_split(
        index, test_size=config.validation_share, stratify=labels[index], random_state=config.seed
    )
    train, val = np.sort(train), np.sort(val)
    (root / "data").mkdir(parents=True, exist_ok=True)
    atomic.write_with(
        root / DATA,
        lambda f: np.savez(
            f,
            train_x=pixels[train],
            train_y=labels[train],
            val_x=pixels[val],
            val_y=labels[val],
            train_index=train,
            val_index=val,
        ),
    )


def _spec(config: ImagesConfig, arch: str, width: int, name: str) -> image_models.ImageSpec:
    return image_models.ImageSpec(name, arch, width, channels=1, size=config.size, classes=config.classes)


def _train_run(job: tuple) -> None:
    """Train one run, saving every scheduled checkpoint and the per-step losses (a pool's unit of work)."""
    import torch
    from tqdm.auto import tqdm

    config, (name, arch, width, k), root, progress, slot = job
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    seed = config.seed * 1000 + config.runs.index((name, arch, width, k))
    torch.manual_seed(seed)
    spec = _spec(config, arch, width, name)
    model = image_models.build(spec)
    x, y = training_data(root)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, betas=(0.9, config.beta2), weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
    order = torch.Generator().manual_seed(seed)
    checkpoints, losses, batches = set(config.steps), [], _batches(len(y), config.batch_size, order)
    model.train()
    for step in tqdm(range(config.final_step + 1), desc=f"training {name}", disable=not progress, leave=False):
        if step in checkpoints:
            image_models.save(model, spec, root / name / f"step{step}")
        if step == config.final_step:
            break
        rows = next(batches)
        pixels = random_crop(x[rows], config.crop_padding, order)
        loss = torch.nn.functional.cross_entropy(model(pixels), y[rows])
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(loss.item(), 5))
    atomic.write_text(root / name / "losses.json", json.dumps(losses))


def training_data(root: Path):
    """The built suite's training images and labels as tensors."""
    import torch

    with np.load(root / DATA, allow_pickle=False) as data:
        return torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])


def _batches(n: int, size: int, generator):
    """Batches of row indices, a fresh permutation of the training set every epoch."""
    import torch

    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - size + 1, size):
            yield order[start : start + size]


def random_crop(pixels, padding: int, generator):
    """Each image shifted by up to `padding` pixels each way (zero padding, then a crop of the original size)."""
    import torch

    if padding == 0:
        return pixels
    n, _, h, w = pixels.shape
    padded = torch.nn.functional.pad(pixels, (padding,) * 4)
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator)
    rows = (offsets[:, 0, None] + torch.arange(h))[:, :, None]
    cols = (offsets[:, 1, None] + torch.arange(w))[:, None, :]
    return padded[torch.arange(n)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


def lr_factor(step: int, config: ImagesConfig) -> float:
    """Linear warmup, then cosine decay to zero (the authors' `get_cosine_schedule_with_warmup`)."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.final_step - config.warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * progress))


# -- the suite as seen by the rest of the package ---------------------------------------------


def load_manifest(variant: str | None = None) -> tuple[Path, dict]:
    config = variant_config(variant)
    root = micro.suite_dir(config)
    micro_variant = next((m for m, v in COMPANION.items() if v == config.variant), config.variant)
    return root, micro.read_built(root, f"micro image suite ({config.variant})", micro_variant)


def images_suite(variant: str | None = None) -> Suite:
    """The built image suite, registered as "micro-images": the suite the `micro` profile scores
    simplicity_bias_images on (it lists no finding of its own, so it is no profile of its own)."""
    root, manifest = load_manifest(variant)
    config = manifest["config"]
    models = {
        name: image_models.ImageSpec(**{k: m[k] for k in m if k != "params"}) for name, m in manifest["models"].items()
    }

    def load(checkpoint: Checkpoint, device, dtype):
        folder = root / checkpoint.model / checkpoint.revision
        if not (folder / "model.safetensors").is_file():
            raise CheckpointNotFound(f"no checkpoint {checkpoint.model}@{checkpoint.revision}: looked in {folder}")
        return image_models.load(folder, device, dtype)

    return Suite(
        SUITE,
        models,
        tuple(manifest["steps"]),
        rows_per_step=config["batch_size"],
        row_len=None,
        tokenizer_file=None,
        findings={},
        local_root=root,
        data_prefix=root / DATA,
        description=f"the micro image suite ({config['images']}), trained here; the micro profile scores "
        "simplicity_bias_images on it",
        build=manifest["key"],
        loader=load,
    )


register_suite(SUITE, images_suite)
