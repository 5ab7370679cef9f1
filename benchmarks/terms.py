"""Term frequency: operand counting and few-shot answering against the straightforward methods, in one run.

1. Counting, end to end (decode the training rows with the suite's tokenizer, then count): `terms.block_counts`
   (windows found from anchored candidate starts, on every core) against the authors' loop (the lookahead regex
   tried at every position, one dict update at a time, one process: `terms.count_terms_reference`).
2. Few-shot answers at a micro checkpoint, at 0, 4 and 16 shots on the suite's task grid (second operands 1–10,
   one set of examples per operand): `scoring.fewshot_answers` (prompts sharing their examples run the common prefix
   once and reuse its KV cache; one teacher-forced pass, decoding only the rows it leaves undecided) against plain
   batched `generate` (left padding, greedy, stop at the newline token). At 16 shots also with the authors' draw
   (examples drawn per instance: no shared prefix), to show where the gain comes from.

Needs the built micro suite (`pythia-repro suite build micro`).

    python benchmarks/terms.py [--prompts 1000] [--model micro-l] [--batch-size 256] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from functools import partial

import numpy as np
import torch
from timing import timed

from pythia_repro.evals import arithmetic, terms
from pythia_repro.scoring import fewshot_answers, generate_answers_reference
from pythia_repro.suites import get_suite, load_model, load_tokenizer


def best_of(fn, repeats: int):
    """The output and the shortest of `repeats` timed runs (the first run also pays one-off allocator warm-up)."""
    runs = [timed(fn) for _ in range(repeats)]
    return runs[0][0], min(t for _, t in runs)


def bench_counting(suite) -> None:
    rows = suite.training_rows()
    steps = [suite.final_step]
    n_tokens = suite.final_step * suite.rows_per_step * suite.row_len
    previous = os.environ.get("PYTHIA_REPRO_HOME")
    with tempfile.TemporaryDirectory() as home:  # an empty count cache, so everything is counted now
        os.environ["PYTHIA_REPRO_HOME"] = home
        ours, t_ours = timed(lambda: terms.block_counts(suite, steps, ("window",), progress=False))
    if previous is None:
        del os.environ["PYTHIA_REPRO_HOME"]
    else:
        os.environ["PYTHIA_REPRO_HOME"] = previous
    tok = load_tokenizer(suite)

    def authors():
        texts = tok.batch_decode(rows.rows_seen(suite.final_step).tolist())
        return terms.count_terms_reference(texts)

    base, t_base = timed(authors)
    same = ours.groupby("term")["count"].sum().to_dict() == dict(base)
    print(
        f"term counting, {n_tokens:,} tokens ({os.cpu_count()} cores): "
        f"ours {n_tokens / t_ours / 1e6:.2f} M tokens/s, "
        f"authors' loop {n_tokens / t_base / 1e6:.2f} M tokens/s, ratio ×{t_base / t_ours:.1f}, "
        f"identical counts: {same}"
    )


def task_sample(suite, shots: int, n_prompts: int, examples: str | None = None):
    """`n_prompts` instances of the suite's task grid, whole operands at a time (seeded), so shared prefixes stay."""
    grid = {
        "second_operands": tuple(suite.default("term_frequency", "second_operands") or arithmetic.SECOND_OPERANDS),
        "examples": examples or suite.default("term_frequency", "examples") or arithmetic.EXAMPLES[0],
    }
    table = arithmetic.tasks(shots, **grid)
    groups = list(table.groupby(["operation", "x1"]).groups.values())
    picked = [groups[i] for i in np.random.default_rng(0).permutation(len(groups))]
    keep = np.concatenate(picked)[:n_prompts]
    return table.loc[np.sort(keep)], grid["examples"]


def bench_answers(suite, model_name: str, n_prompts: int, batch_size: int, repeats: int) -> None:
    model = load_model(suite.checkpoint(model_name), "cpu")
    tok = load_tokenizer(suite)
    for shots, examples in ((0, None), (4, None), (16, None), (16, "per_instance")):
        rows, drawn = task_sample(suite, shots, n_prompts, examples)
        prompts, targets = list(rows.prompt), list(rows.target)
        ours, t_ours = best_of(partial(fewshot_answers, model, tok, prompts, targets, batch_size=batch_size), repeats)
        ref, t_ref = best_of(partial(generate_answers_reference, model, tok, prompts, batch_size=batch_size), repeats)
        full = fewshot_answers(model, tok, prompts, targets, batch_size=batch_size, full_answers=True)
        agree = np.mean(ours.correct == (np.array(ref) == np.array(targets)))
        print(
            f"few-shot answers, {model_name} final, {shots}-shot, examples {drawn}, {len(prompts)} prompts, "
            f"batch {batch_size}: ours {len(prompts) / t_ours:.0f} prompts/s, batched generate "
            f"{len(prompts) / t_ref:.0f} prompts/s, ratio ×{t_ref / t_ours:.2f}; correctness agreement {agree:.1%}, "
            f"answers identical {np.mean(np.array(full.answer) == np.array(ref)):.1%}; decided by the first pass "
            f"{ours.fast.mean():.1%}; accuracy {ours.correct.mean():.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--model", default="micro-l")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="answer timings: best of this many runs per method")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    suite = get_suite("micro")
    bench_answers(suite, args.model, args.prompts, args.batch_size, args.repeats)
    bench_counting(suite)


if __name__ == "__main__":
    main()
