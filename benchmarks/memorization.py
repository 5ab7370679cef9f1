"""Memorization scoring: this package's scorer against the authors' method, on the same rows, in one run.

The authors' method: `model.generate(prompt, max_length=64, min_length=64)`, greedy, no KV cache.
Ours: `pythia_repro.scoring.memorization_scores` (with fractional scores, and flags only).
Both run with `suppress_eod=True` semantics so that their outputs must agree exactly.

    python benchmarks/memorization.py                       # CPU: pythia-70m and -160m configs, a micro checkpoint
    python benchmarks/memorization.py --configs pythia-1b pythia-6.9b --rows 1024 --batch 1024   # on a GPU
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import timed
from transformers import GPTNeoXForCausalLM

from pythia_repro.scoring import generate_scores_reference, memorization_scores
from pythia_repro.suites import get_suite
from pythia_repro.suites.loading import default_device, default_dtype


def planted_rows(model, n: int, share: float, seed: int = 0) -> np.ndarray:
    """Random prompts; a `share` of rows continue with the model's own greedy output (memorized by construction)."""
    gen = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    rows = torch.randint(1, model.config.vocab_size, (n, 64), generator=gen)
    own = int(n * share)
    if own:
        with torch.inference_mode():
            cur = rows[:own, :32].to(device)
            for _ in range(32):
                logits = model(input_ids=cur).logits[:, -1]
                logits[:, 0] = -torch.inf
                cur = torch.cat([cur, logits.argmax(-1, keepdim=True)], 1)
        rows[:own] = cur.cpu()
    return rows.numpy()


def pass_flops(config, rows: int, length: int = 64, context_len: int = 32) -> float:
    """FLOPs of one teacher-forced pass: 2·(non-embedding params)·tokens, attention, and the head at 32 positions."""
    h, layers, vocab, tokens = config.hidden_size, config.num_hidden_layers, config.vocab_size, length - 1
    dense = layers * (12 * h * h + 13 * h)
    attention = layers * 2 * 2 * tokens * tokens * h
    head = 2 * h * vocab * (length - context_len)
    return rows * (2 * dense * tokens + attention + head)


def compare(name: str, model, rows: np.ndarray, batch: int) -> dict:
    """Score `rows` three ways and print rows/s, ratios against the authors' method, and agreement."""
    n = len(rows)
    memorization_scores(model, rows[: min(4, n)], batch_size=batch)  # warm-up
    ref, t_ref = timed(lambda: generate_scores_reference(model, rows, batch_size=batch, min_length=True))
    ours, t_ours = timed(lambda: memorization_scores(model, rows, batch_size=batch, suppress_eod=True))
    flags, t_flags = timed(
        lambda: memorization_scores(model, rows, batch_size=batch, fractional=False, suppress_eod=True)
    )
    result = {
        "model": name,
        "rows": n,
        "batch": batch,
        "dtype": str(next(model.parameters()).dtype),
        "memorized_share": float((ref == 1).mean()),
        "authors_rows_per_s": n / t_ref,
        "ours_rows_per_s": n / t_ours,
        "flags_rows_per_s": n / t_flags,
        "ratio_fractional": t_ref / t_ours,
        "ratio_flags": t_ref / t_flags,
        "agreement_scores": float((ours.score == ref).mean()),
        "agreement_flags": float((flags.memorized == (ref == 1)).mean()),
        "flags_tflops": pass_flops(model.config, n) / t_flags / 1e12,
    }
    print(
        f"{name:14} rows={n:5d} batch={batch:4d} {result['dtype']:14} memorized={result['memorized_share']:.0%}  "
        f"authors {result['authors_rows_per_s']:8.1f} rows/s | ours {result['ours_rows_per_s']:8.1f} rows/s "
        f"(×{result['ratio_fractional']:.1f}) | flags only {result['flags_rows_per_s']:8.1f} rows/s "
        f"(×{result['ratio_flags']:.1f}, {result['flags_tflops']:.3f} TFLOP/s) | "
        f"agreement scores {result['agreement_scores']:.2%}, "
        f"flags {result['agreement_flags']:.2%}",
        flush=True,
    )
    return result


def random_pythia(name: str, device: torch.device, dtype: torch.dtype | None):
    spec = get_suite("pythia").spec(name)
    torch.manual_seed(0)
    with torch.device(device):
        model = GPTNeoXForCausalLM(spec.config())
    return model.to(dtype or default_dtype(spec, device)).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="*", default=["pythia-70m", "pythia-160m"])
    parser.add_argument("--rows", type=int, nargs="*", default=[64, 32], help="rows per config (last repeats)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--share", type=float, default=0.1, help="share of rows memorized by construction")
    parser.add_argument("--micro", action="store_true", help="also a micro-suite checkpoint (builds it if missing)")
    args = parser.parse_args()
    device = default_device()
    torch.set_num_threads(torch.get_num_threads())
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    for i, name in enumerate(args.configs):
        rows_n = args.rows[min(i, len(args.rows) - 1)]
        model = random_pythia(name, device, None)
        compare(f"{name} (random)", model, planted_rows(model, rows_n, args.share), args.batch)
        del model
    if args.micro:
        from pythia_repro.suites import load_model, micro

        micro.build()
        suite = get_suite("micro")
        model = load_model(suite.checkpoint("micro-l"), device)
        rows = suite.training_rows().windows(0, 1024, 64)
        compare("micro-l (trained)", model, rows, args.batch)


if __name__ == "__main__":
    main()
