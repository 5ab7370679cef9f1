"""Batching shared by the scorers: a starting batch size, and halving it on GPU out-of-memory."""

from __future__ import annotations

from collections.abc import Callable

import torch


def default_batch_size(model) -> int:
    """A starting batch size: large on a GPU (backed off on out-of-memory), modest on a CPU."""
    return 1024 if next(model.parameters()).device.type == "cuda" else 64


def run_batched(fn: Callable[[torch.Tensor], object], data: torch.Tensor, batch_size: int,
                progress: bool = False, desc: str = "scoring") -> list:
    """Apply `fn` to consecutive batches, halving the batch size on GPU out-of-memory."""
    from tqdm.auto import tqdm

    results, start = [], 0
    with tqdm(total=len(data), desc=desc, unit="row", disable=not progress) as bar:
        while start < len(data):
            try:
                results.append(fn(data[start:start + batch_size]))
            except torch.OutOfMemoryError as err:
                torch.cuda.empty_cache()
                if batch_size == 1:
                    raise MemoryError("out of memory at batch size 1: use a GPU with more memory, a smaller "
                                      "dtype (float16/bfloat16) or a smaller model") from err
                batch_size //= 2
                continue
            bar.update(min(batch_size, len(data) - start))
            start += batch_size
    return results

