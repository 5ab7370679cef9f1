"""The image classifiers of the built image suites: their specs, the networks, and their checkpoint files.

Two kinds: the micro suites' MLP, CNN and small vision transformer (`ImageSpec`), and the authors' architectures
(`VisionSpec`): ConvNeXt V2 with 1×1 patches, RegNet-Y with a stride-1 stem and Swin V2 with 2×2 patches, sized as
the authors configured them (features-across-time's `train_vision.py`), all from transformers. A checkpoint is a
folder with `config.json` (the spec) and `model.safetensors` (the weights), read back with safetensors only: nothing
is unpickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from ..integrity import atomic


@dataclass(frozen=True)
class ImageSpec:
    """One image classifier of a suite: architecture, width, input shape and classes."""

    name: str
    arch: str  # "mlp": two hidden layers of `width`; "cnn": three 3×3 convolutions of width, 2·width, 2·width;
    # "vit": 4×4 patches, two transformer layers of `width`
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


class ViT(nn.Module):
    """A small vision transformer: 4×4 patches embedded with learned positions, two pre-norm encoder layers (four
    heads, GELU), mean pooling, a linear head; nearer the authors' Swin than the CNN, but not in the glyph suite: it
    does not learn those glyphs in the budget (docs/miniatures.md, F4–F5)."""

    def __init__(self, spec: ImageSpec, patch: int = 4, layers: int = 2, heads: int = 4):
        super().__init__()
        w = spec.width
        self.embed = nn.Conv2d(spec.channels, w, patch, stride=patch)
        self.pos = nn.Parameter(torch.randn(1, (spec.size // patch) ** 2, w) * 0.02)
        layer = nn.TransformerEncoderLayer(
            w, heads, 2 * w, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(w)
        self.head = nn.Linear(w, spec.classes)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(pixels).flatten(2).transpose(1, 2) + self.pos
        return self.head(self.norm(self.blocks(tokens)).mean(1))


NETWORKS = {"mlp": MLP, "cnn": CNN, "vit": ViT}  # the micro suites' architectures, by `ImageSpec.arch`

# The authors' sizes; "test" is a tiny network of the same family, for runs on a CPU (the tests').
CONVNEXT = {  # size: (depths, hidden sizes)
    "atto": ((2, 2, 6, 2), (40, 80, 160, 320)),
    "femto": ((2, 2, 6, 2), (48, 96, 192, 384)),
    "pico": ((2, 2, 6, 2), (64, 128, 256, 512)),
    "nano": ((2, 2, 8, 2), (80, 160, 320, 640)),
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "test": ((1, 1, 1, 1), (8, 8, 16, 16)),
}
REGNET = {  # size: (depths, widths, group width), as torchvision's regnet_y_* compute them
    "400mf": ((1, 3, 6, 6), (48, 104, 208, 440), 8),
    "800mf": ((1, 3, 8, 2), (64, 128, 320, 768), 16),
    "1.6gf": ((2, 6, 17, 2), (48, 120, 336, 888), 24),
    "3.2gf": ((2, 5, 13, 1), (72, 216, 576, 1512), 24),
    "test": ((1, 1, 1, 1), (8, 8, 16, 16), 8),
}
SWIN = {  # size: (depths, embedding width, heads per stage)
    "atto": ((2, 2, 6, 2), 40, (2, 4, 8, 16)),
    "femto": ((2, 2, 6, 2), 48, (2, 4, 8, 16)),
    "pico": ((2, 2, 6, 2), 64, (2, 4, 8, 16)),
    "nano": ((2, 2, 6, 2), 80, (2, 4, 8, 16)),
    "tiny": ((2, 2, 6, 2), 96, (3, 6, 12, 24)),
    "test": ((1, 1, 1), 8, (1, 1, 2)),  # three stages: 8×8 images have 4×4 patches, halved twice
}
SIZES = {"convnext": CONVNEXT, "regnet": REGNET, "swin": SWIN}


@dataclass(frozen=True)
class VisionSpec:
    """One classifier of the authors' setting: architecture family and size, input shape and classes."""

    name: str
    arch: str  # convnext, regnet or swin
    variant: str  # a size of the family (`SIZES`)
    channels: int
    size: int
    classes: int
    train_dtype: str = "bfloat16"
    hub_id: str | None = None
    revision = None  # not a field: every step of a run is a checkpoint (ModelSpec)

    @property
    def params(self) -> int:
        return sum(p.numel() for p in build(self).parameters())


