"""The authors' image suites: classifiers trained on a GPU on CIFAR-10, MNIST, Fashion-MNIST, SVHN and CIFARNet.

The setting of features-across-time's `train_vision.py`: each dataset from the hub through `datasets` (its Parquet
files, through huggingface_hub: offline, from the hub cache), every image made RGB in [0, 1] without normalization;
1,024 images of the test split as the validation set (drawn once, recorded); RandAugment, a horizontal flip and a
random crop with padding h/8 on the training images; ConvNeXt V2, RegNet-Y and Swin V2 (`image_models.VisionSpec`);
AdamW at lr 1e-3 (1e-4 for SVHN), β2 0.95, weight decay 0.05, linear warmup over 2,000 steps then cosine decay,
2^16 steps at batch 128 in bf16, checkpoints at step 0 and every power of two. Runs are named like Pythia's seeds
(`cifar10-convnext-atto`, `…-seed1`). Training one run is one task: in this process, or one Ray task per run on a
cluster's GPUs (`--engine ray`); a run resumes from its last saved state (every `resume_every` steps) after a kill.
Each suite is a profile of its own that scores `simplicity_bias_images`; the `tiny` variant (the
`vision_variant` setting) trains tiny networks of each family for a few steps, on a CPU, for the tests.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from .. import settings
from ..errors import Explained
from ..integrity import atomic
from ..integrity.hashing import content_key
from ..paths import cache_home, hf_cache
from . import image_models, micro
from .base import Checkpoint, CheckpointNotFound, Suite
from .micro_images import SeededRuns, lr_factor
from .registry import register_suite

FORMAT_VERSION = 1  # the build key: bump it whenever this module or image_models trains other networks


class DatasetMissing(Explained, FileNotFoundError):
    """A dataset that is neither in the hub cache nor downloadable (offline)."""


@dataclass(frozen=True)
class Source:
    """A dataset on the hub: repo, revision, the folder of its Parquet files, its evaluation split, image size."""

    repo: str
    folder: str  # files `<folder>/<split>-NNNNN-of-MMMMM.parquet`
    size: int  # the images' side (the replica's are smaller: a suite reads the size from its data)
    test_split: str = "test"
    lr: float = 1e-3
    revision: str = "main"


DATASETS = {  # profile name: source (the authors' `load_dataset` names: cifar10, mnist, fashion_mnist, …)
    "cifar10": Source("uoft-cs/cifar10", "plain_text", 32),
    "mnist": Source("ylecun/mnist", "mnist", 28),
    "fashion-mnist": Source("zalando-datasets/fashion_mnist", "fashion_mnist", 28),
    "svhn": Source("ufldl-stanford/svhn", "cropped_digits", 32, lr=1e-4),
    "cifarnet": Source("EleutherAI/cifarnet", "data", 64),
}


@dataclass(frozen=True)
class VisionConfig(SeededRuns):
    """Everything that determines a built suite of the authors' setting (its build key is a hash of this)."""

    format_version: ClassVar[int] = FORMAT_VERSION

    variant: str
    dataset: str
    archs: tuple[tuple[str, str], ...]  # (family, size)
    seeds: int
    final_step: int = 2**16
    batch_size: int = 128
    warmup_steps: int = 2000
    weight_decay: float = 0.05
    beta2: float = 0.95
    val_images: int = 1024
    resume_every: int = 1000  # steps between saved training states (a killed run resumes from the last)
    seed: int = 0

    @property
    def lr(self) -> float:
        return DATASETS[self.dataset].lr

    def run_name(self, arch: str, size: str) -> str:
        return f"{self.dataset}-{arch}-{size}"


VARIANTS = {  # variant: (architectures, seeds, overrides)
    "authors": ((("convnext", "atto"), ("regnet", "400mf"), ("swin", "atto")), 3, {}),
    "tiny": (
        (("convnext", "test"), ("regnet", "test"), ("swin", "test")),
        2,
        {"final_step": 16, "batch_size": 8, "warmup_steps": 4, "val_images": 40, "resume_every": 4},
    ),
}


