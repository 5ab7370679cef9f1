"""Fast, exact scorers over many rows: memorization (greedy extraction) scores.

Memorization score of a row (Biderman et al. 2023): prompt = its first `context_len`
tokens; decode `continuation_len` tokens greedily; the score is the fraction of positions
where the decoded token equals the true one. The authors called
`generate(prompt, max_length=64, min_length=64)` without a KV cache. Here one
teacher-forced pass decides every row exactly: greedy decoding reproduces the
continuation iff the argmax at positions 31–62 equals tokens 32–63, and the same pass
gives the length of the matched prefix. Only rows that diverge are decoded further,
reusing the pass's KV cache from the earliest divergence on, with each row fed its true
tokens until its own divergence and its own greedy tokens after it.

End of document: `min_length=64` makes `generate` forbid token 0 at every generated
position, so under the authors' method a continuation containing the end-of-document
token can never score 1. `suppress_eod=False` (the default here) scores plain greedy
decoding, where such a continuation can be memorized; `suppress_eod=True` reproduces the
authors' behaviour exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

SCORER_VERSION = 1
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


def default_batch_size(model) -> int:
    """A starting batch size: large on a GPU (backed off on out-of-memory), modest on a CPU."""
    return 1024 if next(model.parameters()).device.type == "cuda" else 64


@torch.inference_mode()
def memorization_scores(model, tokens, context_len: int = 32, batch_size: int | None = None,
                        fractional: bool = True, suppress_eod: bool = False,
                        progress: bool = False) -> MemorizationScores:
    """Exact greedy-extraction scores of `tokens` [N, context_len + continuation_len] under `model`."""
    tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    if tokens.ndim != 2 or tokens.shape[1] <= context_len:
        raise ValueError(f"tokens must be [N, context_len + continuation_len] with context_len={context_len}, "
                         f"got shape {tuple(tokens.shape)}")
    results = run_batched(
        lambda batch: _score_batch(model, batch, context_len, fractional, suppress_eod),
        tokens, batch_size or default_batch_size(model), progress=progress, desc="memorization",
    )
    prefix = np.concatenate([r[1] for r in results]) if results else np.empty(0, np.int16)
    cont = tokens.shape[1] - context_len
    score = np.concatenate([r[0] for r in results]) if fractional and results else (
        np.empty(0, np.float32) if fractional else None)
    return MemorizationScores(score=score, memorized=prefix == cont, prefix_len=prefix)


def _greedy(logits: torch.Tensor, suppress_eod: bool) -> torch.Tensor:
    if suppress_eod:
        logits = logits.clone()
        logits[..., EOD_ID] = -torch.inf
    return logits.argmax(-1)


def _score_batch(model, batch: torch.Tensor, context_len: int, fractional: bool, suppress_eod: bool):
    device = next(model.parameters()).device
    batch = batch.to(device)
    n, length = batch.shape
    cont = length - context_len
    truth = batch[:, context_len:]
    out = model.base_model(input_ids=batch[:, :-1], use_cache=fractional)
    hidden = out.last_hidden_state[:, context_len - 1:]
    preds = _greedy(model.get_output_embeddings()(hidden), suppress_eod)
    matches = preds == truth
    prefix = torch.where(matches.all(1), cont, (~matches).int().argmax(1))
    if not fractional:
        return None, prefix.to(torch.int16).cpu().numpy()
    score = matches.sum(1).float()  # correct for fully matched rows; others recomputed below
    todo = torch.nonzero(prefix < cont).squeeze(1)
    if len(todo):
        score[todo] = _decode_diverged(model, out.past_key_values, batch[todo], preds[todo], prefix[todo],
                                       todo, context_len, suppress_eod)
    return (score / cont).cpu().numpy().astype(np.float32), prefix.to(torch.int16).cpu().numpy()


def _decode_diverged(model, cache, rows, preds, prefix, index, context_len, suppress_eod) -> torch.Tensor:
    """Greedy decoding of diverged rows in lockstep from the earliest divergence, reusing the cache."""
    length = rows.shape[1]
    start = context_len + int(prefix.min())          # first position whose input may differ from the truth
    drop = cache.get_seq_length() - start
    if drop:
        cache.crop(-drop)                                # negative: remove that many trailing positions
    cache.batch_select_indices(index)
    first_wrong = context_len + prefix                 # per row: position of its first wrong token
    generated = rows.clone()
    pos = torch.arange(length, device=rows.device)
    generated[:, context_len:] = torch.where(pos[context_len:] < first_wrong[:, None], rows[:, context_len:], -1)
    generated[torch.arange(len(rows)), first_wrong] = preds[torch.arange(len(rows)), prefix]
    for t in range(start, length - 1):
        step = model(input_ids=generated[:, t:t + 1], past_key_values=cache, use_cache=True,
                     position_ids=torch.full((len(rows), 1), t, device=rows.device))
        cache = step.past_key_values
        nxt = _greedy(step.logits[:, -1], suppress_eod)
        free = first_wrong < t + 1                     # rows already decoding on their own tokens
        generated[:, t + 1] = torch.where(free, nxt, generated[:, t + 1])
    return (generated[:, context_len:] == rows[:, context_len:]).sum(1).float()


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


@torch.inference_mode()
def generate_scores_reference(model, tokens, context_len: int = 32, batch_size: int = 64,
                              min_length: bool = True) -> np.ndarray:
    """The authors' method, kept as the reference and speed anchor: greedy `generate` without a KV cache.

    `model.generate(prompt, max_length=L, min_length=L)`, `use_cache=False`. With `min_length=False`, plain
    greedy decoding without a cache that, unlike `generate`, goes on past an end-of-document token. Returns
    the fraction of continuation positions equal to the truth.
    """
    tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    length = tokens.shape[1]
    device = next(model.parameters()).device
    config = copy.deepcopy(model.generation_config)
    config.update(max_length=length, min_length=length, do_sample=False, use_cache=False,
                  pad_token_id=EOD_ID, eos_token_id=EOD_ID)
    scores = []
    for start in range(0, len(tokens), batch_size):
        batch = tokens[start:start + batch_size].to(device)
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


# -- next-token loss and divergence from n-gram distributions ------------------------------------

POSITION_CHUNK = 256


def _log_probs_in_chunks(model, batch: torch.Tensor, chunk: int):
    """Yield (start, log-probabilities [B, C, V] as float32) over position chunks, for inputs batch[:, :-1]."""
    hidden = model.base_model(input_ids=batch[:, :-1]).last_hidden_state
    head = model.get_output_embeddings()
    for start in range(0, hidden.shape[1], chunk):
        yield start, torch.log_softmax(head(hidden[:, start:start + chunk]).float(), dim=-1)


@torch.inference_mode()
def token_losses(model, tokens, batch_size: int | None = None, position_chunk: int = POSITION_CHUNK,
                 progress: bool = False) -> np.ndarray:
    """Next-token negative log-likelihood (nats) at every position: [N, L - 1], logits in bounded chunks."""
    tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    device = next(model.parameters()).device

    def batch_losses(batch):
        batch = batch.to(device)
        out = torch.empty(batch.shape[0], batch.shape[1] - 1)
        for start, logp in _log_probs_in_chunks(model, batch, position_chunk):
            target = batch[:, start + 1:start + 1 + logp.shape[1]]
            out[:, start:start + logp.shape[1]] = -logp.gather(-1, target[..., None])[..., 0].cpu()
        return out.numpy()

    return np.concatenate(run_batched(batch_losses, tokens, batch_size or default_batch_size(model),
                                      progress=progress, desc="loss"))


def _bigram_kl_js(logq: torch.Tensor, cond, prev: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-position KL(p‖q) and JS(p, q) with p = bigram row of the previous token, from p's support alone.

    KL = Σ_supp p (log p − log q). JS = ½ Σ_supp [p log(2p/(p+q)) + q log(2q/(p+q))] + ½ log 2 · (1 − Σ_supp q),
    since outside the support m = q/2. Sums run per row segment of the selected CSR rows.
    """
    rows = cond[prev]
    device = logq.device
    lengths = torch.from_numpy(np.diff(rows.indptr)).to(device)
    row = torch.repeat_interleave(torch.arange(len(prev), device=device), lengths)
    tok = torch.from_numpy(rows.indices.astype(np.int64)).to(device)
    p = torch.from_numpy(rows.data.astype(np.float32)).to(device)
    lq = logq[row, tok]
    logp = p.log()
    q = lq.exp()
    logm = ((p + q) / 2).log()

    def per_row(values: torch.Tensor) -> torch.Tensor:
        return torch.segment_reduce(values, "sum", lengths=lengths)

    kl = per_row(p * (logp - lq))
    js = 0.5 * per_row(p * (logp - logm) + q * (lq - logm)) + 0.5 * np.log(2) * (1 - per_row(q)).clamp_min(0)
    return kl, js


