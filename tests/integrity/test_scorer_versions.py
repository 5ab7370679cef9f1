"""A cached output never changes under the same version: each scorer's output on fixed inputs is fingerprinted
per version in `scorer_fingerprints.json`. Change a scorer's output and this fails until `versions.py` is bumped
and the new version's fingerprint recorded
(`PYTHIA_REPRO_RECORD_FINGERPRINTS=1 pytest tests/integrity/test_scorer_versions.py`).

The model is a seeded, randomly initialised GPT-NeoX (no training, so no machine-dependent drift) whose output
layer only reaches digit tokens and the newline: greedy generation then gives varied answers to arithmetic
prompts, and rows built from its own continuations give every memorization score from 0 to 1.

Fingerprints hold under the portable numerics (`kernels`, the default), which every x86-64 CPU of one vendor with
AVX2 computes bit for bit, and are recorded per CPU vendor: on other kernels the WinoBias log-likelihoods of this
fixture move by up to 1.6e-4 (AVX-512 against AVX2), across the 3-decimal rounding of 3 of its rows, and an Intel
CPU's AVX2 path moves them across it too (docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from pythia_repro import settings
from pythia_repro.evals import arithmetic, ngrams, terms
from pythia_repro.evals.bias_evals import padded
from pythia_repro.integrity import kernels, numerics, versions
from pythia_repro.scoring import (
    continuation_scores,
    fewshot_answers,
    memorization_scores,
    ngram_divergences,
    token_losses,
)

FINGERPRINTS = Path(__file__).with_name("scorer_fingerprints.json")
RECORD = settings.enabled("record_fingerprints")


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of a table of outputs, floats to 3 decimals (far above float noise, far below any real change)."""
    return hashlib.sha256(frame.round(3).to_csv(index=False).encode()).hexdigest()


@pytest.fixture(scope="module")
def tokenizer(neox_tokenizer):
    return neox_tokenizer


@pytest.fixture(scope="module")
def model(digit_model):
    return digit_model


def rows_with_known_scores(model, n: int = 8) -> np.ndarray:
    """Rows of 32 random tokens then the model's own greedy continuation, the continuation kept for 4·(i + 1) tokens."""
    rng = np.random.default_rng(0)
    prefix = torch.from_numpy(rng.integers(1000, 50000, size=(n, 32)))
    with torch.no_grad():
        full = model.generate(
            prefix,
            attention_mask=torch.ones_like(prefix),
            max_new_tokens=32,
            min_new_tokens=32,
            do_sample=False,
            pad_token_id=0,
        )
    rows = full.numpy().copy()
    for i in range(n):
        rows[i, 36 + 4 * i :] = rng.integers(1000, 50000, size=28 - 4 * i)
    return rows


