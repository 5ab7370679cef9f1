"""N-gram statistics: counting throughput and sparse KL against the straightforward methods, in one run.

1. Bigram counting of uint16 tokens: `pythia_repro.evals.ngrams.count_bigrams` (packed uint32 codes, sort, run
   lengths) against building a scipy COO matrix of all pairs and converting it to CSR.
2. Per-token KL(bigram ‖ model) at vocabulary 50304: `pythia_repro.scoring._bigram_kl_js` on the sparse rows
   (positions grouped by previous token) against the authors' method, a dense vocabulary row per position
   (`dense_bigram_kl_reference`); the time of KL and JS together is printed too.

    python benchmarks/ngrams.py [--tokens 32000000] [--positions 4096]

The KL is timed on one call of the size the scorer makes (positions = batch × 256-position chunk; 4096 is
batch 16, the CPU default is 64).
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sp
import torch
from timing import timed

from pythia_repro.evals import ngrams
from pythia_repro.scoring.divergence import _bigram_kl_js, dense_bigram_kl_reference

VOCAB = 50304


def zipf_tokens(n: int, seed: int = 0) -> np.ndarray:
    """A token stream with text-like (Zipf) frequencies and some bigram structure."""
    rng = np.random.default_rng(seed)
    p = 1 / np.arange(1, VOCAB + 1) ** 1.05
    tokens = rng.choice(VOCAB, size=n, p=p / p.sum()).astype(np.uint16)
    tokens[1::3] = (tokens[0::3][: len(tokens[1::3])].astype(np.int64) * 7 % VOCAB).astype(np.uint16)
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=32_000_000)
    parser.add_argument("--positions", type=int, default=4096)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, vocabulary {VOCAB}")

    tokens = zipf_tokens(args.tokens)
    ours, t_ours = timed(lambda: ngrams.count_bigrams(tokens, VOCAB))
    base, t_base = timed(
        lambda: sp.coo_matrix(
            (np.ones(len(tokens) - 1, np.int64), (tokens[:-1], tokens[1:])), shape=(VOCAB, VOCAB)
        ).tocsr()
    )
    same = (ours != base).nnz == 0
    print(
        f"bigram counting, {len(tokens):,} tokens: ours {len(tokens) / t_ours / 1e6:.1f} M tokens/s, "
        f"scipy COO→CSR {len(tokens) / t_base / 1e6:.1f} M tokens/s, ratio ×{t_base / t_ours:.1f}, "
        f"identical counts: {same}"
    )

    cond = ngrams.conditional(ours)
    rng = np.random.default_rng(1)
    prev = tokens[rng.integers(0, len(tokens) - 1, args.positions)].astype(np.int64)
    logq = torch.log_softmax(torch.randn(args.positions, VOCAB, generator=torch.Generator().manual_seed(0)), -1)
    (kl_sparse, _), t_sparse = timed(lambda: _bigram_kl_js(logq, cond, prev, js=False))
    kl_dense, t_dense = timed(lambda: dense_bigram_kl_reference(logq, cond, prev))
    _, t_both = timed(lambda: _bigram_kl_js(logq, cond, prev))
    err = float((kl_sparse - kl_dense).abs().max())
    n = args.positions
    print(
        f"bigram KL, {n} positions ({len(np.unique(prev))} distinct previous tokens, rows of "
        f"{np.diff(cond.indptr)[prev].mean():,.0f} entries on average): sparse {n / t_sparse:,.0f} positions/s, "
        f"dense per-row {n / t_dense:,.0f} positions/s, ratio ×{t_dense / t_sparse:.1f}, "
        f"max |difference| {err:.2e} nats (mean KL {float(kl_dense.mean()):.3f}); "
        f"sparse KL and JS together {n / t_both:,.0f} positions/s"
    )


if __name__ == "__main__":
    main()
