"""How often numbers occur in the training data seen by each checkpoint.

The authors' counter (Pythia term-frequency analysis, after Razeghi et al. 2022): decode
each training row, prepend a space, and find the *overlapping* windows matched by the
lookahead regex ``(?=( (\\d){1,5} ((\\w|[punct])+\\s+){1,3}(\\d){1,5}))``: a 1–5 digit
number between spaces, 1–3 words (word characters or punctuation, each followed by
whitespace), then 1–5 digits. Every run of 1–5 digits inside a window adds 1 to the count
of that number (as ``str(int(...))``), and every pair of them, sorted, adds 1 to ``"a-b"``.
So a number far from any other number is not counted, and a number inside several
overlapping windows is counted once per window. `count_terms` implements exactly this;
`count_occurrences` is the plain alternative (every standalone number, once), and
`count_task_operands` counts the first operands of task statements per operation (the micro
suite plants these, so its control can be ranked by the frequency of the operation itself).

Counts are kept per block of training rows, cached as Parquet tables, and summed into
cumulative counts per checkpoint (rows [0, rows_per_step · step) are seen by step).
"""

from __future__ import annotations

import itertools
import os
import re
import string
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..integrity import atomic, checked, versions
from ..integrity import workers as worker_pools
from . import arithmetic

_PUNCT = re.escape(string.punctuation)
WINDOW = re.compile(rf"(?=( (\d){{1,5}} ((\w|[{_PUNCT}])+\s+){{1,3}}(\d){{1,5}}))")
_WINDOW_BODY = re.compile(rf" (\d){{1,5}} ((\w|[{_PUNCT}])+\s+){{1,3}}(\d){{1,5}}")
_WINDOW_START = re.compile(r"(?= \d{1,5} )")
NUMBER = re.compile(r"\d{1,5}")
_STANDALONE = re.compile(r"(?<!\d)\d{1,5}(?!\d)")


def window_keys(window: str) -> list[str]:
    """The keys one window adds 1 to: each number in it, then each sorted pair."""
    numbers = sorted(int(n) for n in NUMBER.findall(window))
    return [str(n) for n in numbers] + [f"{a}-{b}" for a, b in itertools.combinations(numbers, 2)]


def count_terms(texts: Iterable[str]) -> Counter:
    """The authors' window counter over decoded rows (a space is prepended to each)."""
    keys: list[str] = []
    for text in texts:
        text = " " + text
        # The lookahead regex matches at exactly the positions where its body matches; anchoring the body
        # at candidate starts (a space, 1–5 digits, a space) finds the same windows without trying every position.
        for start in _WINDOW_START.finditer(text):
            body = _WINDOW_BODY.match(text, start.start())
            if body:
                keys += window_keys(body.group(0))
    return Counter(keys)


def count_terms_reference(texts: Iterable[str]) -> Counter:
    """The authors' loop as written (lookahead at every position, one dict update at a time): the speed anchor."""
    counts: dict[str, int] = {}
    for text in texts:
        for window in (m.group(1) for m in WINDOW.finditer(" " + text)):
            for key in window_keys(window):
                counts[key] = counts.get(key, 0) + 1
    return Counter(counts)


def count_occurrences(texts: Iterable[str]) -> Counter:
    """Plain counter: every standalone run of 1–5 digits (not part of a longer run) adds 1 to its number."""
    return Counter(str(int(n)) for text in texts for n in _STANDALONE.findall(text))


def count_task_operands(texts: Iterable[str]) -> Counter:
    """First operands of task statements (`What is {x1} times|plus ...`), keyed `times:x1` / `plus:x1`."""
    return Counter(f"{word}:{int(x1)}" for text in texts for x1, word in arithmetic.OPERAND_IN_TEXT.findall(text))


COUNT_FUNCTIONS = {"window": count_terms, "occurrence": count_occurrences, "task": count_task_operands}


def count_rows(tokenizer_file: str, prefix: str, row_len: int, start: int, stop: int, counters: tuple[str, ...]):
    """Decode rows [start, stop) with the suite's tokenizer; counts of every counter as one table."""
    from tokenizers import Tokenizer

    from ..data.tokens import MMapIndexedDataset, TrainingRows

    tokenizer = Tokenizer.from_file(tokenizer_file)
    rows = TrainingRows(MMapIndexedDataset(prefix), 1, row_len).rows(start, stop)
    texts = tokenizer.decode_batch(rows.astype(np.uint32).tolist(), skip_special_tokens=False)
    frames = []
    for name in counters:
        counts = COUNT_FUNCTIONS[name](texts)
        frames.append(
            pd.DataFrame(
                {"counter": name, "term": list(counts), "count": np.fromiter(counts.values(), np.int64, len(counts))}
            )
        )
    return pd.concat(frames, ignore_index=True)


def _count_block(task: tuple[str, str, int, int, int, tuple[str, ...], str]) -> str:
    """Worker (a process here, or a Ray task): count one block and write it, atomically, to its cache file."""
    *job, holds, path = task
    atomic.write_parquet(Path(path), count_rows(*job))
    checked.seal(Path(path), holds, f"term counts ({', '.join(job[5])}) of rows {job[3]}-{job[4]}")
    return path


