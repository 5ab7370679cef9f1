"""Term counting at Pile scale: tokens per second per core, and the projected wall time for the whole Pile.

One process counts rows of 2049 GPT-NeoX tokens (decode with the Pythia tokenizer, then count, as
`terms.count_rows` does for every block of a sweep): the window counter against the authors' loop
(`terms.count_terms_reference`: the lookahead regex tried at every position) on the same rows, and the three
counters the finding runs in one pass, whose rate gives the projection.
The rows are the replica's text (`pythia_repro.testing.replica.text_rows`): one word in five is a number, denser than
the Pile, so the projection errs long. Blocks are independent, so N cores (processes here, or Ray tasks on a
cluster) count N blocks at once: wall time = tokens / (rate per core × N).

    .venv/bin/python benchmarks/pile_counting.py [--rows 256]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pythia_repro.data.reference import fetch
from pythia_repro.data.tokens import write_mmap
from pythia_repro.evals import terms
from pythia_repro.testing.replica import ROW_LEN, text_rows

PILE_TOKENS = 143_000 * 1024 * 2048  # the tokens every Pythia model saw (299.9 billion)
CORES = (16, 128, 1024)
COUNTERS = ("window", "occurrence", "task")  # what the term-frequency finding counts in one pass


def _timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=256, help="rows of 2049 tokens to count")
    args = parser.parse_args()
    tokenizer = fetch("tokenizer/20B_tokenizer.json")
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "document"
        rows = text_rows(tokenizer, args.rows, seed=0)
        write_mmap(prefix, rows)
        job = (str(tokenizer), str(prefix), ROW_LEN, 0, args.rows)
        ours, t_ours = _timed(lambda: terms.count_rows(*job, ("window",)))
        _, t_all = _timed(lambda: terms.count_rows(*job, COUNTERS))
        base, t_base = _timed(lambda: terms.count_terms_reference(_decoded(tokenizer, rows)))
    tokens = rows.size
    same = ours.set_index("term")["count"].to_dict() == dict(base)
    rate = tokens / t_all
    print(f"{args.rows} rows, {tokens:,} tokens, one process (one core)")
    print(f"  window counter, ours:          {tokens / t_ours / 1e6:.3f} M tokens/s (decode included)")
    print(f"  window counter, authors' loop: {tokens / t_base / 1e6:.3f} M tokens/s (decode included)")
    print(f"  ratio ×{t_base / t_ours:.2f}; identical counts: {same}")
    print(f"  the finding's three counters ({', '.join(COUNTERS)}), ours: {rate / 1e6:.3f} M tokens/s per core")
    print(f"projected wall time for the Pile ({PILE_TOKENS / 1e9:.1f} B tokens):")
    for cores in CORES:
        print(f"  {cores:5} cores: {PILE_TOKENS / (rate * cores) / 3600:8.1f} h")


def _decoded(tokenizer_file: Path, rows) -> list[str]:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tokenizer_file)).decode_batch(
        rows.astype("uint32").tolist(), skip_special_tokens=False
    )


if __name__ == "__main__":
    main()