def config_for(dataset: str, variant: str | None = None) -> VisionConfig:
    """The configuration of a dataset's suite under a variant (default: the `vision_variant` setting)."""
    variant = variant or settings.value("vision_variant")
    if dataset not in DATASETS:
        raise CheckpointNotFound(f"unknown image dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if variant not in VARIANTS:
        raise CheckpointNotFound(f"unknown vision variant {variant!r}; known: {', '.join(VARIANTS)}")
    archs, seeds, overrides = VARIANTS[variant]
    return VisionConfig(variant=variant, dataset=dataset, archs=archs, seeds=seeds, **overrides)


def suite_dir(config: VisionConfig) -> Path:
    return cache_home() / "suites" / "vision" / f"{config.dataset}-{config.variant}-{config.key()}"


# -- the data ---------------------------------------------------------------------------------


def read_split(source: Source, split: str) -> tuple[np.ndarray, np.ndarray, int, str]:
    """A split's images as RGB uint8 [n, 3, h, w], their labels, the number of classes, and the commit read."""
    import datasets
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    pattern = f"{source.folder}/{split}-*.parquet"
    try:
        folder = Path(
            snapshot_download(
                source.repo,
                repo_type="dataset",
                revision=source.revision,
                allow_patterns=[pattern],
                cache_dir=hf_cache(),
                local_files_only=settings.enabled("hub_offline"),
            )
        )
    except LocalEntryNotFoundError as err:
        raise DatasetMissing(_missing(source, pattern, err.__class__.__name__)) from err
    files = sorted(folder.glob(pattern))
    if not files:
        raise DatasetMissing(_missing(source, pattern, "no such files in the cached snapshot"))
    data = datasets.Dataset.from_parquet([str(f) for f in files], keep_in_memory=True)
    image = [k for k, f in data.features.items() if isinstance(f, datasets.Image)]
    label = [k for k, f in data.features.items() if isinstance(f, datasets.ClassLabel)]
    if len(image) != 1 or len(label) != 1:
        raise ValueError(f"{source.repo}: expected one image and one class-label column, found {dict(data.features)}")
    pixels = np.stack([np.asarray(im.convert("RGB")) for im in data[image[0]]]).transpose(0, 3, 1, 2)
    labels = np.asarray(data[label[0]], dtype=np.int64)
    return np.ascontiguousarray(pixels), labels, data.features[label[0]].num_classes, folder.name


def _missing(source: Source, pattern: str, why: str) -> str:
    return (
        f"{source.repo}@{source.revision}/{pattern} is not in the hub cache and the hub cannot be reached ({why}); "
        f"download it once online (`hf download {source.repo} --repo-type dataset --include '{pattern}'`)"
    )


def _build_data(config: VisionConfig, root: Path) -> None:
    """The training split and `val_images` images of the test split (drawn once from the seed), with the source."""
    source = DATASETS[config.dataset]
    train_x, train_y, classes, commit = read_split(source, "train")
    test_x, test_y, _, _ = read_split(source, source.test_split)
    val = np.sort(np.random.default_rng(config.seed).permutation(len(test_y))[: config.val_images])
    (root / "data").mkdir(parents=True, exist_ok=True)
    atomic.write_with(
        root / "data" / "images.npz",
        lambda f: np.savez(f, train_x=train_x, train_y=train_y, val_x=test_x[val], val_y=test_y[val], val_index=val),
    )
    info = {"repo": source.repo, "revision": source.revision, "commit": commit, "classes": classes}
    atomic.write_text(root / "data" / "source.json", json.dumps(info, indent=1))


# -- training ---------------------------------------------------------------------------------


def _spec(name: str, arch: str, size: str, shape: tuple[int, int], classes: int) -> image_models.VisionSpec:
    return image_models.VisionSpec(name, arch, size, channels=shape[0], size=shape[1], classes=classes)


@functools.lru_cache(maxsize=2)
def _permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def batch_rows(n: int, size: int, seed: int, step: int) -> np.ndarray:
    """The training rows of a step: positions [step·size, (step+1)·size) of one permutation per epoch after
    another, so any step's batch is known without replaying the ones before it (a resumed run sees the same)."""
    rows, start = [], step * size
    while len(rows) < size:
        epoch, offset = divmod(start, n)
        taken = _permutation(n, seed, epoch)[offset : offset + size - len(rows)]
        rows.extend(taken.tolist())
        start += len(taken)
    return np.asarray(rows)


def augmentation(size: int):
    """The authors' augmentation of real images: RandAugment (2 operations at magnitude 9 of 30, torchvision's
    defaults), a horizontal flip, a random crop with padding h/8; kornia's, on whole batches on the device."""
    import kornia.augmentation as K
    import torch
    from kornia.augmentation.auto import RandAugment

    return torch.nn.Sequential(
        RandAugment(n=2, m=9), K.RandomHorizontalFlip(), K.RandomCrop((size, size), padding=size // 8)
    )


def _step_seed(seed: int, step: int) -> int:
    """The seed of one step's augmentation and drop path: a resumed run draws what an unbroken one drew."""
    return int(content_key([seed, step])[:12], 16)


def train_run(config: VisionConfig, run: tuple[str, str, str, int], root: Path, progress: bool = True) -> None:
    """Train one run (a Ray task's unit), saving every scheduled checkpoint, a resumable state every
    `resume_every` steps, and the per-step losses; a run with a saved state continues from it."""
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    modes = (torch.are_deterministic_algorithms_enabled(), torch.backends.cuda.matmul.allow_tf32)
    torch.use_deterministic_algorithms(device.type == "cpu")  # on a GPU: the authors' tf32, not bit-identical
    torch.backends.cuda.matmul.allow_tf32 = device.type == "cuda"
    try:
        _train(config, run, root, device, progress)
    finally:
        torch.use_deterministic_algorithms(modes[0])
        torch.backends.cuda.matmul.allow_tf32 = modes[1]


def _train(config: VisionConfig, run: tuple[str, str, str, int], root: Path, device, progress: bool) -> None:
    import torch
    from tqdm.auto import tqdm

    name, arch, size, _ = run
    with np.load(root / "data" / "images.npz", allow_pickle=False) as data:  # uint8 on the device: a quarter of
        x, y = torch.from_numpy(data["train_x"]).to(device), torch.from_numpy(data["train_y"]).to(device)  # floats
    classes = json.loads((root / "data" / "source.json").read_text())["classes"]
    seed = config.seed * 1000 + config.runs.index(run)
    torch.manual_seed(seed)
    spec = _spec(name, arch, size, tuple(x.shape[1:3]), classes)
    model = image_models.build(spec).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, betas=(0.9, config.beta2), weight_decay=config.weight_decay
    )
    folder = root / name
    start, losses = _resume(folder / "resume", model, optimizer)
    augment = augmentation(spec.size).to(device)
    checkpoints = set(config.steps)
    model.train()
    for step in tqdm(range(start, config.final_step + 1), desc=f"training {name}", disable=not progress, leave=False):
        if step in checkpoints:
            image_models.save(model, spec, folder / f"step{step}")
        if step % config.resume_every == 0 and step > start:
            _save_state(folder, model, optimizer, step, losses)
        if step == config.final_step:
            break
        torch.manual_seed(_step_seed(seed, step))
        rows = torch.from_numpy(batch_rows(len(y), config.batch_size, seed, step)).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = torch.nn.functional.cross_entropy(model(augment(x[rows].float() / 255)), y[rows])
        loss.backward()
        for group in optimizer.param_groups:
            group["lr"] = config.lr * lr_factor(step, config)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach())
    atomic.write_text(folder / "losses.json", json.dumps(_rounded(losses)))


