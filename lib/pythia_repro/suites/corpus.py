"""The micro suite's synthetic corpus, with planted phenomena and their ground truth.

- Natural-language-like documents: a topic per document selects its nouns and verbs, and
  named characters recur within a document, so the text has structure beyond bigrams.
- Arithmetic statements in the exact few-shot template (`Q:What is {x1} times {x2}? A:{y}`),
  joined by blank lines. Operands of `times` are Zipf-distributed over a seeded random
  permutation of 0–99 (frequency is not operand size); operands of `plus` are uniform (the control).
- Passages duplicated 1 to several hundred times, uniformly over training order: high-entropy ones
  (predictable only by memorizing them), natural-language ones, and templated ones (variants that share
  their first half, like near-duplicates); a copy begins a row and the row goes on with text of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..evals import arithmetic

SENTENCE_TEMPLATES = (
    "the {adj} {noun} {verb} the {noun2} .",
    "{name} {verb} the {noun} near the {noun2} .",
    "{name} said that the {noun} was {adj} .",
    "{name} and {other} {verb} a {adj} {noun} .",
    "then {name} {verb} the {adj} {noun2} again .",
    "{name} waited {number} minutes .",
)
OPERATIONS = {word: operation for operation, word in arithmetic.WORDS.items()}  # times → multiplication


@dataclass(frozen=True)
class Lexicon:
    nouns: list[str]
    verbs: list[str]
    adjectives: list[str]
    names: list[str]
    topics: list[tuple[np.ndarray, np.ndarray]]  # per topic: noun indices, verb indices


def _words(rng: np.random.Generator, count: int, syllables: tuple[int, int], taken: set[str]) -> list[str]:
    consonants, vowels = list("bdfgklmnprstvz"), list("aeiou")
    out = []
    while len(out) < count:
        k = int(rng.integers(*syllables, endpoint=True))
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(k))
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


def make_lexicon(rng: np.random.Generator, n_topics: int = 8) -> Lexicon:
    taken: set[str] = {"the", "a", "and", "said", "that", "was", "near", "then", "again", "waited", "minutes"}
    nouns = _words(rng, 400, (2, 3), taken)
    verbs = [w + "s" for w in _words(rng, 160, (2, 2), taken)]
    adjectives = _words(rng, 120, (2, 3), taken)
    names = [w.capitalize() for w in _words(rng, 80, (2, 3), taken)]
    topics = [
        (rng.choice(len(nouns), 50, replace=False), rng.choice(len(verbs), 25, replace=False)) for _ in range(n_topics)
    ]
    return Lexicon(nouns, verbs, adjectives, names, topics)


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def natural_document(rng: np.random.Generator, lex: Lexicon) -> str:
    """A few sentences on one topic about two recurring characters."""
    nouns, verbs = lex.topics[int(rng.integers(len(lex.topics)))]
    noun_p, verb_p = _zipf(len(nouns), 1.1), _zipf(len(verbs), 1.1)
    name, other = (lex.names[i] for i in rng.choice(len(lex.names), 2, replace=False))
    sentences = []
    for _ in range(int(rng.integers(3, 9))):
        template = SENTENCE_TEMPLATES[int(rng.integers(len(SENTENCE_TEMPLATES)))]
        sentences.append(
            template.format(
                adj=lex.adjectives[int(rng.integers(len(lex.adjectives)))],
                noun=lex.nouns[nouns[rng.choice(len(nouns), p=noun_p)]],
                noun2=lex.nouns[nouns[rng.choice(len(nouns), p=noun_p)]],
                verb=lex.verbs[verbs[rng.choice(len(verbs), p=verb_p)]],
                name=name,
                other=other,
                number=int(rng.integers(1, 100)),
            )
        )
    return " ".join(sentences)


@dataclass(frozen=True)
class OperandPlan:
    """Operand frequencies: `times` Zipf over a permutation of 0–99, `plus` uniform (control)."""

    permutation: np.ndarray  # permutation[r] = operand of frequency rank r
    times_p: np.ndarray  # probability of each operand 0–99 under `times`
    plus_p: np.ndarray

    @classmethod
    def make(cls, rng: np.random.Generator, exponent: float) -> OperandPlan:
        permutation = rng.permutation(100)
        times_p = np.empty(100)
        times_p[permutation] = _zipf(100, exponent)
        return cls(permutation, times_p, np.full(100, 0.01))


def arithmetic_document(
    rng: np.random.Generator,
    plan: OperandPlan,
    second: tuple[int, int] = (1, 50),
    statements: tuple[int, int] = (2, 6),
) -> str:
    """Task statements (their number drawn from `statements`, second operands from the inclusive range `second`)
    joined by blank lines, like a few-shot prompt."""
    out = []
    for _ in range(int(rng.integers(statements[0], statements[1], endpoint=True))):
        op = "times" if rng.random() < 0.5 else "plus"
        x1 = int(rng.choice(100, p=plan.times_p if op == "times" else plan.plus_p))
        x2 = int(rng.integers(second[0], second[1], endpoint=True))
        out.append(arithmetic.solved(OPERATIONS[op], x1, x2))
    return "\n\n".join(out)


def passage(rng: np.random.Generator, lex: Lexicon, n_words: int) -> str:
    """A high-entropy word sequence: predictable only by memorizing it."""
    pool = lex.nouns + lex.verbs + lex.adjectives
    return " ".join(pool[i] for i in rng.integers(len(pool), size=n_words))


def planted_counts(documents: list[str]) -> dict[str, np.ndarray]:
    """How many task statements of each operation word have each first operand 0–99, in `documents`."""
    counts = {word: np.zeros(100, dtype=np.int64) for word in OPERATIONS}
    for doc in documents:
        for x1, word in arithmetic.OPERAND_IN_TEXT.findall(doc):
            if int(x1) < 100:
                counts[word][int(x1)] += 1
    return counts
