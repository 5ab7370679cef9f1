"""Gender-bias evaluation scoring: this package's continuation scorer against the authors' method, in one run.

The authors' method (lm-evaluation-harness of early 2023, promptsource for WinoBias): every WinoBias prompt
decoded greedily by `generate`, one prompt at a time, and compared with its referent; CrowS-Pairs and LAMBADA
as `loglikelihood` requests, one forward per request. Ours: `scoring.continuation_scores`, one batched forward
over all of them, greedy exact match decided by teacher forcing. The floor: the same batched forward with no
scoring (`model(...)` alone). Both must agree on every WinoBias answer; half the WinoBias targets are replaced by
the model's own greedy answer, so that right and wrong answers both occur.

The sets are the replica's (`replica.write_bias_evals`, real tokenizer, English sentences of the sets' shapes)
and the model a randomly initialised GPT-NeoX of a Pythia size's shape (timing does not depend on the weights).

    python benchmarks/gender_evals.py                          # CPU: pythia-70m's shape
    python benchmarks/gender_evals.py --size 1.4b --items 96   # on a GPU
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from timing import timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="70m", help="a Pythia size whose shape the random model takes")
    parser.add_argument("--items", type=int, default=24, help="items per set and WinoBias subset")
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()

    from transformers import PreTrainedTokenizerFast

    from pythia_repro import settings
    from pythia_repro.data.reference import fetch
    from pythia_repro.evals import bias_evals
    from pythia_repro.scoring import continuation_scores
    from pythia_repro.suites.pythia import ARCHITECTURE
    from pythia_repro.testing.replica import random_neox, write_bias_evals

    hub = Path(tempfile.mkdtemp(prefix="bias-evals-")) / "hub"
    write_bias_evals(hub, n=args.items)
    os.environ[settings.variable("hub_cache")], os.environ[settings.variable("hub_offline")] = str(hub), "1"
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(fetch("tokenizer/20B_tokenizer.json")))
    sequences, starts, items = bias_evals.shortest_first(*bias_evals.tests(tokenizer, 0)[:3])

    layers, hidden, heads, vocab = ARCHITECTURE[args.size]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    model = random_neox(0, vocab, hidden, layers, heads, positions=2048).to(device, dtype)
    with torch.inference_mode():  # half the WinoBias targets become the model's own greedy answer: both kinds occur
        for i in np.flatnonzero((items.kind == "winobias").to_numpy())[::2]:
            prompt = torch.tensor([sequences[i][: starts[i]]], device=device)
            out = model.generate(prompt, max_new_tokens=len(sequences[i]) - starts[i], do_sample=False, pad_token_id=0)
            sequences[i] = out[0].tolist()
    tokens, lengths = bias_evals.padded(sequences, 0)
    continuation_scores(model, tokens[:4], lengths[:4], starts[:4], args.batch)  # warm-up

    (_, greedy), t_ours = timed(lambda: continuation_scores(model, tokens, lengths, starts, args.batch))

    def floor():
        with torch.inference_mode():
            for a in range(0, len(tokens), args.batch):
                width = int(lengths[a : a + args.batch].max())
                model(torch.from_numpy(tokens[a : a + args.batch, :width]).to(device))

    _, t_floor = timed(floor)

    def authors():
        right = []
        with torch.inference_mode():
            for seq, start, kind in zip(sequences, starts, items.kind):
                prompt = torch.tensor([seq[:start]], device=device)
                if kind == "winobias":
                    out = model.generate(
                        prompt,
                        attention_mask=torch.ones_like(prompt),
                        max_new_tokens=len(seq) - start,
                        do_sample=False,
                        pad_token_id=0,
                    )
                    right.append(out[0, start:].tolist() == seq[start:])
                else:
                    model(torch.tensor([seq], device=device))
        return right

    right, t_authors = timed(authors)
    wino = (items.kind == "winobias").to_numpy()
    agree = bool((greedy[wino] == np.array(right)).all()) and 0 < np.mean(right) < 1
    n = len(sequences)
    print(f"pythia-{args.size} shape, {device.type}, {n} sequences ({wino.sum()} WinoBias prompts)")
    for label, seconds in (
        ("authors' method (generate per prompt, a forward per request)", t_authors),
        (f"ours (continuation_scores, batch {args.batch})", t_ours),
        ("floor (the same batched forward, no scoring)", t_floor),
    ):
        print(f"  {label:62} {seconds:8.2f} s  {n / seconds:8.1f} seq/s")
    ratios = f"authors/ours ×{t_authors / t_ours:.1f}; ours/floor ×{t_ours / t_floor:.2f}"
    print(f"  {ratios}; WinoBias answers agree: {agree}")


if __name__ == "__main__":
    main()