class Logits(nn.Module):
    """A transformers image classifier that maps pixels to logits, like the micro networks."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixels).logits


def _transformers_net(spec: VisionSpec) -> nn.Module:
    """The authors' configuration of each family: ConvNeXt V2 with 1×1 patches and drop path 0.1; RegNet-Y with
    its stem at stride 1; Swin V2 with 2×2 patches, 7×7 windows and drop path 0.2."""
    import transformers as tf

    sizes = SIZES.get(spec.arch, {})
    if spec.variant not in sizes:
        raise ValueError(f"unknown {spec.arch} size {spec.variant!r}; known: {', '.join(sizes)}")
    shape = {"num_labels": spec.classes, "num_channels": spec.channels}
    if spec.arch == "convnext":
        depths, hidden = CONVNEXT[spec.variant]
        config = tf.ConvNextV2Config(
            image_size=spec.size,
            patch_size=1,
            depths=list(depths),
            hidden_sizes=list(hidden),
            drop_path_rate=0.1,
            **shape,
        )
        return tf.ConvNextV2ForImageClassification(config)
    if spec.arch == "regnet":
        depths, widths, group = REGNET[spec.variant]
        config = tf.RegNetConfig(
            embedding_size=32,
            hidden_sizes=list(widths),
            depths=list(depths),
            groups_width=group,
            layer_type="y",
            **shape,
        )
        model = tf.RegNetForImageClassification(config)
        model.regnet.embedder.embedder.convolution.stride = (1, 1)
        return model
    depths, width, heads = SWIN[spec.variant]
    config = tf.Swinv2Config(
        image_size=spec.size,
        patch_size=2,
        embed_dim=width,
        depths=list(depths),
        num_heads=list(heads),
        window_size=7,
        drop_path_rate=0.2,
        **shape,
    )
    return tf.Swinv2ForImageClassification(config)


def build(spec: ImageSpec | VisionSpec) -> nn.Module:
    """A freshly initialised network of the spec (initialised from torch's current random state)."""
    if isinstance(spec, VisionSpec):
        return Logits(_transformers_net(spec))
    if spec.arch not in NETWORKS:
        raise ValueError(f"unknown image architecture {spec.arch!r}; known: {', '.join(NETWORKS)}")
    return NETWORKS[spec.arch](spec)


def forward_flops(spec: ImageSpec | VisionSpec) -> int:
    """FLOPs of one image's forward pass (torch's FLOP counter: matrix products and convolutions)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = build(spec).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, spec.channels, spec.size, spec.size))
    return counter.get_total_flops()


def spec_of(config: dict) -> ImageSpec | VisionSpec:
    """The spec a checkpoint's `config.json` (or a manifest's model entry, `params` aside) describes."""
    fields = {k: v for k, v in config.items() if k != "params"}
    return VisionSpec(**fields) if "variant" in fields else ImageSpec(**fields)


def save(model: nn.Module, spec: ImageSpec | VisionSpec, folder: Path) -> None:
    """Write a checkpoint folder: the spec as `config.json`, the weights as `model.safetensors`."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(folder / "config.json", json.dumps(asdict(spec), indent=1, sort_keys=True))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))


def load(folder: Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> nn.Module:
    """A checkpoint folder's network in eval mode (safetensors only)."""
    from safetensors.torch import load_file

    spec = spec_of(json.loads((folder / "config.json").read_text()))
    model = build(spec)
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.to(device=device, dtype=dtype).eval()
