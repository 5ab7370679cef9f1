"""Few-shot arithmetic tasks of the term-frequency finding (Razeghi et al. 2022, as run on Pythia).

For each operation and operand x1 in 0–99, the test instances are x2 = 1…50 (a suite may use a
smaller range). A prompt is `Q:What is {x1} times {x2}? A:` (or `plus`), the target `{y}` with no
leading space. A k-shot prompt puts k solved examples before it, each `prompt + target`, joined by a
blank line; the examples are drawn without replacement from the instances whose x1 differs from the
test operand (the authors' validation split). `per_instance` (the authors' way): a generator seeded
by (seed, operation, k, x1, x2) draws each prompt's own examples. `per_operand`: one draw, seeded by
(seed, operation, k, x1), serves all of an operand's instances, so they share their few-shot context
(and its key/value cache). Either way every prompt is fixed on its own, whatever subset is built.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

OPERATIONS = {"multiplication": ("times", lambda a, b: a * b), "addition": ("plus", lambda a, b: a + b)}
OPERANDS = tuple(range(100))
SECOND_OPERANDS = tuple(range(1, 51))
SHOTS = (0, 2, 4, 8, 16)
EXAMPLES = ("per_instance", "per_operand")  # how few-shot examples are drawn; the first is the authors'
QUESTION = "What is {x1} {word} {x2}?"
TEMPLATE = f"Q:{QUESTION} A:"  # the answer follows with no space
WORDS = {operation: word for operation, (word, _) in OPERATIONS.items()}  # multiplication → times
# The first operand and the operation word of a question anywhere in a text (the micro suite's planted counts).
OPERAND_IN_TEXT = re.compile(
    re.escape(QUESTION[: QUESTION.index(" {x1}")]) + r" (\d{1,5}) (" + "|".join(WORDS.values()) + ") "
)
SEED = 1234


def question(operation: str, x1: int, x2: int) -> str:
    return TEMPLATE.format(x1=x1, word=OPERATIONS[operation][0], x2=x2)


def answer(operation: str, x1: int, x2: int) -> int:
    return OPERATIONS[operation][1](x1, x2)


def solved(operation: str, x1: int, x2: int) -> str:
    """A question with its answer, as in a few-shot example (and as planted in the micro suite's text)."""
    return question(operation, x1, x2) + str(answer(operation, x1, x2))


def _examples(
    operation: str, shots: int, x1: int, x2: int, seed: int, second: tuple[int, ...], examples: str
) -> list[str]:
    key = [seed, list(OPERATIONS).index(operation), shots, x1] + ([x2] if examples == "per_instance" else [])
    rng = np.random.default_rng(key)
    others = np.array([o for o in OPERANDS if o != x1])
    picks = rng.choice(len(others) * len(second), size=shots, replace=False)
    pairs = [(int(others[p // len(second)]), second[p % len(second)]) for p in picks]
    return [solved(operation, a, b) for a, b in pairs]


def prompt(
    operation: str,
    shots: int,
    x1: int,
    x2: int,
    seed: int = SEED,
    second_operands: tuple[int, ...] = SECOND_OPERANDS,
    examples: str = EXAMPLES[0],
) -> str:
    """The k-shot prompt of one test instance."""
    drawn = _examples(operation, shots, x1, x2, seed, tuple(second_operands), examples)
    return "\n\n".join([*drawn, question(operation, x1, x2)])


def tasks(
    shots: int,
    operations: tuple[str, ...] = tuple(OPERATIONS),
    operands: tuple[int, ...] = OPERANDS,
    seed: int = SEED,
    second_operands: tuple[int, ...] = SECOND_OPERANDS,
    examples: str = EXAMPLES[0],
) -> pd.DataFrame:
    """Every test instance at `shots` shots: columns operation, x1, x2, target, prompt (a fixed order)."""
    if shots < 0:
        raise ValueError(f"shots must be ≥ 0, got {shots}")
    unknown = set(operations) - set(OPERATIONS)
    if unknown:
        raise ValueError(f"unknown operations {sorted(unknown)}; known: {', '.join(OPERATIONS)}")
    if examples not in EXAMPLES:
        raise ValueError(f"examples must be one of {', '.join(EXAMPLES)}, got {examples!r}")
    if not second_operands or min(second_operands) < 0:
        raise ValueError(f"second operands must be a non-empty list of numbers ≥ 0, got {list(second_operands)}")
    rows = [
        {
            "operation": op,
            "x1": x1,
            "x2": x2,
            "target": str(answer(op, x1, x2)),
            "prompt": prompt(op, shots, x1, x2, seed, tuple(second_operands), examples),
        }
        for op in operations
        for x1 in operands
        for x2 in second_operands
    ]
    return pd.DataFrame(rows)
