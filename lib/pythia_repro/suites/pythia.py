"""Pythia (Biderman et al. 2023), trained on the standard Pile: ten sizes, 154 checkpoints each, on the hub.

The defaults are the authors' settings, so that a run reproduces the published numbers: memorization
decodes with end-of-document suppressed (their `generate(min_length=64)`) in fp16 on a GPU, and the
few-shot arithmetic runs in the checkpoints' training precision on a GPU (fp16; bf16 for pythia-1b), as
the GPT-NeoX evaluation harness loaded them. On a CPU every model scores in fp32. Each is a notebook
parameter (`dtype`, `suppress_eod`) to override.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .. import settings
from .base import ModelSpec, Suite
from .registry import register_suite

STEPS: tuple[int, ...] = (0, *(2**i for i in range(10)), *range(1000, 143001, 1000))
ROWS_PER_STEP = 1024  # rows of 2049 tokens per step: 2,097,152 predicted tokens
ROW_LEN = 2049
PILE_BITS_PER_BYTE = 0.3650388  # nats per token → bits per byte on the Pile with the GPT-NeoX tokenizer
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
# The gender-bias interventions (the Pythia paper's third case study): the deduplicated models re-trained over the
# last 7% (or, for 1.4b, 21%) of training with masculine pronouns swapped for feminine ones, each released at its
# final step only. Revisions hold safetensors weights: 410m's main (the conversion merged), the long 1.4b's conversion
# pull request; the others are as listed on the hub when written (6.9b's main holds pickled shards only, which
# this package does not load: asking for it fails with that error).
INTERVENTIONS = {  # model name here: (hub id, revision)
    "pythia-70m-deduped-intervention": ("EleutherAI/pythia-intervention-70m-deduped", "main"),
    "pythia-410m-deduped-intervention": ("EleutherAI/pythia-intervention-410m-deduped", "main"),
    "pythia-1.4b-deduped-intervention": ("EleutherAI/pythia-intervention-1.4b-deduped", "refs/pr/1"),
    "pythia-1.4b-deduped-intervention-long": ("EleutherAI/pythia-intervention-long-1.4b-deduped", "refs/pr/1"),
    "pythia-6.9b-deduped-intervention": ("EleutherAI/pythia-intervention-6.9b-deduped", "main"),
}
GENDER_DEFAULTS = {  # the sizes with safetensors at both arms, over the short intervention's window
    "models": ("pythia-70m-deduped", "pythia-410m-deduped", "pythia-1.4b-deduped"),
    "steps": tuple(range(134000, 143001, 1000)),
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


def interventions(sizes: tuple[str, ...]) -> dict[str, ModelSpec]:
    """The intervention runs of the given deduplicated models: the baseline's architecture, their own repo and
    revision."""
    base = models(sizes, "-deduped")
    out = {}
    for name, (hub_id, revision) in INTERVENTIONS.items():
        baseline = name[: name.index("-deduped")] + "-deduped"
        if baseline in base:
            out[name] = replace(base[baseline], name=name, hub_id=hub_id, revision=revision)
    return out


def tokenizer() -> Path:
    """The GPT-NeoX-20B tokenizer every Pythia model uses (end-of-document id 0)."""
    from ..data.reference import fetch

    return fetch("tokenizer/20B_tokenizer.json")


def suite(name: str = "pythia", suffix: str = "", data: str = "pile") -> Suite:
    """Pythia models trained on the data the `data` setting names: hub checkpoints or a local mirror."""
    sizes = DEDUPED_SIZES if suffix else tuple(ARCHITECTURE)
    specs = models(sizes, suffix) | (interventions(sizes) if suffix else {})
    return Suite(
        name,
        specs,
        STEPS,
        rows_per_step=ROWS_PER_STEP,
        row_len=ROW_LEN,
        tokenizer_file=tokenizer,
        findings=FINDING_DEFAULTS | ({"gender_bias": GENDER_DEFAULTS} if suffix else {}),
        local_root=settings.path("checkpoint_folder"),
        data_prefix=settings.path(data),
        heldout_prefix=settings.path("heldout"),
        data_setting=data,
        default_models=tuple(f"pythia-{size}{suffix}" for size in DEFAULT_SIZES),
        pythia_schedule=True,
        bits_per_byte=PILE_BITS_PER_BYTE,
        description=f"Pythia{suffix} checkpoints, scored here",
        missing_hint=(
            "the deduplicated models are the pythia-deduped suite (--profile pythia-deduped)"
            if not suffix
            else "the standard models are the pythia suite (--profile pythia)"
        ),
    )


register_suite("pythia", suite)
