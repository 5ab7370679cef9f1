"""Next-token loss, and KL/JS divergence between n-gram distributions and a model, over many sequences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .batching import default_batch_size, run_batched

POSITION_CHUNK = 256


def _log_probs_in_chunks(model, batch: torch.Tensor, chunk: int):
    """Yield (start, log-probabilities [B, C, V] as float32) over position chunks, for inputs batch[:, :-1]."""
    hidden = model.base_model(input_ids=batch[:, :-1]).last_hidden_state
    head = model.get_output_embeddings()
    for start in range(0, hidden.shape[1], chunk):
        yield start, torch.log_softmax(head(hidden[:, start : start + chunk]).float(), dim=-1)


@torch.inference_mode()
def token_losses(
    model, tokens, batch_size: int | None = None, position_chunk: int = POSITION_CHUNK, progress: bool = False
) -> np.ndarray:
    """Next-token negative log-likelihood (nats) at every position: [N, L - 1], logits in bounded chunks."""
    tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    device = next(model.parameters()).device

    def batch_losses(batch):
        batch = batch.to(device)
        out = torch.empty(batch.shape[0], batch.shape[1] - 1)
        for start, logp in _log_probs_in_chunks(model, batch, position_chunk):
            target = batch[:, start + 1 : start + 1 + logp.shape[1]]
            out[:, start : start + logp.shape[1]] = -logp.gather(-1, target[..., None])[..., 0].cpu()
        return out.numpy()

    return np.concatenate(
        run_batched(
            batch_losses,
            tokens,
            # a chunk's logits and log-probabilities are alive at once
            batch_size or default_batch_size(model, 2 * min(tokens.shape[1], position_chunk)),
            progress=progress,
            desc="loss",
        )
    )


def _bigram_kl_js(logq: torch.Tensor, cond, prev: np.ndarray, js: bool = True, grouped: bool | None = None):
    """Per-position KL(p‖q) and JS(p, q) (None unless `js`), p = the bigram row of the previous token.

    Sums run over p's support only. KL = Σ p log p − Σ p log q, the first term once per distinct row.
    JS = ½ Σ_supp [p log(2p/(p+q)) + q log(2q/(p+q))] + ½ log 2 · (1 − Σ_supp q), since off the support
    m = q/2. `grouped` (default on a CPU) handles the rows that several positions share once per row;
    otherwise (default on a GPU, where one large kernel beats a loop) every position's support is
    gathered at once.
    """
    uniq, inverse = np.unique(prev, return_inverse=True)
    rows = cond[uniq]
    device = logq.device
    lengths = torch.from_numpy(np.diff(rows.indptr)).to(device)
    cols = torch.from_numpy(rows.indices.astype(np.int64)).to(device)
    p = torch.from_numpy(rows.data.astype(np.float32)).to(device)
    logp = p.log()
    negentropy = torch.segment_reduce(p * logp, "sum", lengths=lengths)
    support = _Support(torch.from_numpy(rows.indptr.astype(np.int64)).to(device), cols, p, logp)
    inverse = torch.from_numpy(inverse).to(device)
    if device.type == "cpu" if grouped is None else grouped:
        cross, js_terms = _grouped_terms(logq, inverse, support, js)
    else:
        cross, js_terms = _flat_terms(logq, torch.arange(len(prev), device=device), inverse, support, js)
    return negentropy[inverse] - cross, js_terms


@dataclass
class _Support:
    """The selected bigram rows in CSR form: row k is p[indptr[k]:indptr[k+1]] at columns cols[...]."""

    indptr: torch.Tensor
    cols: torch.Tensor
    p: torch.Tensor
    logp: torch.Tensor


def _js_terms(lq: torch.Tensor, p: torch.Tensor, logp: torch.Tensor, per_position) -> torch.Tensor:
    """JS(p, q) from log q gathered on p's support; `per_position` sums entries into positions."""
    q = lq.exp()
    logm = ((p + q) / 2).log()
    inside = per_position(p * (logp - logm) + q * (lq - logm))
    return 0.5 * inside + 0.5 * np.log(2) * (1 - per_position(q)).clamp_min(0)


