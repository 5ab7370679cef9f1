"""Cost of the exact duplicate counts behind the learned memorization predictor, projected to the Pile.

Builds a `tokengrams` suffix-array index (MemmapIndex, on disk) over a sample of Zipf-distributed uint16
tokens at the Pythia vocabulary, counts 64-token windows and their 32-token prefixes, and projects build
time and index size per billion tokens to the rows the EMP comparison uses (23,552,000 rows of 2049 tokens)
and to the whole Pile (300B tokens). The same counts by a plain Python dictionary of hashed windows (what
one would write by hand) are timed on the same sample for the ratio.

    python benchmarks/ngram_index.py [--tokens 20000000] [--queries 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

VOCAB = 50304
EMP_ROWS_TOKENS = 23_552_000 * 2049
PILE_TOKENS = 300e9


def zipf_tokens(n: int, seed: int = 0) -> np.ndarray:
    ranks = np.random.default_rng(seed).zipf(1.2, n)
    return (ranks % VOCAB).astype(np.uint16)


def main() -> None:
    from tokengrams import MemmapIndex

    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=20_000_000)
    ap.add_argument("--queries", type=int, default=20_000)
    args = ap.parse_args()
    tokens = zipf_tokens(args.tokens)
    starts = np.random.default_rng(1).integers(0, args.tokens - 64, args.queries)
    windows = np.stack([tokens[s : s + 64] for s in starts])
    with tempfile.TemporaryDirectory() as tmp:
        text, table = Path(tmp) / "tokens.bin", Path(tmp) / "tokens.idx"
        tokens.tofile(text)
        t0 = time.perf_counter()
        index = MemmapIndex.build(str(text), str(table), VOCAB, False)
        build = time.perf_counter() - t0
        size = table.stat().st_size + text.stat().st_size
        t0 = time.perf_counter()
        ours = [(index.count(w[:32]), index.count(w)) for w in windows.tolist()]
        query = time.perf_counter() - t0
    t0 = time.perf_counter()
    seen: dict[int, int] = {}
    for i in range(args.tokens - 63):  # every 64-token window hashed, then looked up
        key = hash(tokens[i : i + 64].tobytes())
        seen[key] = seen.get(key, 0) + 1
    hashed = time.perf_counter() - t0
    assert [seen.get(hash(w.tobytes()), 0) for w in windows] == [c for _, c in ours], "counts agree"
    per_billion = 1e9 / args.tokens
    print(
        f"sample: {args.tokens:,} tokens; tokengrams build {build:.1f} s, index + tokens {size / 1e6:.0f} MB, "
        f"{2 * args.queries / query:,.0f} counts/s"
    )
    print(
        f"per billion tokens: build {build * per_billion / 60:.1f} min on this machine, "
        f"{size * per_billion / 1e9:.1f} GB on disk"
    )
    for name, n in (("EMP rows (23.55M × 2049)", EMP_ROWS_TOKENS), ("whole Pile (300B)", PILE_TOKENS)):
        hours, terabytes = build * n / args.tokens / 3600, size * n / args.tokens / 1e12
        print(
            f"projected linearly for {name}: {hours:.1f} h to build (sorting grows as n log n: a lower bound), "
            f"{terabytes:.2f} TB"
        )
    print(
        f"hand-written hash count of every 64-token window: {hashed:.1f} s, tokengrams build + queries "
        f"{build + query:.1f} s (×{hashed / (build + query):.1f}), identical counts"
    )


if __name__ == "__main__":
    main()
