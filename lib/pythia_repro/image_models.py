"""The image classifiers of the built image suites: their specs, the networks, and their checkpoint files.

A checkpoint is a folder with `config.json` (the spec) and `model.safetensors` (the weights), read back with
safetensors only: nothing is unpickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from . import atomic

ARCHITECTURES = ("mlp", "cnn")


@dataclass(frozen=True)
class ImageSpec:
    """One image classifier of a suite: architecture, width, input shape and classes."""

    name: str
    arch: str  # "mlp": two hidden layers of `width`; "cnn": three 3×3 convolutions of width, 2·width, 2·width
    width: int
    channels: int
    size: int  # images are size × size
    classes: int
    train_dtype: str = "float32"
    hub_id: str | None = None
    revision = None  # not a field (builds record their specs): every step of a run is a checkpoint (ModelSpec)

    @property
    def params(self) -> int:
        return sum(p.numel() for p in build(self).parameters())


class MLP(nn.Module):
    """Pixels → two GELU layers → class logits."""

    def __init__(self, spec: ImageSpec):
        super().__init__()
        d, w = spec.channels * spec.size**2, spec.width
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(d, w), nn.GELU(), nn.Linear(w, w), nn.GELU(), nn.Linear(w, spec.classes)
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(pixels)


class CNN(nn.Module):
    """Three 3×3 convolutions (one 2×2 max-pool), global average pooling, a linear head."""

    def __init__(self, spec: ImageSpec):
        super().__init__()
        w = spec.width
        self.net = nn.Sequential(
            nn.Conv2d(spec.channels, w, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.GELU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1),
            nn.GELU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(2 * w, spec.classes),
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(pixels)


def build(spec: ImageSpec) -> nn.Module:
    """A freshly initialised network of the spec (initialised from torch's current random state)."""
    networks = {"mlp": MLP, "cnn": CNN}
    if spec.arch not in networks:
        raise ValueError(f"unknown image architecture {spec.arch!r}; known: {', '.join(networks)}")
    return networks[spec.arch](spec)


def save(model: nn.Module, spec: ImageSpec, folder: Path) -> None:
    """Write a checkpoint folder: the spec as `config.json`, the weights as `model.safetensors`."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(folder / "config.json", json.dumps(asdict(spec), indent=1, sort_keys=True))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))


def load(folder: Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> nn.Module:
    """A checkpoint folder's network in eval mode (safetensors only)."""
    from safetensors.torch import load_file

    spec = ImageSpec(**json.loads((folder / "config.json").read_text()))
    model = build(spec)
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.to(device=device, dtype=dtype).eval()