def blocks(steps: Iterable[int], rows_per_step: int, max_block_rows: int) -> list[tuple[int, int]]:
    """Row blocks between consecutive checkpoints, each at most `max_block_rows` long (cache and resume units)."""
    bounds = sorted({0, *(s * rows_per_step for s in steps)})
    out = []
    for a, b in itertools.pairwise(bounds):
        out += [(x, min(x + max_block_rows, b)) for x in range(a, b, max_block_rows)]
    return out


def _block(identity: str, counters: tuple[str, ...], start: int, stop: int) -> tuple[dict, Path]:
    """What a block's counts hold, and where they are cached."""
    holds = {"data": identity, "counters": list(counters), "version": versions.TERM_COUNTER, "rows": [start, stop]}
    return holds, checked.location("terms", holds, ".parquet")


def block_counts(
    suite,
    steps: Iterable[int],
    counters: tuple[str, ...] = ("window",),
    max_rows: int | None = None,
    workers: int | None = None,
    max_block_rows: int = 1 << 16,
    progress: bool = True,
    engine: str = "local",
    address: str | None = None,
) -> pd.DataFrame:
    """Counts per block of training rows up to the last step: columns start, stop, counter, term, count.

    Blocks are decoded once for all `counters` and cached one file per block, written by the worker that counted
    it, so an interrupted count resumes at the first missing block. `engine` "local" counts on every core here,
    "ray" as one Ray task per block (on the cluster at `address`, or one started here; workers must share the
    cache folder). `max_rows` counts only a prefix of the data.
    """
    from ..data.tokens import data_identity

    counters = tuple(counters)
    unknown = set(counters) - set(COUNT_FUNCTIONS)
    if unknown:
        raise ValueError(f"unknown counters {sorted(unknown)}; choose from {', '.join(COUNT_FUNCTIONS)}")
    if engine not in COUNTING_ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(COUNTING_ENGINES)}")
    steps = list(steps)
    rows = suite.training_rows()
    needed = max(steps) * suite.rows_per_step
    if max_rows is None and needed > rows.n_rows:
        raise ValueError(
            f"the training data holds {rows.n_rows} rows but step {max(steps)} has seen {needed}: the rest are a "
            "second pass over the same rows (the deduplicated Pile's, EleutherAI/pythia#144) or the data is cut short, "
            "and the counts read the first pass only: pass max_rows to count a prefix of it"
        )
    limit = min(needed, max_rows if max_rows is not None else needed)
    wanted = [(a, min(b, limit)) for a, b in blocks(steps, suite.rows_per_step, max_block_rows) if a < limit]
    identity = data_identity(suite.data_prefix)
    cached = {(a, b): _block(identity, counters, a, b) for a, b in wanted}  # (a, b) → (what it holds, its file)
    todo = [(a, b) for (a, b), (holds, path) in cached.items() if not checked.usable(path, holds)]
    if todo:
        tasks = [
            (str(suite.tokenizer_file()), str(suite.data_prefix), suite.row_len, a, b, counters)
            + (cached[a, b][0], str(cached[a, b][1]))
            for a, b in todo
        ]
        COUNTING_ENGINES[engine](tasks, workers, address, progress)
    frames = [pd.read_parquet(cached[a, b][1]).assign(start=a, stop=b) for a, b in wanted]
    return pd.concat(frames, ignore_index=True)[["start", "stop", "counter", "term", "count"]]


def _count_here(tasks: list[tuple], workers: int | None, address: str | None, progress: bool) -> None:
    """Count blocks on this machine's cores (forked processes)."""
    from tqdm.auto import tqdm

    with worker_pools.pool(workers or min(len(tasks), os.cpu_count() or 1), "fork") as pool:
        for _ in tqdm(pool.map(_count_block, tasks), total=len(tasks), desc="counting terms", disable=not progress):
            pass


def _count_on_ray(tasks: list[tuple], workers: int | None, address: str | None, progress: bool) -> None:
    """Count blocks as Ray tasks, one CPU each, with the driver's settings forwarded to the workers."""
    import ray
    from tqdm.auto import tqdm

    from ..integrity.workers import forwarded_env

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(_count_block).options(num_cpus=1, runtime_env={"env_vars": forwarded_env()}, max_retries=2)
    pending = [remote.remote(task) for task in tasks]
    with tqdm(total=len(tasks), desc="counting terms (ray)", disable=not progress) as bar:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            ray.get(done)
            bar.update(len(done))


COUNTING_ENGINES = {"local": _count_here, "ray": _count_on_ray}


def cumulative_counts(
    block_table: pd.DataFrame, steps: Iterable[int], rows_per_step: int, terms: Iterable[str]
) -> pd.DataFrame:
    """Counts of `terms` in the rows each checkpoint has seen: columns step, counter, term, count (0 when absent)."""
    terms = list(terms)
    sub = block_table[block_table.term.isin(terms)]
    out = []
    for step in sorted(steps):
        seen = sub[sub.stop <= step * rows_per_step].groupby(["counter", "term"])["count"].sum()
        for counter in block_table.counter.unique():
            values = seen.get(counter, pd.Series(dtype=np.int64)).reindex(terms, fill_value=0)
            out.append(pd.DataFrame({"step": step, "counter": counter, "term": terms, "count": values.to_numpy()}))
    return pd.concat(out, ignore_index=True)
