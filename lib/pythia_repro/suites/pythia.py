"""Pythia (Biderman et al. 2023), trained on the standard Pile: ten sizes, 154 checkpoints each, on the hub.

The defaults are the authors' settings, so that a run reproduces the published numbers: memorization
decodes with end-of-document suppressed (their `generate(min_length=64)`) in fp16 on a GPU, and the
few-shot arithmetic runs in the checkpoints' training precision on a GPU (fp16; bf16 for pythia-1b), as
the GPT-NeoX evaluation harness loaded them. On a CPU every model scores in fp32. Each is a notebook
parameter (`dtype`, `suppress_eod`) to override.
"""

from __future__ import annotations

from pathlib import Path

from .. import settings
from .base import ModelSpec, Suite
from .registry import register_suite

STEPS: tuple[int, ...] = (0, *(2**i for i in range(10)), *range(1000, 143001, 1000))
ROWS_PER_STEP = 1024  # rows of 2049 tokens per step: 2,097,152 predicted tokens
ROW_LEN = 2049
ARCHITECTURE = {  # size: (layers, hidden, heads, padded vocab)
    "14m": (6, 128, 4, 50304),
    "31m": (6, 256, 8, 50304),
    "70m": (6, 512, 8, 50304),
    "160m": (12, 768, 12, 50304),
    "410m": (24, 1024, 16, 50304),
    "1b": (16, 2048, 8, 50304),
    "1.4b": (24, 2048, 16, 50304),
    "2.8b": (32, 2560, 32, 50304),
    "6.9b": (32, 4096, 32, 50432),
    "12b": (36, 5120, 40, 50688),
}
DEDUPED_SIZES = tuple(size for size in ARCHITECTURE if size not in ("14m", "31m"))
DEFAULT_SIZES = ("70m", "160m", "410m")
FINDING_DEFAULTS = {
    "memorization": {"dtype": "float16", "suppress_eod": True},
    "simplicity_bias": {},
    "term_frequency": {},
}


def models(sizes: tuple[str, ...], suffix: str = "") -> dict[str, ModelSpec]:
    """Pythia models of the given sizes (`suffix` "-deduped" for the deduplicated ones), with their hub ids."""
    out = {}
    for size in sizes:
        layers, hidden, heads, vocab = ARCHITECTURE[size]
        name = f"pythia-{size}{suffix}"
        out[name] = ModelSpec(
            name,
            layers,
            hidden,
            heads,
            vocab,
            seq_len=2048,
            train_dtype="bfloat16" if size == "1b" else "float16",
            hub_id=f"EleutherAI/{name}",
        )
    return out


def tokenizer() -> Path:
    """The GPT-NeoX-20B tokenizer every Pythia model uses (end-of-document id 0)."""
    from ..reference import fetch

    return fetch("tokenizer/20B_tokenizer.json")


def suite(name: str = "pythia", suffix: str = "", data: str = "pile") -> Suite:
    """Pythia models trained on the data the `data` setting names: hub checkpoints or a local mirror."""
    sizes = DEDUPED_SIZES if suffix else tuple(ARCHITECTURE)
    return Suite(
        name,
        models(sizes, suffix),
        STEPS,
        rows_per_step=ROWS_PER_STEP,
        row_len=ROW_LEN,
        tokenizer_file=tokenizer,
        findings=FINDING_DEFAULTS,
        local_root=settings.path("checkpoint_folder"),
        data_prefix=settings.path(data),
        heldout_prefix=settings.path("heldout"),
        data_setting=data,
        default_models=tuple(f"pythia-{size}{suffix}" for size in DEFAULT_SIZES),
        pythia_schedule=True,
        description=f"Pythia{suffix} checkpoints, scored here",
        missing_hint=(
            "the deduplicated models are the pythia-deduped suite (--profile pythia-deduped)"
            if not suffix
            else "the standard models are the pythia suite (--profile pythia)"
        ),
    )


register_suite("pythia", suite)
