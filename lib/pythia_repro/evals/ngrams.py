"""N-gram statistics of training data: counts, conditional distributions, and samplers.

Counts stream over the token file in chunks (bounded memory at a 50k vocabulary).
Bigrams are counted by packing (previous, next) into one uint32 code, sorting, and
counting runs, which is several times faster than building a scipy COO matrix; the
result is a CSR matrix with rows = previous token. Each row is normalized by its own
sum (the authors' code normalized by column in some versions; that is a bug).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..integrity import atomic

CHUNK_TOKENS = 1 << 24


def _chunks(tokens: np.ndarray, size: int, overlap: int = 0):
    for start in range(0, max(len(tokens) - overlap, 0), size):
        yield tokens[start : start + size + overlap]


def count_unigrams(
    tokens: np.ndarray, vocab_size: int, chunk: int = CHUNK_TOKENS, progress: bool = False
) -> np.ndarray:
    """Occurrences of every token id in a 1-D token array (e.g. `MMapIndexedDataset(...).tokens`)."""
    from tqdm.auto import tqdm

    counts = np.zeros(vocab_size, dtype=np.int64)
    for part in tqdm(_chunks(tokens, chunk), total=-(-len(tokens) // chunk), desc="unigrams", disable=not progress):
        counts += np.bincount(part, minlength=vocab_size)[:vocab_size]
    return counts


def _run_counts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of `codes` and how often each occurs (sorts `codes` in place)."""
    codes.sort()
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    return codes[starts], np.diff(np.append(starts, len(codes)))


def count_bigrams(
    tokens: np.ndarray, vocab_size: int, chunk: int = CHUNK_TOKENS, progress: bool = False
) -> sp.csr_matrix:
    """Counts of consecutive pairs as a CSR matrix [previous, next] (int64)."""
    from tqdm.auto import tqdm

    if vocab_size > 1 << 16:
        raise ValueError(f"vocabulary of {vocab_size} does not fit the packed uint32 pair codes (max 65536)")
    total = sp.csr_matrix((vocab_size, vocab_size), dtype=np.int64)
    v = np.uint32(vocab_size)
    for part in tqdm(
        _chunks(tokens, chunk, overlap=1), total=-(-len(tokens) // chunk), desc="bigrams", disable=not progress
    ):
        codes = part[:-1].astype(np.uint32) * v + part[1:]
        keys, counts = _run_counts(codes)
        total = total + sp.csr_matrix((counts, (keys // v, keys % v)), shape=(vocab_size, vocab_size))
    return total


def conditional(bigrams: sp.csr_matrix) -> sp.csr_matrix:
    """Row-normalized bigram probabilities P[prev, next] = count / count(prev, ·); empty rows stay empty."""
    sums = np.asarray(bigrams.sum(axis=1)).ravel().astype(np.float64)
    inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(sp.diags(inv) @ bigrams.astype(np.float64))


def save_counts(path: str | Path, unigrams: np.ndarray, bigrams: sp.csr_matrix) -> None:
    """Save counts as plain arrays in one .npz (read back without unpickling), atomically."""
    atomic.write_with(
        Path(path),
        lambda f: np.savez(
            f,
            unigrams=unigrams,
            data=bigrams.data,
            indices=bigrams.indices,
            indptr=bigrams.indptr,
            shape=np.asarray(bigrams.shape),
        ),
    )


def load_counts(path: str | Path) -> tuple[np.ndarray, sp.csr_matrix]:
    with np.load(path, allow_pickle=False) as f:
        bigrams = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
        return f["unigrams"], bigrams


def sample_unigram(probs: np.ndarray, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """`n` sequences of i.i.d. tokens from the unigram distribution."""
    return rng.choice(len(probs), size=(n, length), p=probs / probs.sum())


def sample_bigram(cond: sp.csr_matrix, probs: np.ndarray, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """`n` sequences: the first token from the unigram, each next one from the bigram row of the previous.

    Vectorized over sequences: every row's cumulative probabilities are offset by the row
    index, so one `searchsorted` over all rows finds each sequence's next token.
    A previous token that never had a successor (empty row) restarts from the unigram.
    """
    lengths = np.diff(cond.indptr)
    within = np.cumsum(cond.data) - np.repeat(np.concatenate([[0.0], np.cumsum(cond.data)])[cond.indptr[:-1]], lengths)
    keys = np.repeat(np.arange(cond.shape[0], dtype=np.float64), lengths) + within
    out = np.empty((n, length), dtype=np.int64)
    out[:, 0] = sample_unigram(probs, n, 1, rng)[:, 0]
    for t in range(1, length):
        prev = out[:, t - 1]
        u = rng.random(n)
        idx = np.searchsorted(keys, prev + u, side="right")
        idx = np.minimum(idx, cond.indptr[prev + 1] - 1)
        out[:, t] = cond.indices[np.maximum(idx, 0)]
        empty = lengths[prev] == 0
        if empty.any():
            out[empty, t] = sample_unigram(probs, int(empty.sum()), 1, rng)[:, 0]
    return out