def _rounded(losses: list) -> list[float]:
    import torch

    return [round(v, 5) for v in torch.stack(losses).float().cpu().tolist()] if losses else []


def _save_state(folder: Path, model, optimizer, step: int, losses: list) -> None:
    """The model, the optimizer's moments, the step and the losses so far, swapped in whole."""
    from safetensors.torch import save_file

    state = optimizer.state_dict()
    partial = folder / "resume.partial"
    partial.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(partial / "model.safetensors"))
    moments = {f"{i}.{k}": v.contiguous() for i, s in state["state"].items() for k, v in s.items()}
    save_file(moments, str(partial / "optimizer.safetensors"))
    info = {"step": step, "param_groups": state["param_groups"], "losses": _rounded(losses)}
    (partial / "state.json").write_text(json.dumps(info))
    atomic.swap_in(partial, folder / "resume")


def _resume(folder: Path, model, optimizer) -> tuple[int, list]:
    """The step to continue from and the losses so far: those of a saved state (loaded into model and optimizer),
    else step 0."""
    import torch
    from safetensors.torch import load_file

    if not (folder / "state.json").is_file():
        return 0, []
    info = json.loads((folder / "state.json").read_text())
    device = next(model.parameters()).device
    model.load_state_dict(load_file(str(folder / "model.safetensors"), device=str(device)))
    state: dict[int, dict] = {}
    for key, value in load_file(str(folder / "optimizer.safetensors"), device=str(device)).items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value.cpu() if name == "step" else value
    optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    return info["step"], [torch.tensor(v) for v in info["losses"]]


# -- building ---------------------------------------------------------------------------------


