"""Loading a suite's checkpoints and tokenizer, and the precision a finding scores them in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .. import settings
from ..data.known_issues import FlaggedCheckpoint
from ..paths import hf_cache
from .audit import doubt, fetched_twin, released
from .base import Checkpoint, CheckpointNotFound, ModelSpec, Suite
from .facts import tokenizer_mismatch
from .registry import get_suite


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(spec: ModelSpec, device: torch.device) -> torch.dtype:
    """Training precision on a GPU (fp16; bf16 for pythia-1b), fp32 on CPU."""
    return getattr(torch, spec.train_dtype) if device.type == "cuda" else torch.float32


def run_dtype(suite: Suite, finding: str, model: str, device: torch.device, given: str | None = None) -> str:
    """The precision a finding scores a model in: given; else, on a GPU, the suite's default for the finding (the
    authors' setting) or the training precision; on a CPU float32 (its fp16 kernels are many times slower)."""
    if given:
        return given
    if device.type != "cuda":
        return "float32"
    return suite.default(finding, "dtype") or str(default_dtype(suite.spec(model), device)).removeprefix("torch.")


def load_model(
    checkpoint: Checkpoint,
    device: str | torch.device | None = None,
    dtype: torch.dtype | str | None = None,
    doubted: bool | None = None,
):
    """A model at a checkpoint, in eval mode, from the suite's local folder or the hub (safetensors only).

    A released checkpoint that is not what it claims (`audit.doubt` before, `audit.fetched_twin` after fetching) is
    refused unless `doubted` (default: the `checkpoints` setting is `all`); one whose tokenizer is not the suite's
    (`facts.tokenizer_mismatch`) is always refused."""
    import transformers

    suite = get_suite(checkpoint.suite)
    spec = suite.spec(checkpoint.model)
    suite.checkpoint(checkpoint.model, checkpoint.step)
    doubted = settings.value("checkpoints") == "all" if doubted is None else doubted
    if not doubted and (why := doubt(suite, checkpoint)):
        raise FlaggedCheckpoint(_refused(checkpoint, why))
    device = torch.device(device) if device is not None else default_device()
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype or default_dtype(spec, device)
    if suite.loader is not None:
        return suite.loader(checkpoint, device, dtype)
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
        source = spec.hub_id
        kwargs |= dict(
            revision=checkpoint.revision, cache_dir=hf_cache(), local_files_only=settings.enabled("hub_offline")
        )
    try:
        with quiet_weight_loading():
            model = getattr(transformers, suite.model_class).from_pretrained(source, **kwargs)
    except OSError as err:
        offline = settings.enabled("hub_offline")
        where = (
            "" if suite.local_root else f" (hub revision {checkpoint.revision}, offline={offline}, cache {hf_cache()})"
        )
        raise CheckpointNotFound(
            f"could not load {checkpoint.model}@{checkpoint.revision} from {source}{where}: {err}. Only "
            "safetensors weights are loaded; check the revision exists and its files are present."
        ) from err
    if released(suite, checkpoint.model) and (why := tokenizer_mismatch(suite, checkpoint)):
        raise FlaggedCheckpoint(f"{checkpoint.model}@{checkpoint.revision}: {why}. It is never scored")
    if not doubted and (why := fetched_twin(suite, checkpoint)):
        raise FlaggedCheckpoint(_refused(checkpoint, why))
    return model.to(device).eval()


def _refused(checkpoint: Checkpoint, why: str) -> str:
    return (
        f"{checkpoint.model}@{checkpoint.revision} is not what it claims: {why}. It is not scored: choose other steps, "
        "or pass -p checkpoints=all to score it anyway"
    )


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


def load_tokenizer(suite: Suite):
    """The suite's tokenizer as a transformers fast tokenizer, its end-of-document token as eos, bos and pad."""
    from transformers import PreTrainedTokenizerFast

    if suite.tokenizer_file is None:
        raise CheckpointNotFound(f"the {suite.name} suite's models read no text: it has no tokenizer")
    tok = PreTrainedTokenizerFast(tokenizer_file=str(suite.tokenizer_file()))
    eos = tok.convert_ids_to_tokens(suite.eod_id)
    tok.eos_token = tok.bos_token = eos
    tok.pad_token = tok.convert_ids_to_tokens(suite.pad_id)
    return tok
