"""How many memorization flags change with the precision a model scores in: fp16 (the authors'), fp32, bf16.

On the micro suite (built first if missing): every size at its final checkpoint and the largest at its
evaluated checkpoints, all rows the checkpoint has seen, flags from the exact scorer with end-of-document
suppressed (the authors' setting). For each precision: rows memorized, rows whose flag differs from fp16,
and the wall time with its ratio to fp16's.

    .venv/bin/python benchmarks/precision.py [--variant tiny]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from pythia_repro.findings.memorization import default_eval_steps
from pythia_repro.scoring import memorization_scores
from pythia_repro.suites import get_suite, load_model, micro

DTYPES = ("float16", "float32", "bfloat16")  # the authors' first: the reference of every comparison


def flags(checkpoint, windows: np.ndarray, dtype: str, eod_id: int) -> tuple[np.ndarray, float]:
    """Memorized flags of every window under the checkpoint loaded in `dtype`, and the seconds they took."""
    model = load_model(checkpoint, "cpu", getattr(torch, dtype))
    started = time.perf_counter()
    result = memorization_scores(model, windows, fractional=False, suppress_eod=True, eod_id=eod_id)
    return result.memorized, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="default", help="micro suite variant (default: the micro profile's)")
    args = parser.parse_args()
    micro.build(args.variant)
    suite = get_suite("micro")
    largest = max(suite.models, key=lambda m: suite.spec(m).params)
    checkpoints = [suite.checkpoint(m, suite.final_step) for m in suite.models]
    checkpoints += [suite.checkpoint(largest, s) for s in default_eval_steps(suite) if s != suite.final_step]
    rows = suite.training_rows()
    print(f"micro suite ({args.variant}), torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print(f"{'checkpoint':24} {'rows':>6} " + " ".join(f"{d:>22}" for d in DTYPES))
    totals = {d: [0, 0, 0.0] for d in DTYPES}  # memorized, changed vs fp16, seconds
    for ckpt in checkpoints:
        windows = rows.windows(0, min(suite.rows_per_step * ckpt.step, rows.n_rows), 64)
        reference = None
        cells = []
        for dtype in DTYPES:
            memorized, seconds = flags(ckpt, windows, dtype, suite.eod_id)
            reference = memorized if reference is None else reference
            changed = int((memorized != reference).sum())
            totals[dtype][0] += int(memorized.sum())
            totals[dtype][1] += changed
            totals[dtype][2] += seconds
            cells.append(f"{int(memorized.sum()):>6} mem {changed:>4} chg {seconds:5.1f}s")
        print(f"{ckpt.model + '@' + ckpt.revision:24} {len(windows):>6} " + " ".join(f"{c:>22}" for c in cells))
    rows_total = sum(min(suite.rows_per_step * c.step, rows.n_rows) for c in checkpoints)
    print(f"\nall {len(checkpoints)} checkpoints, {rows_total} row flags:")
    for dtype, (memorized, changed, seconds) in totals.items():
        ratio = seconds / totals["float16"][2]
        print(
            f"  {dtype:9} memorized {memorized:6}, flags differing from fp16 {changed:4} "
            f"({changed / rows_total:.3%}), time {seconds:6.1f} s, ×{ratio:.2f} fp16's"
        )


if __name__ == "__main__":
    main()