def build(
    dataset: str,
    variant: str | None = None,
    engine: str = "local",
    address: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Build a dataset's suite (skipped when complete): the data, then every run not yet done, in this process or
    one Ray task per run (`engine`); returns its folder."""
    config = config_for(dataset, variant)
    into = functools.partial(_build_into, engine=engine, address=address)
    return micro.build_locked(config, suite_dir(config), into, force, progress, what=f"the {dataset} image suite")


def is_built(dataset: str) -> bool:
    """Whether the dataset's suite (under the variant in use) is complete: sizes checked, not contents."""
    return micro.damage(suite_dir(config_for(dataset))) is None


def ensure_built(dataset: str) -> Path:
    """The suite's folder, built here first when it is not complete."""
    return suite_dir(config_for(dataset)) if is_built(dataset) else build(dataset)


def _build_into(config: VisionConfig, partial: Path, progress: bool, engine: str, address: str | None) -> None:
    started = time.time()
    stage = micro.staged(partial, lambda: _build_data(config, partial))
    todo = [run for run in config.runs if not stage.done(run[0])]
    if engine == "ray":
        _train_on_ray(config, todo, partial, address, stage, progress)
    else:
        for run in todo:
            train_run(config, run, partial, progress)
            stage.mark(run[0])
    for name, *_ in config.runs:
        shutil.rmtree(partial / name / "resume", ignore_errors=True)
    for marker in partial.glob(".done-*"):
        marker.unlink()
    source = json.loads((partial / "data" / "source.json").read_text())
    with np.load(partial / "data" / "images.npz", allow_pickle=False) as data:
        shape, split = data["train_x"].shape[1:3], {"train": len(data["train_y"]), "validation": len(data["val_y"])}
    specs = {name: _spec(name, arch, size, shape, source["classes"]) for name, arch, size, _ in config.runs}
    micro.write_manifest(
        partial,
        {
            "suite": config.dataset,
            "format_version": FORMAT_VERSION,
            "key": config.key(),
            "config": asdict(config),
            "source": source,
            "steps": list(config.steps),
            "split": split,
            "models": {name: {**asdict(spec), "params": spec.params} for name, spec in specs.items()},
            "losses": {name: json.loads((partial / name / "losses.json").read_text()) for name in specs},
            "build_seconds": round(time.time() - started, 1),
        },
    )


def _train_on_ray(config, todo, root: Path, address: str | None, stage, progress: bool) -> None:
    """One Ray task per run, a whole GPU each where the cluster has GPUs; each run is marked done as it ends."""
    import ray
    from tqdm.auto import tqdm

    from ..integrity.workers import forwarded_env

    if not todo:
        return
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
    remote = ray.remote(train_run).options(
        num_cpus=1, num_gpus=gpus, max_retries=2, runtime_env={"env_vars": forwarded_env()}
    )
    pending = {remote.remote(config, run, root, False): run for run in todo}
    with tqdm(total=len(pending), desc=f"training {config.dataset} (ray)", disable=not progress) as bar:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            run = pending.pop(done[0])
            ray.get(done[0])  # a run that failed after its retries fails the build; a re-run resumes it
            stage.mark(run[0])
            bar.update()


# -- the suites as seen by the rest of the package --------------------------------------------


def suite(dataset: str) -> Suite:
    """A dataset's suite (built or not: built, its specs carry the data's image size; else the dataset's)."""
    config = config_for(dataset)
    root = suite_dir(config)
    if is_built(dataset):
        manifest = json.loads((root / "manifest.json").read_text())
        models = {name: image_models.spec_of(m) for name, m in manifest["models"].items()}
    else:
        source = DATASETS[dataset]
        models = {r[0]: _spec(*r[:3], (3, source.size), 10) for r in config.runs}

    def load(checkpoint: Checkpoint, device, dtype):
        folder = root / checkpoint.model / checkpoint.revision
        if not (folder / "model.safetensors").is_file():
            raise CheckpointNotFound(
                f"no checkpoint {checkpoint.model}@{checkpoint.revision}: looked in {folder}; build the suite with "
                f"`pythia-repro suite build {dataset}` (add `--engine ray` on a GPU cluster)"
            )
        return image_models.load(folder, device, dtype)

    return Suite(
        dataset,
        models,
        config.steps,
        rows_per_step=config.batch_size,
        row_len=None,
        tokenizer_file=None,
        findings={"simplicity_bias_images": {}},
        local_root=root,
        data_prefix=root / "data" / "images.npz",
        description=f"image classifiers trained here on {DATASETS[dataset].repo} ({config.variant} variant)",
        build=config.key(),
        loader=load,
    )


for _name in DATASETS:
    register_suite(_name, functools.partial(suite, _name))
