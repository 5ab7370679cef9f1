"""Training the authors' image classifiers: our training loop against the floor and the authors' augmentation.

Per architecture of the `authors` variant, on CIFAR-10-shaped data (random images, 50,000 × 3 × 32 × 32, batch
128, bf16 autocast on a GPU), in one run:
  * ours: `suites.vision.train_run` for `--steps` steps (batches gathered on the device, kornia's RandAugment, flip
    and crop on the device, AdamW, checkpoints at the powers of two), steps per second;
  * the floor: forward, backward and AdamW step on one fixed batch, nothing else;
  * the authors' augmentation (torchvision's RandAugment, flip and crop on each PIL image, in DataLoader workers),
    where torchvision imports: images per second on one CPU core, and the cores it would take to feed our rate.
Then the GPU hours of one run of 2^16 steps and of each dataset's suite, and a kill-and-resume check of one run.

    python benchmarks/vision_train.py [--steps 256]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from timing import timed

from pythia_repro.suites import image_models, vision

BATCH, SIZE, TRAIN = 128, 32, 50_000


def synthetic_suite(root: Path, seed: int = 0) -> None:
    """A data stage of CIFAR-10's shape (random pixels and labels), as `vision._build_data` leaves one."""
    rng = np.random.default_rng(seed)
    (root / "data").mkdir(parents=True)
    x = rng.integers(0, 256, size=(TRAIN, 3, SIZE, SIZE), dtype=np.uint8)
    y = rng.integers(0, 10, size=TRAIN)
    np.savez(root / "data" / "images.npz", train_x=x, train_y=y, val_x=x[:1024], val_y=y[:1024])
    (root / "data" / "source.json").write_text(json.dumps({"classes": 10, "commit": "synthetic"}))


def floor(arch: str, size: str, steps: int, device) -> float:
    """Steps per second of forward, backward and AdamW on one fixed batch."""
    model = image_models.build(image_models.VisionSpec("floor", arch, size, 3, SIZE, 10)).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
    x, y = torch.rand(BATCH, 3, SIZE, SIZE, device=device), torch.randint(0, 10, (BATCH,), device=device)

    def run(n: int) -> None:
        for _ in range(n):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

    run(5)
    return steps / timed(lambda: run(steps))[1]


def ours(config: vision.VisionConfig, run: tuple, root: Path) -> float:
    """Steps per second of `train_run` from step 0 to `config.final_step` (start-up and checkpoints included)."""
    _, seconds = timed(lambda: vision.train_run(config, run, root, progress=False))
    return config.final_step / seconds


def authors_augmentation(n: int = 2000) -> float | None:
    """Images per second per CPU core of torchvision's RandAugment, flip and crop on PIL images (None: no
    torchvision here)."""
    try:
        import torchvision.transforms as T
        from PIL import Image
    except (ImportError, RuntimeError):
        return None
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)) for _ in range(n)]
    trf = T.Compose([T.RandAugment(), T.RandomHorizontalFlip(), T.RandomCrop(SIZE, padding=SIZE // 8), T.ToTensor()])
    started = time.perf_counter()
    for image in images:
        trf(image)
    return n / (time.perf_counter() - started)


def resume_check(config: vision.VisionConfig, run: tuple, root: Path) -> bool:
    """A run killed after its state at step 3·resume_every, then resumed, ends with a checkpoint at the final step."""
    kill_at, real = 3 * config.resume_every + 1, vision._step_seed

    def dying(seed: int, step: int) -> int:
        if step == kill_at:
            raise KeyboardInterrupt
        return real(seed, step)

    vision._step_seed = dying
    try:
        vision.train_run(config, run, root, progress=False)
    except KeyboardInterrupt:
        pass
    finally:
        vision._step_seed = real
    state = json.loads((root / run[0] / "resume" / "state.json").read_text())
    vision.train_run(config, run, root, progress=False)
    return state["step"] == kill_at - 1 and (root / run[0] / f"step{config.final_step}" / "model.safetensors").is_file()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=256, help="a power of two")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}; torch {torch.__version__}")
    config = replace(vision.config_for("cifar10", "authors"), final_step=args.steps, resume_every=args.steps // 4)
    feed = authors_augmentation()
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        synthetic_suite(root)
        for run in config.runs[:: config.seeds]:  # one seed of each architecture
            name, arch, size, _ = run
            ours_rate, floor_rate = ours(config, run, root), floor(arch, size, args.steps, device)
            rates[(arch, size)] = ours_rate
            spec = image_models.VisionSpec(name, arch, size, 3, SIZE, 10)
            tflops = 3 * image_models.forward_flops(spec) * BATCH * ours_rate / 1e12
            line = (
                f"{arch}-{size}: ours {ours_rate:.2f} steps/s ({tflops:.3g} TFLOP/s effective, for `plan "
                f"--gpu-tflops`), floor {floor_rate:.2f} steps/s (×{floor_rate / ours_rate:.2f} ours)"
            )
            if feed:
                line += f"; the authors' augmentation needs {ours_rate * BATCH / feed:.1f} CPU cores to keep up"
            print(line, flush=True)
        print(f"torchvision augmentation: {feed:.0f} images/s per core" if feed else "torchvision: not importable")
        hours = {a: 2**16 / r / 3600 for a, r in rates.items()}
        print("GPU hours per run of 2^16 steps: " + ", ".join(f"{a}-{s} {h:.2f}" for (a, s), h in hours.items()))
        suite_hours = config.seeds * sum(hours.values())
        print(f"GPU hours per 32×32 suite ({config.seeds} seeds × {len(rates)} architectures): {suite_hours:.1f}")
        synthetic_suite(root / "resume-check")
        ok = resume_check(config, config.runs[0], root / "resume-check")
        print(f"killed and resumed: {'ok' if ok else 'FAILED'}")


if __name__ == "__main__":
    main()