def outputs(model, tokenizer) -> dict[str | int, pd.DataFrame]:
    """Each versioned output on fixed inputs, by version."""
    rows = rows_with_known_scores(model)
    mem = pd.concat(
        [
            memorization_scores(model, rows, fractional=True).to_frame(),
            memorization_scores(model, rows, fractional=False).to_frame().add_prefix("flag_"),
        ],
        axis=1,
    )
    text = np.random.default_rng(1).integers(0, 2000, size=(6, 48))
    unigrams = ngrams.count_unigrams(text.reshape(-1), 50304, progress=False)
    cond = ngrams.conditional(ngrams.count_bigrams(text.reshape(-1), 50304, progress=False))
    div = ngram_divergences(model, text, cond, unigrams / unigrams.sum())
    losses = pd.DataFrame({"loss": token_losses(model, text).mean(1), **{k: np.nanmean(v, 1) for k, v in div.items()}})
    task = arithmetic.tasks(2, operands=(3, 7, 12, 40)).head(24)
    first = fewshot_answers(model, tokenizer, list(task.prompt), list(task.target), 16, full_answers=True)
    targets = [answer if i % 2 else target for i, (answer, target) in enumerate(zip(first.answer, task.target))]
    got = fewshot_answers(model, tokenizer, list(task.prompt), targets, 16, full_answers=True)  # half right
    answers = pd.DataFrame({"correct": got.correct, "fast": got.fast, "answer": got.answer})
    prompts = [tokenizer(prompt, add_special_tokens=False).input_ids for prompt in task.prompt]
    with torch.no_grad():  # half the targets are the model's own greedy continuation, half the true answers
        own = [model.generate(torch.tensor([p]), max_new_tokens=3, do_sample=False, pad_token_id=0) for p in prompts]
    ends = [
        o[0, len(p) :].tolist() if i % 2 else tokenizer(f" {t}", add_special_tokens=False).input_ids
        for i, (o, p, t) in enumerate(zip(own, prompts, task.target))
    ]
    tokens, lengths = padded([p + e for p, e in zip(prompts, ends)], 0)
    loglik, greedy = continuation_scores(model, tokens, lengths, np.array([len(p) for p in prompts]))
    continuations = pd.DataFrame({"loglik": loglik, "greedy": greedy})
    texts = [
        f"Q: What is {a} times {b}? A: {a * b}. {a} plus {b} is {a + b}; {a} {b}"
        for a, b in [(3, 4), (12, 12), (7, 99), (3, 3), (40, 2)]
    ]
    counts = pd.DataFrame(
        [
            {"counter": name, "term": str(term), "count": count}
            for name, counter in (
                ("window", terms.count_terms(texts)),
                ("occurrence", terms.count_occurrences(texts)),
                ("task", terms.count_task_operands(texts)),
            )
            for term, count in sorted(counter.items(), key=str)
        ]
    )
    return {
        versions.MEMORIZATION: mem,
        versions.LOSSES: losses,
        versions.FEWSHOT_ANSWERS: answers,
        versions.GENDER_EVALS: continuations,
        f"term-counter-v{versions.TERM_COUNTER}": counts,
    }


def test_the_fixed_inputs_exercise_each_scorer(model, tokenizer):
    """Fingerprints only guard what the inputs reach: every score level, right and wrong answers, digit answers."""
    out = outputs(model, tokenizer)
    assert out[versions.MEMORIZATION].score.nunique() >= 6 and out[versions.MEMORIZATION].flag_memorized.any()
    answers = out[versions.FEWSHOT_ANSWERS]
    assert answers.answer.str.fullmatch(r"\d+").mean() > 0.5 and answers.answer.nunique() > 3
    assert 0 < answers.correct.mean() < 1
    assert 0 < out[versions.GENDER_EVALS].greedy.mean() < 1 and out[versions.GENDER_EVALS].loglik.nunique() > 12
    assert out[versions.LOSSES].notna().all().all() and len(out[f"term-counter-v{versions.TERM_COUNTER}"]) > 10


def test_no_output_changes_under_an_unchanged_version(model, tokenizer):
    if not kernels.portable():
        pytest.skip("fingerprints are recorded under the portable numerics, which this CPU cannot run")
    recorded = json.loads(FINGERPRINTS.read_text()) if FINGERPRINTS.is_file() else {}
    vendor = numerics.vendor(numerics.cpu_model())
    now = {f"{version}, {vendor}": fingerprint(frame) for version, frame in outputs(model, tokenizer).items()}
    if RECORD:  # adds, never overwrites; what it adds is then checked as recorded
        recorded = {**now, **recorded}
        FINGERPRINTS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    unknown = sorted(set(now) - set(recorded))
    assert not unknown, f"no fingerprint for {unknown}: record it (see this module's docstring)"
    changed = sorted(v for v in now if now[v] != recorded[v])
    assert not changed, f"the output of {changed} changed: bump its version in lib/pythia_repro/versions.py"


def test_a_changed_output_is_caught(model, tokenizer):
    out = outputs(model, tokenizer)[versions.MEMORIZATION]
    changed = out.assign(score=out.score.where(out.index != 3, out.score + 1 / 32))
    assert fingerprint(changed) != fingerprint(out)
