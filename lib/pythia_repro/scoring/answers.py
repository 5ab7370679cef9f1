"""Few-shot answers by greedy generation: exactly what `generate` gives, with a teacher-forced fast path.

The authors' evaluation (lm-eval `greedy_until` with stop string "\\n"): greedy decoding of at
most `max_new_tokens` tokens after the prompt, the output cut at its first newline; the answer
is the first run of 1–5 digits in it ("" when there is none). The newline was passed as the stop
token, so the end-of-document token does not stop generation.

Fast path: one pass over prompt + expected answer + "\\n". Greedy decoding follows the fed tokens
up to the first position where the argmax differs from them, so that pass yields the first
generated tokens exactly, through the first mismatch. A row is decided when those tokens already
fix its answer (a newline, a finished digit run, or the token limit); only the other rows are
decoded further, from their own tokens, reusing the pass's KV cache. Prompts are left-padded with
matching attention masks and position ids, so a batched answer equals the unbatched one. Assumes a
byte-level BPE tokenizer (Pythia's and the micro suite's), whose decoded text only grows as tokens
are appended.

Shared prefixes: prompts whose token ids begin with the same `MIN_SHARED` or more tokens (few-shot
prompts drawn with one set of examples per operand) are answered together: their common prefix runs
once, its KV cache is repeated for every prompt, and only the rest of each prompt is fed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from .batching import cache_of, default_batch_size, run_batched, with_cache

ANSWER = re.compile(r"\d{1,5}")
MIN_SHARED = 32  # shortest common prefix (tokens) worth computing once for several prompts
_DIGITS = re.compile(r"\d+")


@dataclass
class Answers:
    """Per prompt: whether the answer equals the target, whether the teacher-forced pass alone decided it, and
    (with `full_answers=True`) the answer itself."""

    correct: np.ndarray
    fast: np.ndarray
    answer: list[str] | None = None


def extract_answer(generated: str) -> str:
    """The first run of 1–5 digits before the first newline, or ""."""
    match = ANSWER.search(generated.split("\n", 1)[0])
    return match.group(0) if match else ""


def _decided(text: str, n_tokens: int, limit: int, target: str | None = None) -> bool:
    """Whether appending tokens can no longer change the answer of `text` (or, given `target`, whether it is right)."""
    if n_tokens >= limit or "\n" in text:
        return True
    stable = text.rstrip("\ufffd")  # an incomplete UTF-8 sequence may still become a (digit) character
    run = _DIGITS.search(stable)
    if run is None:
        return False
    if run.end() < len(stable) or run.end() - run.start() >= 5:
        return True
    return target is not None and not target.startswith(run.group(0))  # the answer will start with this run


@torch.inference_mode()
def fewshot_answers(
    model,
    tokenizer,
    prompts: list[str],
    targets: list[str],
    max_new_tokens: int = 16,
    batch_size: int | None = None,
    full_answers: bool = False,
    progress: bool = False,
) -> Answers:
    """Whether greedy generation answers each prompt with its target, exactly as `generate` would.

    Decoding of a row stops as soon as its correctness is fixed (e.g. its first digits already differ from
    the target); `full_answers=True` decodes on until the answer itself is fixed and returns it.
    """
    if len(prompts) != len(targets):
        raise ValueError(f"{len(prompts)} prompts but {len(targets)} targets")
    prompt_ids = tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
    guess_ids = [
        ids[:max_new_tokens] for ids in tokenizer([f"{t}\n" for t in targets], add_special_tokens=False)["input_ids"]
    ]
    from tqdm.auto import tqdm

    size = batch_size or default_batch_size(model, max(map(len, prompt_ids), default=1) + max_new_tokens)
    groups, singles = shared_prefix_groups(prompt_ids, size)
    order = torch.tensor(singles + [i for idx, _ in groups for i in idx], dtype=torch.long)  # as answered

    def answer(idx: list[int], shared: int = 0):
        targets_of = None if full_answers else [str(targets[i]) for i in idx]
        prompts_of, guesses_of = [prompt_ids[i] for i in idx], [guess_ids[i] for i in idx]
        return _answer_batch(model, tokenizer, prompts_of, guesses_of, targets_of, max_new_tokens, shared)

    singles = torch.tensor(singles, dtype=torch.long)
    parts = run_batched(lambda idx: answer(idx.tolist()), singles, size, progress=progress, desc="few-shot answers")
    with tqdm(groups, desc="few-shot answers on shared prefixes", unit="group", disable=not progress) as bar:
        for idx, shared in bar:  # a group too large for the GPU is split in halves, each still on the prefix
            parts += run_batched(lambda sub, shared=shared: answer(sub.tolist(), shared), torch.tensor(idx), size)
    answers, fast = [""] * len(prompts), np.zeros(len(prompts), dtype=bool)
    done = [(a, f) for part in parts for a, f in zip(*part)]
    for i, (a, f) in zip(order.tolist(), done):
        answers[i], fast[i] = a, f
    correct = np.array([a == str(t) for a, t in zip(answers, targets)], dtype=bool)
    return Answers(correct, fast, answers if full_answers else None)


def _common(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    diff = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(diff[0]) if len(diff) else n


def shared_prefix_groups(prompt_ids: list[list[int]], max_group: int) -> tuple[list[tuple[list[int], int]], list[int]]:
    """Prompts that share at least `MIN_SHARED` leading tokens, in groups of at most `max_group` with the length of
    their common prefix (always leaving each prompt at least one token of its own), and the other prompts."""
    order = sorted(range(len(prompt_ids)), key=lambda i: prompt_ids[i])
    groups, singles, start = [], [], 0
    while start < len(order):
        end = start + 1
        while (
            end < len(order)
            and end - start < max_group
            and _common(prompt_ids[order[start]], prompt_ids[order[end]]) >= MIN_SHARED
        ):
            end += 1
        members = order[start:end]
        shared = min(
            _common(prompt_ids[members[0]], prompt_ids[members[-1]]), *(len(prompt_ids[i]) - 1 for i in members)
        )
        if len(members) > 1 and shared >= MIN_SHARED:
            groups.append((members, shared))
        else:
            singles += members
        start = end
    return groups, sorted(singles)


def _answer_batch(
    model,
    tokenizer,
    prompts: list[list[int]],
    guesses: list[list[int]],
    targets: list[str] | None,
    limit: int,
    shared: int = 0,
):
    """Answers of one batch: the teacher-forced pass, then decoding of the rows it leaves undecided.

    With `shared` > 0 every prompt begins with the same `shared` tokens: they run once and their KV cache serves
    every row, each of whose own tokens are left-padded after it."""
    device = next(model.parameters()).device
    n, g = len(prompts), max(map(len, guesses))
    width = shared + max(len(p) - shared for p in prompts)
    seq = torch.full((n, width + limit), tokenizer.pad_token_id or 0, dtype=torch.long)
    mask = torch.zeros_like(seq)
    expected = torch.full((n, g + 1), -1, dtype=torch.long)  # the fed guess; -1 where nothing was fed
    for i, (prompt, guess) in enumerate(zip(prompts, guesses)):
        seq[i, :shared] = torch.tensor(prompt[:shared])
        seq[i, width - len(prompt) + shared : width] = torch.tensor(prompt[shared:])
        seq[i, width : width + len(guess)] = torch.tensor(guess, dtype=torch.long)
        expected[i, : len(guess)] = torch.tensor(guess, dtype=torch.long)
        mask[i, :shared] = 1
        mask[i, width - len(prompt) + shared :] = 1
    seq, mask, expected = seq.to(device), mask.to(device), expected.to(device)
    positions = (mask.cumsum(1) - 1).clamp_min(0)
    fed = width + g
    past = {}
    if shared:
        prefix = model.base_model(input_ids=seq[:1, :shared], use_cache=True)
        cache = cache_of(prefix)
        cache.batch_repeat_interleave(n)
        past = with_cache(model.base_model, cache)
    out = model.base_model(
        input_ids=seq[:, shared:fed],
        attention_mask=mask[:, :fed],
        position_ids=positions[:, shared:fed],
        use_cache=True,
        **past,
    )
    preds = model.get_output_embeddings()(out.last_hidden_state[:, width - 1 - shared :]).argmax(-1)  # [n, g + 1]
    first = (preds != expected).int().argmax(1)  # the first generated token that differs from the guess
    known = (first + 1).clamp_max(limit)  # generated tokens this pass gives exactly
    seq[:, width : width + min(g + 1, limit)] = preds[:, :limit]

    texts = [""] * n  # each row's generated text so far, kept so it is decoded once per new token

    def decided(i: int, tokens: torch.Tensor, count: int) -> bool:
        texts[i] = tokenizer.decode(tokens[:count].tolist())
        return _decided(texts[i], count, limit, targets and targets[i])

    done = np.array([decided(i, seq[i, width:], int(known[i])) for i in range(n)])
    fast = done.copy()
    todo = torch.from_numpy(np.flatnonzero(~done)).to(device)
    if len(todo):
        _decode_on(model, cache_of(out), seq, mask, positions, known, todo, width, limit, decided)
    return [extract_answer(text) for text in texts], fast


def _decode_on(model, cache, seq, mask, positions, known, todo, width: int, limit: int, decided) -> None:
    """Greedy decoding of undecided rows in lockstep from the earliest unfed position; updates `seq` and `known`."""
    start = width + int(known[todo].min()) - 1  # the first input that differs from what was fed
    drop = cache.get_seq_length() - start
    if drop > 0:
        cache.crop(-drop)  # negative: remove that many trailing positions
    cache.batch_select_indices(todo)
    rows, rows_known, active = (
        seq[todo],
        known[todo].clone(),
        torch.ones(len(todo), dtype=torch.bool, device=seq.device),
    )
    for t in range(start, width + limit - 1):
        step = model(
            input_ids=rows[:, t : t + 1],
            attention_mask=mask[todo, : t + 1],
            position_ids=positions[todo, t : t + 1],
            **with_cache(model, cache),
            use_cache=True,
        )
        cache = cache_of(step)
        free = active & (width + rows_known <= t + 1)  # rows now decoding their own tokens
        rows[:, t + 1] = torch.where(free, step.logits[:, -1].argmax(-1), rows[:, t + 1])
        rows_known += free.long()
        for j in torch.nonzero(free).flatten().tolist():
            active[j] = not decided(int(todo[j]), rows[j, width:], int(rows_known[j]))
        if not active.any():
            break
    seq[todo], known[todo] = rows, rows_known


@torch.inference_mode()
def generate_answers_reference(
    model, tokenizer, prompts: list[str], max_new_tokens: int = 16, batch_size: int = 64
) -> list[str]:
    """Plain batched `generate` (left padding, greedy, stop at the newline token): the reference and speed anchor."""
    device = next(model.parameters()).device
    newline = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("\n"))[0]
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    answers = []
    try:
        for start in range(0, len(prompts), batch_size):
            batch = tokenizer(
                list(prompts[start : start + batch_size]), return_tensors="pt", padding=True, add_special_tokens=False
            ).to(device)
            out = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=newline,
                pad_token_id=tokenizer.pad_token_id,
            )
            texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1] :].tolist())
            answers += [extract_answer(t) for t in texts]
    finally:
        tokenizer.padding_side = side
    return answers
