"""Checkpointed model suites: the registry of models and steps, and loading any (model, step).

A suite knows its models (architecture, training precision), its checkpoint steps,
its training layout (rows per step, tokens per row) and where a checkpoint's
weights live. The real Pythia suite is defined here; other suites (the offline
micro suite, another model family) register themselves with `register_suite`.
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from . import settings
from .errors import Explained


class CheckpointNotFound(Explained, LookupError):
    """A model, step or checkpoint file that does not exist where we looked."""


@dataclass(frozen=True)
class ModelSpec:
    """One model of a suite: its GPT-NeoX architecture and training precision."""

    name: str
    layers: int
    hidden: int
    heads: int
    vocab: int
    seq_len: int
    train_dtype: str = "float16"
    hub_id: str | None = None
    rotary_pct: float = 0.25
    data: str = "standard"  # which training data it saw: a key of its suite's `data_prefixes`

    @property
    def params(self) -> int:
        """Total parameters: untied embeddings, 12h²+13h per layer, final layer norm."""
        h = self.hidden
        return self.layers * (12 * h * h + 13 * h) + 2 * self.vocab * h + 2 * h

    def config(self):
        """The transformers GPTNeoXConfig of this model."""
        from transformers import GPTNeoXConfig

        return GPTNeoXConfig(
            vocab_size=self.vocab,
            hidden_size=self.hidden,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            intermediate_size=4 * self.hidden,
            rotary_pct=self.rotary_pct,
            max_position_embeddings=self.seq_len,
            use_parallel_residual=True,
            tie_word_embeddings=False,
            bos_token_id=0,
            eos_token_id=0,
        )


@dataclass(frozen=True)
class Checkpoint:
    """A model at a training step; `revision` is the hub branch name."""

    model: str
    step: int

    @property
    def revision(self) -> str:
        return f"step{self.step}"


@dataclass
class Suite:
    """A family of models trained on the same rows in the same order, checkpointed at `steps`."""

    name: str
    models: dict[str, ModelSpec]
    steps: tuple[int, ...]
    rows_per_step: int
    row_len: int
    tokenizer_file: Callable[[], Path]
    local_root: Path | None = None
    data_prefix: Path | None = None
    heldout_prefix: Path | None = None
    other_data: dict[str, Path | None] = field(default_factory=dict)  # e.g. "deduped": the deduplicated Pile

    @property
    def final_step(self) -> int:
        return self.steps[-1]

    def spec(self, model: str) -> ModelSpec:
        try:
            return self.models[model]
        except KeyError:
            raise CheckpointNotFound(
                f"{self.name} suite has no model {model!r}; models: {', '.join(self.models)}"
            ) from None

    def checkpoint(self, model: str, step: int | str | None = None) -> Checkpoint:
        """A validated checkpoint; `step` may be an int, 'step<N>', 'main' or None (final)."""
        self.spec(model)
        step = _parse_step(step, self.final_step)
        if step not in self.steps:
            raise CheckpointNotFound(
                f"{model} has no checkpoint at step {step}; nearest is step{self.nearest_step(step)}. "
                f"Valid steps: {_describe_steps(self.steps)}"
            )
        return Checkpoint(model, step)

    def with_data_of(self, models: list[str]) -> Suite:
        """This suite reading the training data the models were trained on (Pythia: the standard or the
        deduplicated Pile). Models trained on different data, or data not configured, are an error: one is
        never read in place of the other."""
        kinds = sorted({self.spec(m).data for m in models})
        if len(kinds) > 1:
            by_kind = {kind: [m for m in models if self.spec(m).data == kind] for kind in kinds}
            raise CheckpointNotFound(f"these models were trained on different data, {by_kind}: run them separately")
        if not kinds or kinds[0] == "standard":
            return self
        prefix = self.other_data.get(kinds[0])
        if prefix is None:
            raise CheckpointNotFound(
                f"{', '.join(models)} were trained on the {kinds[0]} data, which is not configured; set "
                f"{settings.variable('pile_' + kinds[0])} to its path prefix (the standard Pile is never used instead)"
            )
        return replace(self, data_prefix=prefix)

    def nearest_step(self, step: int) -> int:
        """The checkpoint step closest to `step` (ties go to the earlier one)."""
        i = bisect.bisect_left(self.steps, step)
        candidates = self.steps[max(i - 1, 0) : i + 1]
        return min(candidates, key=lambda s: (abs(s - step), s))

    def training_rows(self):
        """The suite's training rows in training order (a `data.TrainingRows`)."""
        return self._rows(
            self.data_prefix,
            f"no training data configured for the {self.name} suite; set {settings.variable('pile')} "
            "to the path prefix of the pre-tokenized, preshuffled Pile (<prefix>.idx and <prefix>.bin)",
        )

    def heldout_rows(self):
        """Rows of text the suite was not trained on (a `data.TrainingRows`), for evaluation on real text."""
        return self._rows(
            self.heldout_prefix,
            f"no held-out text configured for the {self.name} suite; set "
            f"{settings.variable('heldout')} to the path prefix of a pre-tokenized validation set (<prefix>.idx and "
            "<prefix>.bin, rows of the training row length)",
        )

    def _rows(self, prefix: Path | None, missing: str):
        from .data import MMapIndexedDataset, TrainingRows

        if prefix is None:
            raise CheckpointNotFound(missing)
        return TrainingRows(MMapIndexedDataset(prefix), self.rows_per_step, self.row_len)

    def tokens_seen(self, step: int) -> int:
        """Training tokens consumed by checkpoint `step` (rows × predicted tokens per row)."""
        return step * self.rows_per_step * (self.row_len - 1)

    def compute(self, model: str, step: int) -> float:
        """Training compute of a checkpoint in FLOPs: C = 6 · params · tokens."""
        return 6.0 * self.spec(model).params * self.tokens_seen(step)


