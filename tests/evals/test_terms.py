"""Term counting: the authors' window definition, exactly, and cumulative counts per checkpoint."""

import json
import random
from collections import Counter

import numpy as np
import pytest

from pythia_repro.evals import terms
from pythia_repro.paths import cache_home


def test_a_number_far_from_any_other_is_not_counted():
    assert terms.count_terms(["I waited 24 minutes"]) == Counter()
    assert terms.count_terms(["x 12 a b c d 7"]) == Counter()  # four words apart: no window
    assert terms.count_occurrences(["I waited 24 minutes"]) == Counter({"24": 1})


def test_overlapping_windows_count_a_number_once_per_window():
    counts = terms.count_terms(["he had 3 cats and 4 dogs and 5 fish"])
    assert counts == Counter({"3": 1, "4": 2, "5": 1, "3-4": 1, "4-5": 1})


def test_pairs_are_sorted_numbers_are_normalised_and_long_numbers_do_not_start_a_window():
    assert terms.count_terms(["we saw 40 then 7 birds"]) == Counter({"40": 1, "7": 1, "7-40": 1})
    assert terms.count_terms(["007 is 7 ok"]) == Counter({"7": 2, "7-7": 1})
    assert terms.count_terms(["a 123456 b 3"]) == Counter()
    # the task template: the answer is glued to "A:", so only the operands form a window
    assert terms.count_terms(["Q:What is 3 times 4? A:12"]) == Counter({"3": 1, "4": 1, "3-4": 1})


def test_anchored_counter_equals_the_lookahead_loop_on_random_text():
    rng = random.Random(0)
    alphabet = [*"0123456789 ab,.\n\t:?", "12 ", " 3 ", "times ", "  "]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(3000)]
    fast = terms.count_terms(texts)
    assert fast == terms.count_terms_reference(texts)
    assert sum(fast.values()) > 1000


def test_task_operand_counter():
    text = "Q:What is 3 times 4? A:12\n\nQ:What is 03 plus 4? A:7\n\nQ:What is 3 times 9? A:27"
    assert terms.count_task_operands([text]) == Counter({"times:3": 2, "plus:3": 1})


def test_blocks_split_at_checkpoints_and_at_the_block_size():
    assert terms.blocks([1, 2, 4], rows_per_step=4, max_block_rows=3) == [
        (0, 3),
        (3, 4),
        (4, 7),
        (7, 8),
        (8, 11),
        (11, 14),
        (14, 16),
    ]


class _InProcessPool:
    """Stands in for the process pool: runs tasks here and records them."""

    tasks: list = []

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, tasks):
        tasks = list(tasks)
        _InProcessPool.tasks += tasks
        return map(fn, tasks)


def test_cumulative_counts_match_a_direct_count_of_the_rows_seen(micro_suite):
    from pythia_repro.suites import load_tokenizer

    steps = [8, 16, 32]
    table = terms.block_counts(micro_suite, steps, ("window", "task"), max_block_rows=20, progress=False)
    names = [str(x) for x in range(100)] + [f"times:{x}" for x in range(100)]
    cum = terms.cumulative_counts(table, steps, micro_suite.rows_per_step, names)
    tok = load_tokenizer(micro_suite)
    for step in steps:
        texts = tok.batch_decode(micro_suite.training_rows().rows_seen(step).tolist())
        direct = terms.count_terms(texts)
        got = cum[(cum.step == step) & (cum.counter == "window")].set_index("term")["count"]
        assert all(got[str(x)] == direct.get(str(x), 0) for x in range(100))
        task = cum[(cum.step == step) & (cum.counter == "task")].set_index("term")["count"]
        assert task[[f"times:{x}" for x in range(100)]].sum() == sum(
            terms.count_task_operands(texts).get(f"times:{x}", 0) for x in range(100)
        )
    window = cum[cum.counter == "window"].pivot(index="term", columns="step", values="count")
    assert (np.diff(window.to_numpy(), axis=1) >= 0).all() and window[32].sum() > 0


def test_counts_are_cached_per_block_and_resume_after_a_lost_block(micro_suite, monkeypatch):
    steps = [8, 32]
    first = terms.block_counts(micro_suite, steps, ("window",), max_block_rows=40, progress=False)
    monkeypatch.setattr(terms.worker_pools, "pool", _InProcessPool)
    _InProcessPool.tasks = []
    again = terms.block_counts(micro_suite, steps, ("window",), max_block_rows=40, progress=False)
    assert _InProcessPool.tasks == [] and again.equals(first)
    records = (cache_home() / "terms").glob("*.record.json")
    lost = next(r for r in records if json.loads(r.read_text())["holds"]["rows"] == [32, 72])
    lost = lost.with_name(lost.name.removesuffix(".record.json"))
    lost.unlink()
    resumed = terms.block_counts(micro_suite, steps, ("window",), max_block_rows=40, progress=False)
    assert [t[3:5] for t in _InProcessPool.tasks] == [(32, 72)]
    assert resumed.equals(first)


def test_counting_past_the_data_needs_max_rows(micro_suite):
    with pytest.raises(ValueError, match="max_rows"):
        terms.block_counts(micro_suite, [10_000], progress=False)
    with pytest.raises(ValueError, match="unknown counters"):
        terms.block_counts(micro_suite, [8], ("nonsense",), progress=False)