def _dense_kl_js(logq: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """KL(p‖q) and JS(p, q) with p dense [V] or [N, V] (0 · log 0 = 0)."""
    q = logq.exp()
    logp = torch.where(p > 0, p.log(), torch.zeros_like(p))
    kl = (p * (logp - logq)).sum(-1)
    m = (p + q) / 2
    logm = m.log()
    js = 0.5 * (p * (logp - logm)).sum(-1) + 0.5 * (q * (logq - logm)).sum(-1)
    return kl, js


@torch.inference_mode()
def ngram_divergences(model, tokens, cond, unigram_probs: np.ndarray, batch_size: int | None = None,
                      position_chunk: int = POSITION_CHUNK) -> dict[str, np.ndarray]:
    """Per-token KL(n-gram ‖ model) and JS on real text, [N, L - 1] each, for the bigram and unigram models.

    The bigram distribution is conditioned on the true previous token; a previous token without
    successors in the statistics gives NaN for the bigram values.
    """
    tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    device = next(model.parameters()).device
    uni = torch.from_numpy(np.asarray(unigram_probs, dtype=np.float32) / unigram_probs.sum()).to(device)
    empty = np.diff(cond.indptr) == 0

    def batch_divergences(batch):
        batch = batch.to(device)
        shape = (batch.shape[0], batch.shape[1] - 1)
        out = {k: np.empty(shape, np.float32) for k in ("kl_bigram", "js_bigram", "kl_unigram", "js_unigram")}
        for start, logp in _log_probs_in_chunks(model, batch, position_chunk):
            b, c, v = logp.shape
            flat = logp.reshape(b * c, v)
            prev = batch[:, start:start + c].reshape(-1).cpu().numpy()
            kl_b, js_b = _bigram_kl_js(flat, cond, prev)
            kl_u, js_u = _dense_kl_js(flat, uni[:v])
            nan = torch.from_numpy(empty[prev]).to(device)
            for name, value in (("kl_bigram", kl_b.masked_fill(nan, torch.nan)),
                                ("js_bigram", js_b.masked_fill(nan, torch.nan)),
                                ("kl_unigram", kl_u), ("js_unigram", js_u)):
                out[name][:, start:start + c] = value.reshape(b, c).cpu().numpy()
        return out

    parts = run_batched(batch_divergences, tokens, batch_size or default_batch_size(model), desc="divergence")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@torch.inference_mode()
def dense_bigram_kl_reference(logq: torch.Tensor, cond, prev: np.ndarray) -> torch.Tensor:
    """The authors' method, kept as the reference and speed anchor: a dense vocabulary row per position."""
    out = torch.empty(len(prev))
    for i, token in enumerate(prev):
        p = torch.from_numpy(cond[int(token)].toarray()[0].astype(np.float32))
        out[i] = _dense_kl_js(logq[i], p)[0]
    return out
