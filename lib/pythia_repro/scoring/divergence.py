"""Next-token loss, and KL/JS divergence between n-gram distributions and a model, over many sequences."""

from __future__ import annotations

import numpy as np
import torch

from .batching import default_batch_size, run_batched

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
