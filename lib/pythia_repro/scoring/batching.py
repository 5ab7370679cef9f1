"""Feeding models, shared by the scorers: a starting batch size, halving it on GPU out-of-memory, checking ids."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

LOGIT_BUDGET = {"cuda": 8 * 2**30, "cpu": 2**30}  # bytes of logits one batch may hold (CPU: no OOM to back off)
MAX_BATCH = {"cuda": 1024, "cpu": 64}


def default_batch_size(model, row_tokens: int = 64) -> int:
    """A starting batch size whose logits (rows × `row_tokens` × vocabulary) fit a fixed budget: large on a GPU
    (backed off on out-of-memory), modest on a CPU, where running out of memory kills the process instead."""
    weights = next(model.parameters())
    kind = "cuda" if weights.device.type == "cuda" else "cpu"
    per_row = row_tokens * model.get_output_embeddings().out_features * max(weights.element_size(), 4)
    return int(max(1, min(MAX_BATCH[kind], LOGIT_BUDGET[kind] // per_row)))


def run_batched(
    fn: Callable[[torch.Tensor], object],
    data: torch.Tensor,
    batch_size: int,
    progress: bool = False,
    desc: str = "scoring",
) -> list:
    """Apply `fn` to consecutive batches, halving the batch size on GPU out-of-memory."""
    from tqdm.auto import tqdm

    results, start = [], 0
    with tqdm(total=len(data), desc=desc, unit="row", disable=not progress) as bar:
        while start < len(data):
            try:
                results.append(fn(data[start : start + batch_size]))
            except torch.OutOfMemoryError as err:
                torch.cuda.empty_cache()
                if batch_size == 1:
                    raise MemoryError(
                        "out of memory at batch size 1: use a GPU with more memory, a smaller "
                        "dtype (float16/bfloat16) or a smaller model"
                    ) from err
                batch_size //= 2
                continue
            bar.update(min(batch_size, len(data) - start))
            start += batch_size
    return results


def check_vocabulary(model, tokens: np.ndarray, first_row: int = 0, what: str = "row") -> None:
    """Fail with the row, token id and vocabulary size when `tokens` hold an id the model has no embedding for."""
    vocab = model.get_input_embeddings().num_embeddings
    bad = np.argwhere((tokens >= vocab) | (tokens < 0))
    if len(bad):
        row, col = bad[0]
        name = getattr(model.config, "_name_or_path", "") or type(model).__name__
        raise ValueError(
            f"{what} {first_row + row}: token id {int(tokens[row, col])} at position {col} is outside the "
            f"vocabulary of {name} ({vocab} ids); the data were tokenized for another model"
        )


def with_cache(model, cache) -> dict[str, Any]:
    """The keyword that hands a KV cache to `model`'s forward: `cache` (transformers 5), else `past_key_values`."""
    name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    return {name: cache}


def cache_of(output) -> Any:
    """The KV cache a forward returned, under its current name or the older one."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values
