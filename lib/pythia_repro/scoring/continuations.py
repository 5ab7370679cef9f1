"""Log-likelihood of a target continuation after a prefix, and whether greedy decoding would produce it.

lm-evaluation-harness's `loglikelihood` request: the summed log-probability of the target tokens given what
precedes them, and `is_greedy`, whether each target token is the argmax at its position (teacher forcing
decides this exactly: greedy decoding follows the target as long as every argmax equals it). One forward pass
per batch of right-padded sequences, each batch cut to its own longest sequence.
"""

from __future__ import annotations

import numpy as np
import torch

from .batching import default_batch_size, run_batched
from .divergence import POSITION_CHUNK, _log_probs_in_chunks


@torch.inference_mode()
def continuation_scores(
    model,
    tokens: np.ndarray,
    lengths: np.ndarray,
    starts: np.ndarray,
    batch_size: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per sequence `tokens[i, :lengths[i]]` whose target is `[starts[i], lengths[i])`: the target's summed
    log-likelihood (nats) and whether greedy decoding after the prefix gives exactly the target's tokens."""
    lengths, starts = np.asarray(lengths), np.asarray(starts)
    if np.any(starts < 1) or np.any(starts >= lengths):
        raise ValueError("every target needs a non-empty prefix and at least one token: 1 <= start < length")
    device = next(model.parameters()).device
    rows = torch.arange(len(tokens))

    def batch_scores(index: torch.Tensor) -> np.ndarray:
        idx = index.numpy()
        width = int(lengths[idx].max())
        batch = torch.from_numpy(np.asarray(tokens[idx, :width], dtype=np.int64)).to(device)
        pos = np.arange(width - 1)[None, :]
        mask = torch.from_numpy((pos >= starts[idx, None] - 1) & (pos < lengths[idx, None] - 1))
        loglik, hits = torch.zeros(len(idx), dtype=torch.float64), torch.zeros(len(idx), dtype=torch.long)
        for start, logp in _log_probs_in_chunks(model, batch, POSITION_CHUNK):
            target = batch[:, start + 1 : start + 1 + logp.shape[1]]
            chunk = mask[:, start : start + logp.shape[1]]
            picked = logp.gather(-1, target[..., None])[..., 0].cpu().double()
            greedy = (logp.argmax(-1) == target).cpu()
            loglik += (picked * chunk).sum(1)
            hits += (greedy & chunk).sum(1)
        return np.stack([loglik.numpy(), (hits.numpy() == (lengths[idx] - starts[idx]))], axis=1)

    scores = np.concatenate(
        run_batched(
            batch_scores,
            rows,
            batch_size or default_batch_size(model, 2 * min(int(lengths.max()), POSITION_CHUNK)),
            progress=progress,
            desc="continuations",
        )
    )
    return scores[:, 0], scores[:, 1].astype(bool)
