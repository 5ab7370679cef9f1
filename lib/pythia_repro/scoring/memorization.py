"""Memorization (greedy extraction) scores of many rows, exact and fast.

Memorization score of a row (Biderman et al. 2023): prompt = its first `context_len`
tokens; decode `continuation_len` tokens greedily; the score is the fraction of positions
where the decoded token equals the true one. The authors called
`generate(prompt, max_length=64, min_length=64)` without a KV cache. Here one
teacher-forced pass decides every row exactly: greedy decoding reproduces the
continuation iff the argmax at positions 31–62 equals tokens 32–63, and the same pass
gives the length of the matched prefix. Only rows that diverge are decoded further,
reusing the pass's KV cache from the earliest divergence on, with each row fed its true
tokens until its own divergence and its own greedy tokens after it.

End of document: `min_length=64` makes `generate` forbid the end-of-document token (`eod_id`,
0 for Pythia) at every generated position, so under the authors' method a continuation
containing it can never score 1. `suppress_eod=False` scores plain greedy decoding, where
such a continuation can be memorized; `suppress_eod=True` reproduces the authors' behaviour
exactly (the pythia suites' default; each suite sets its own).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from .batching import cache_of, default_batch_size, run_batched, with_cache

EOD_ID = 0


@dataclass
class MemorizationScores:
    """Per-row results: score in [0, 1] (multiples of 1/continuation_len), memorized flag, matched-prefix length."""

    score: np.ndarray | None
    memorized: np.ndarray
    prefix_len: np.ndarray

    def to_frame(self, rows: np.ndarray | range | None = None):
        import pandas as pd

        data = {"memorized": self.memorized, "prefix_len": self.prefix_len}
        if self.score is not None:
            data = {"score": self.score, **data}
        frame = pd.DataFrame(data)
        if rows is not None:
            frame.insert(0, "row", np.asarray(rows, dtype=np.int64))
        return frame


@torch.inference_mode()
def memorization_scores(
    model,
    tokens,
    context_len: int = 32,
    batch_size: int | None = None,
    fractional: bool = True,
    suppress_eod: bool = False,
    progress: bool = False,
    eod_id: int = EOD_ID,
) -> MemorizationScores:
    """Exact greedy-extraction scores of `tokens` [N, context_len + continuation_len] under `model`."""
    tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    if tokens.ndim != 2 or tokens.shape[1] <= context_len:
        raise ValueError(
            f"tokens must be [N, context_len + continuation_len] with context_len={context_len}, "
            f"got shape {tuple(tokens.shape)}"
        )
    results = run_batched(
        lambda batch: _score_batch(model, batch, context_len, fractional, eod_id if suppress_eod else None),
        tokens,
        batch_size or default_batch_size(model),
        progress=progress,
        desc="memorization",
    )
    prefix = np.concatenate([r[1] for r in results]) if results else np.empty(0, np.int16)
    cont = tokens.shape[1] - context_len
    score = (
        np.concatenate([r[0] for r in results])
        if fractional and results
        else (np.empty(0, np.float32) if fractional else None)
    )
    return MemorizationScores(score=score, memorized=prefix == cont, prefix_len=prefix)


def _greedy(logits: torch.Tensor, banned: int | None) -> torch.Tensor:
    """The argmax token, never `banned` (the end-of-document id when it is suppressed)."""
    if banned is not None:
        logits = logits.clone()
        logits[..., banned] = -torch.inf
    return logits.argmax(-1)


def _score_batch(model, batch: torch.Tensor, context_len: int, fractional: bool, banned: int | None):
    device = next(model.parameters()).device
    batch = batch.to(device)
    n, length = batch.shape
    cont = length - context_len
    truth = batch[:, context_len:]
    out = model.base_model(input_ids=batch[:, :-1], use_cache=fractional)
    hidden = out.last_hidden_state[:, context_len - 1 :]
    preds = _greedy(model.get_output_embeddings()(hidden), banned)
    matches = preds == truth
    prefix = torch.where(matches.all(1), cont, (~matches).int().argmax(1))
    if not fractional:
        return None, prefix.to(torch.int16).cpu().numpy()
    score = matches.sum(1).float()  # correct for fully matched rows; others recomputed below
    todo = torch.nonzero(prefix < cont).squeeze(1)
    if len(todo):
        score[todo] = _decode_diverged(
            model, cache_of(out), batch[todo], preds[todo], prefix[todo], todo, context_len, banned
        )
    return (score / cont).cpu().numpy().astype(np.float32), prefix.to(torch.int16).cpu().numpy()


def _decode_diverged(model, cache, rows, preds, prefix, index, context_len, banned) -> torch.Tensor:
    """Greedy decoding of diverged rows in lockstep from the earliest divergence, reusing the cache."""
    length = rows.shape[1]
    start = context_len + int(prefix.min())  # first position whose input may differ from the truth
    drop = cache.get_seq_length() - start
    if drop:
        cache.crop(-drop)  # negative: remove that many trailing positions
    cache.batch_select_indices(index)
    first_wrong = context_len + prefix  # per row: position of its first wrong token
    generated = rows.clone()
    pos = torch.arange(length, device=rows.device)
    generated[:, context_len:] = torch.where(pos[context_len:] < first_wrong[:, None], rows[:, context_len:], -1)
    generated[torch.arange(len(rows)), first_wrong] = preds[torch.arange(len(rows)), prefix]
    for t in range(start, length - 1):
        step = model(
            input_ids=generated[:, t : t + 1],
            **with_cache(model, cache),
            use_cache=True,
            position_ids=torch.full((len(rows), 1), t, device=rows.device),
        )
        cache = cache_of(step)
        nxt = _greedy(step.logits[:, -1], banned)
        free = first_wrong < t + 1  # rows already decoding on their own tokens
        generated[:, t + 1] = torch.where(free, nxt, generated[:, t + 1])
    return (generated[:, context_len:] == rows[:, context_len:]).sum(1).float()


@torch.inference_mode()
def generate_scores_reference(
    model, tokens, context_len: int = 32, batch_size: int = 64, min_length: bool = True, eod_id: int = EOD_ID
) -> np.ndarray:
    """The authors' method, kept as the reference and speed anchor: greedy `generate` without a KV cache.

    `model.generate(prompt, max_length=L, min_length=L)`, `use_cache=False`. With `min_length=False`, plain
    greedy decoding without a cache that, unlike `generate`, goes on past an end-of-document token. Returns
    the fraction of continuation positions equal to the truth.
    """
    tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    length = tokens.shape[1]
    device = next(model.parameters()).device
    config = copy.deepcopy(model.generation_config)
    config.update(
        max_length=length, min_length=length, do_sample=False, use_cache=False, pad_token_id=eod_id, eos_token_id=eod_id
    )
    scores = []
    for start in range(0, len(tokens), batch_size):
        batch = tokens[start : start + batch_size].to(device)
        prompt = batch[:, :context_len]
        if min_length:
            out = model.generate(prompt, attention_mask=torch.ones_like(prompt), generation_config=config)
        else:  # generate() would stop at the end-of-document token; decode on, still without a cache
            out = prompt
            while out.shape[1] < length:
                nxt = model(input_ids=out, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
                out = torch.cat([out, nxt], 1)
        scores.append((out[:, context_len:length] == batch[:, context_len:]).float().mean(1).cpu().numpy())
    return np.concatenate(scores).astype(np.float32)
