"""Few-shot tasks and the generation scorer: exactly what greedy `generate` answers, batched or not."""

import numpy as np
import pytest
import torch

from pythia_repro.evals import arithmetic
from pythia_repro.scoring import fewshot_answers, generate_answers_reference
from pythia_repro.scoring.answers import _decided, extract_answer


def test_prompt_template_and_shots():
    assert arithmetic.prompt("multiplication", 0, 3, 7) == "Q:What is 3 times 7? A:"
    assert arithmetic.prompt("addition", 0, 3, 7) == "Q:What is 3 plus 7? A:"
    four = arithmetic.prompt("multiplication", 4, 3, 7)
    examples = four.split("\n\n")
    assert len(examples) == 5 and examples[-1] == "Q:What is 3 times 7? A:"
    for example in examples[:-1]:
        x1, x2 = (int(v) for v in example.removeprefix("Q:What is ").split("?")[0].split(" times "))
        assert x1 != 3 and 1 <= x2 <= 50 and example.endswith(f"A:{x1 * x2}")
    assert four == arithmetic.prompt("multiplication", 4, 3, 7)  # seeded per instance
    assert four != arithmetic.prompt("multiplication", 4, 3, 8)


def test_task_table_is_the_full_grid_and_subsets_agree():
    table = arithmetic.tasks(2)
    assert len(table) == 2 * 100 * 50 and table.target.iloc[-1] == str(99 + 50)
    subset = arithmetic.tasks(2, operations=("addition",), operands=(5,))
    full = table[(table.operation == "addition") & (table.x1 == 5)]
    assert list(subset.prompt) == list(full.prompt)
    with pytest.raises(ValueError, match="unknown operations"):
        arithmetic.tasks(0, operations=("division",))


def test_answer_extraction_and_when_it_is_decided():
    assert extract_answer(" 1234567\n9") == "12345"
    assert extract_answer("abc\n12") == ""
    assert extract_answer("x 42, then 7") == "42"
    assert _decided("12 ", 2, 16) and not _decided("12", 1, 16) and _decided("123456", 2, 16)
    assert _decided("ab\n", 2, 16) and _decided("ab", 16, 16) and not _decided("ab", 2, 16)
    assert not _decided("12\ufffd", 2, 16)  # an unfinished character may still be a digit
    assert _decided("24", 1, 16, target="2303") and not _decided("23", 1, 16, target="2303")


def _prompts_and_targets(model, tok):
    table = arithmetic.tasks(1, operands=(2, 3, 17, 40, 81))
    rows = table.iloc[np.random.default_rng(0).choice(len(table), 48, replace=False)]
    prompts = list(rows.prompt)
    reference = generate_answers_reference(model, tok, prompts, batch_size=1)
    # half the targets are the model's own answers, so the teacher-forced fast path decides some rows as correct
    targets = [r if i % 2 == 0 and r else t for i, (r, t) in enumerate(zip(reference, rows.target))]
    return prompts, targets, reference


def test_answers_equal_unbatched_generate_and_batching_changes_nothing(digit_model, neox_tokenizer):
    model, tok = digit_model, neox_tokenizer
    prompts, targets, reference = _prompts_and_targets(model, tok)
    for batch_size in (1, 7, 48):
        full = fewshot_answers(model, tok, prompts, targets, batch_size=batch_size, full_answers=True)
        assert full.answer == reference
        quick = fewshot_answers(model, tok, prompts, targets, batch_size=batch_size)
        assert quick.answer is None
        expected = np.array([r == t for r, t in zip(reference, targets)])
        assert (quick.correct == expected).all() and (full.correct == expected).all()
    assert expected.sum() >= 10 and quick.fast.any() and not quick.fast.all()
    batched = generate_answers_reference(model, tok, prompts, batch_size=16)
    assert batched == reference


def test_prompts_sharing_examples_are_answered_on_one_prefix_exactly_as_generate(digit_model, neox_tokenizer):
    from pythia_repro.scoring.answers import MIN_SHARED, shared_prefix_groups

    model, tok = digit_model, neox_tokenizer
    table = arithmetic.tasks(4, operands=(2, 3, 17), second_operands=tuple(range(1, 11)), examples="per_operand")
    ids = tok(list(table.prompt), add_special_tokens=False)["input_ids"]
    groups, singles = shared_prefix_groups(ids, 64)
    assert not singles and sorted(len(members) for members, _ in groups) == [10] * 6  # one per operand
    for members, shared in groups:
        assert shared >= MIN_SHARED and all(ids[i][:shared] == ids[members[0]][:shared] for i in members)
    reference = generate_answers_reference(model, tok, list(table.prompt), batch_size=1)
    targets = [r if i % 3 == 0 and r else t for i, (r, t) in enumerate(zip(reference, table.target))]
    for batch_size in (4, 64):
        full = fewshot_answers(model, tok, list(table.prompt), targets, batch_size=batch_size, full_answers=True)
        assert full.answer == reference
        quick = fewshot_answers(model, tok, list(table.prompt), targets, batch_size=batch_size)
        assert (quick.correct == np.array([r == t for r, t in zip(reference, targets)])).all()
    per_instance = arithmetic.tasks(4, operands=(2,), second_operands=tuple(range(1, 11)))
    assert shared_prefix_groups(tok(list(per_instance.prompt), add_special_tokens=False)["input_ids"], 64)[0] == []


def test_a_shared_prefix_group_out_of_memory_is_answered_in_halves(digit_model, neox_tokenizer, monkeypatch):
    model, tok = digit_model, neox_tokenizer
    table = arithmetic.tasks(4, operands=(2,), second_operands=tuple(range(1, 11)), examples="per_operand")
    expected = fewshot_answers(model, tok, list(table.prompt), list(table.target), full_answers=True).answer
    embed, rows = model.base_model.embed_in, []
    forward = embed.forward

    def small_memory(ids):  # runs out of memory on more than 4 rows of a prompt's own tokens
        if ids.shape[1] > 1:
            rows.append(ids.shape[0])
            if ids.shape[0] > 4:
                raise torch.OutOfMemoryError("simulated")
        return forward(ids)

    monkeypatch.setattr(embed, "forward", small_memory)
    got = fewshot_answers(model, tok, list(table.prompt), list(table.target), batch_size=16, full_answers=True)
    assert got.answer == expected
    tried = [r for r in rows if r > 1]  # each 1 is a group's prefix, run alone
    assert tried == [10, 8, 4, 4, 2] * 2  # two groups (multiplication, addition) of 10: 16 → 8 → 4 rows at a time


def test_prompt_and_target_counts_must_match(tiny_model):
    model, tok = tiny_model
    with pytest.raises(ValueError, match="targets"):
        fewshot_answers(model, tok, ["Q:What is 1 times 2? A:"], [])