def _flat_terms(logq, positions, row, support: _Support, js):
    """Σ_supp p log q (and JS) for logq[positions], whose rows are `row`, from one flat gather."""
    starts, lengths = support.indptr[row], support.indptr[row + 1] - support.indptr[row]
    offsets = torch.cumsum(lengths, 0) - lengths
    entry = torch.repeat_interleave(starts - offsets, lengths) + torch.arange(int(lengths.sum()), device=logq.device)
    lq = logq[torch.repeat_interleave(positions, lengths), support.cols[entry]]
    p = support.p[entry]

    def per_position(values):
        return torch.segment_reduce(values, "sum", lengths=lengths)

    return per_position(p * lq), _js_terms(lq, p, support.logp[entry], per_position) if js else None


def _grouped_terms(logq, inverse, support: _Support, js):
    """Σ_supp p log q (and JS) per position: rows used once by a flat gather, shared rows once per row.

    For KL alone a shared row is densified once and dotted with each of its positions' log q (whole
    rows read in order beat scattered reads at text-like densities); for JS its support is gathered
    as one [positions, support] block.
    """
    cross = torch.empty(len(inverse), device=logq.device)
    out_js = torch.empty(len(inverse), device=logq.device) if js else None
    counts = torch.bincount(inverse)
    alone = (counts[inverse] == 1).nonzero()[:, 0]
    if len(alone):
        cross[alone], js_alone = _flat_terms(logq, alone, inverse[alone], support, js)
        if js:
            out_js[alone] = js_alone
    order = torch.argsort(inverse, stable=True)
    bounds = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)]).tolist()
    dense = torch.zeros(logq.shape[-1], device=logq.device)
    for k in (counts > 1).nonzero()[:, 0].tolist():
        pos = order[bounds[k] : bounds[k + 1]]
        a, b = support.indptr[k].item(), support.indptr[k + 1].item()
        cols, p = support.cols[a:b], support.p[a:b]
        if js:
            block = logq[pos[:, None], cols[None, :]]
            cross[pos] = block @ p
            out_js[pos] = _js_terms(block, p, support.logp[a:b], lambda values: values.sum(-1))
        else:
            dense.zero_().index_copy_(0, cols, p)
            for i in pos.tolist():
                cross[i] = logq[i] @ dense
    return cross, out_js


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
def ngram_divergences(
    model, tokens, cond, unigram_probs: np.ndarray, batch_size: int | None = None, position_chunk: int = POSITION_CHUNK
) -> dict[str, np.ndarray]:
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
            prev = batch[:, start : start + c].reshape(-1).cpu().numpy()
            kl_b, js_b = _bigram_kl_js(flat, cond, prev)
            kl_u, js_u = _dense_kl_js(flat, uni[:v])
            nan = torch.from_numpy(empty[prev]).to(device)
            for name, value in (
                ("kl_bigram", kl_b.masked_fill(nan, torch.nan)),
                ("js_bigram", js_b.masked_fill(nan, torch.nan)),
                ("kl_unigram", kl_u),
                ("js_unigram", js_u),
            ):
                out[name][:, start : start + c] = value.reshape(b, c).cpu().numpy()
        return out

    # a chunk holds about six vocabulary-wide tensors per position (logits, log q, p, mixtures, terms)
    size = batch_size or default_batch_size(model, 6 * min(tokens.shape[1], position_chunk))
    parts = run_batched(batch_divergences, tokens, size, desc="divergence")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@torch.inference_mode()
def dense_bigram_kl_reference(logq: torch.Tensor, cond, prev: np.ndarray) -> torch.Tensor:
    """The authors' method, kept as the reference and speed anchor: a dense vocabulary row per position."""
    out = torch.empty(len(prev))
    for i, token in enumerate(prev):
        p = torch.from_numpy(cond[int(token)].toarray()[0].astype(np.float32))
        logp = torch.where(p > 0, p.log(), torch.zeros_like(p))
        out[i] = (p * (logp - logq[i])).sum()
    return out