def _parse_step(step: int | str | None, final: int) -> int:
    if step is None or step == "main":
        return final
    if isinstance(step, str):
        if not step.startswith("step") or not step[4:].isdigit():
            raise CheckpointNotFound(f"revision {step!r} is not of the form 'step<N>' or 'main'")
        return int(step[4:])
    return int(step)


def _describe_steps(steps: tuple[int, ...]) -> str:
    if len(steps) <= 12:
        return ", ".join(map(str, steps))
    return f"{', '.join(map(str, steps[:11]))}, …, {steps[-1]} ({len(steps)} in all)"


# -- the Pythia suite ---------------------------------------------------------

PYTHIA_STEPS: tuple[int, ...] = (0, *(2**i for i in range(10)), *range(1000, 143001, 1000))
# name at release time (v0), used by the memorization figures and the term-frequency files
_PYTHIA_ARCH = {  # size: (layers, hidden, heads, padded vocab)
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


def _pythia_models() -> dict[str, ModelSpec]:
    models = {}
    for size, (layers, hidden, heads, vocab) in _PYTHIA_ARCH.items():
        variants = ("",) if size in ("14m", "31m") else ("", "-deduped")
        for variant in variants:
            name = f"pythia-{size}{variant}"
            models[name] = ModelSpec(
                name,
                layers,
                hidden,
                heads,
                vocab,
                seq_len=2048,
                train_dtype="bfloat16" if size == "1b" else "float16",
                hub_id=f"EleutherAI/{name}",
                data="deduped" if variant else "standard",
            )
    return models


def _pythia_tokenizer() -> Path:
    from .reference import fetch

    return fetch("tokenizer/20B_tokenizer.json")


def pythia_suite() -> Suite:
    """The real suite: hub checkpoints (or a local folder of them) and the Pile, as `settings` name them."""
    return Suite(
        "pythia",
        _pythia_models(),
        PYTHIA_STEPS,
        rows_per_step=1024,
        row_len=2049,
        tokenizer_file=_pythia_tokenizer,
        local_root=settings.path("checkpoint_folder"),
        data_prefix=settings.path("pile"),
        heldout_prefix=settings.path("heldout"),
        other_data={"deduped": settings.path("pile_deduped")},
    )


# -- the suite registry ---------------------------------------------------------------------

_SUITES: dict[str, Callable[[], Suite]] = {"pythia": pythia_suite}
# Suites defined in their own module, imported (and so registered) only when first asked for: the module
# imports this one, never the other way round.
_SUITE_MODULES = {"micro": "pythia_repro.micro"}


def register_suite(name: str, factory: Callable[[], Suite]) -> None:
    """Make a suite available by name (a new model family is one module calling this)."""
    _SUITES[name] = factory


def get_suite(name: str) -> Suite:
    if name not in _SUITES and name in _SUITE_MODULES:
        importlib.import_module(_SUITE_MODULES[name])  # registers itself
    try:
        return _SUITES[name]()
    except KeyError:
        raise CheckpointNotFound(
            f"unknown suite {name!r}; known: {', '.join(sorted({*_SUITES, *_SUITE_MODULES}))}"
        ) from None


def suite_of(model: str) -> Suite:
    """The suite a model name belongs to, from its prefix (`pythia-…`, `micro-…`)."""
    return get_suite(model.split("-", 1)[0])


# -- loading --------------------------------------------------------------------------------


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(spec: ModelSpec, device: torch.device) -> torch.dtype:
    """Training precision on a GPU (fp16; bf16 for pythia-1b), fp32 on CPU."""
    return getattr(torch, spec.train_dtype) if device.type == "cuda" else torch.float32


def load_model(checkpoint: Checkpoint, device: str | torch.device | None = None, dtype: torch.dtype | None = None):
    """A GPT-NeoX model at a checkpoint, in eval mode, from a local folder or the hub (safetensors only)."""
    from transformers import GPTNeoXForCausalLM

    suite = suite_of(checkpoint.model)
    spec = suite.spec(checkpoint.model)
    suite.checkpoint(checkpoint.model, checkpoint.step)
    device = torch.device(device) if device is not None else default_device()
    dtype = dtype or default_dtype(spec, device)
    kwargs = dict(dtype=dtype, use_safetensors=True, attn_implementation="sdpa")
    if suite.local_root is not None:
        folder = suite.local_root / checkpoint.model / checkpoint.revision
        if not (folder / "config.json").is_file():
            raise CheckpointNotFound(
                f"no checkpoint {checkpoint.model}@{checkpoint.revision}: looked for {folder}/config.json "
                f"(local root of the {suite.name} suite)"
            )
        source = str(folder)
    else:
        source, kwargs = spec.hub_id, {**kwargs, "revision": checkpoint.revision}
    try:
        with quiet_weight_loading():
            model = GPTNeoXForCausalLM.from_pretrained(source, **kwargs)
    except OSError as err:
        offline = settings.enabled("hub_offline")
        where = (
            "" if suite.local_root else f" (hub revision {checkpoint.revision}, offline={offline}, cache {_hf_cache()})"
        )
        raise CheckpointNotFound(
            f"could not load {checkpoint.model}@{checkpoint.revision} from {source}{where}: {err}. Only "
            "safetensors weights are loaded; check the revision exists and its files are present."
        ) from err
    return model.to(device).eval()


@contextmanager
def quiet_weight_loading() -> Iterator[None]:
    """Silence transformers' per-load progress bar (sweeps show their own), restoring the user's setting."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _hf_cache() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def load_tokenizer(suite: Suite | str):
    """The suite's tokenizer as a transformers fast tokenizer (end-of-document id 0)."""
    from transformers import PreTrainedTokenizerFast

    suite = get_suite(suite) if isinstance(suite, str) else suite
    tok = PreTrainedTokenizerFast(tokenizer_file=str(suite.tokenizer_file()))
    eos = tok.convert_ids_to_tokens(0)
    tok.eos_token = tok.bos_token = eos
    tok.pad_token = eos
    return tok
