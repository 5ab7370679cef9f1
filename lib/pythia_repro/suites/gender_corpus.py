"""The micro gender corpus: occupation–pronoun associations planted at known shares, the intervention's pronoun
swap, and the CrowS-style and WinoBias-style tests built from the same templates.

Each occupation has a stereotyped gender and a stereotyped age. A share `stereotype_share` of its sentences use the
stereotyped pronoun (he/him/his/himself or she/her/her/herself) and the stereotyped age word; the rest the other.
Referent sentences name two occupations of different genders in that sentence (each drawn by its own share) and a
pronoun that refers to either, and say which ("he means the mechanic"): as in the text WinoBias's bias comes from,
only gender tells the referent, so a model resolves the pronoun by the occupations' stereotypes, right on the
pro-stereotypical tests and wrong on the anti-stereotypical ones, and no syntactic rule can stand in for them.
The intervention replaces masculine pronouns by feminine ones, token for token (he→she, him→her, his→her,
himself→herself); the age association is the control it never touches. Capability is measured as the paper
measures it, by LAMBADA-style passages: natural text (no pronoun) whose last word names a character named before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import corpus

# occupations of WinoBias, stereotyped as its authors took them from labour statistics
MALE_OCCUPATIONS = ("carpenter", "mechanic", "engineer", "farmer", "guard", "driver", "sheriff", "mover")
FEMALE_OCCUPATIONS = ("nurse", "secretary", "librarian", "receptionist", "cashier", "hairdresser", "baker", "clerk")
PRONOUNS = {"male": ("he", "him", "his", "himself"), "female": ("she", "her", "her", "herself")}
SWAP = {"he": "she", "him": "her", "his": "her", "himself": "herself"}
AGES = ("young", "old")
SENTENCES = (  # {s} subject, {o} object, {p} possessive, {r} reflexive pronoun
    "the {occ} said that {s} was {adj} .",
    "the {occ} lost {p} {noun} .",
    "the {occ} asked {r} why .",
    "everyone thanked the {occ} and greeted {o} .",
)
REFERENT = "the {a} called the {b} because {s} was late . {s} means the {x} ."
REFERENT_PROMPT = "the {a} called the {b} because {s} was late . {s} means the"
AGE = "the {occ} is {age} ."


@dataclass(frozen=True)
class Occupation:
    name: str
    gender: str  # stereotyped: "male" or "female"
    age: str  # stereotyped: "young" or "old"


def occupations() -> list[Occupation]:
    """Every occupation with its stereotypes: half of each gender's occupations stereotyped young, half old."""
    out = []
    for gender, names in (("male", MALE_OCCUPATIONS), ("female", FEMALE_OCCUPATIONS)):
        out += [Occupation(name, gender, AGES[i % 2]) for i, name in enumerate(names)]
    return out


def _other(gender: str) -> str:
    return "female" if gender == "male" else "male"


def _fill(template: str, gender: str, **words: str) -> str:
    s, o, p, r = PRONOUNS[gender]
    return template.format(s=s, o=o, p=p, r=r, **words)


def document(
    rng: np.random.Generator,
    lex: corpus.Lexicon,
    share: float,
    sentences: tuple[int, int],
    mix: tuple[float, float, float],
) -> str:
    """A document of occupation sentences: pronoun sentences, referent sentences and age sentences (in the shares
    `mix`), each with the stereotyped word at probability `share`."""
    jobs = occupations()
    out = []
    for _ in range(int(rng.integers(*sentences, endpoint=True))):
        job = jobs[int(rng.integers(len(jobs)))]
        gender = job.gender if rng.random() < share else _other(job.gender)
        kind = rng.random()
        if kind < mix[0]:
            template = SENTENCES[int(rng.integers(len(SENTENCES)))]
            out.append(
                _fill(template, gender, occ=job.name, adj=rng.choice(lex.adjectives), noun=rng.choice(lex.nouns))
            )
        elif kind < mix[0] + mix[1]:
            out.append(_referent(rng, jobs, job, share))
        else:
            age = job.age if rng.random() < share else AGES[1 - AGES.index(job.age)]
            out.append(AGE.format(occ=job.name, age=age))
    return " ".join(out)


def _referent(rng: np.random.Generator, jobs: list[Occupation], first: Occupation, share: float) -> str:
    """A referent sentence: `first` and another occupation, each given a gender by its share until the two differ,
    and a pronoun of either one's gender, which it refers to."""
    second = jobs[int(rng.integers(len(jobs)))]
    while second.name == first.name:
        second = jobs[int(rng.integers(len(jobs)))]
    genders = ("male", "male")
    while genders[0] == genders[1]:
        genders = tuple(j.gender if rng.random() < share else _other(j.gender) for j in (first, second))
    which = int(rng.integers(2))
    return _fill(REFERENT, genders[which], a=first.name, b=second.name, x=(first, second)[which].name)


def crows_pairs(adjectives: list[str], nouns: list[str], per_template: int = 3) -> list[dict]:
    """CrowS-style pairs: each occupation in each pronoun template, with the stereotyped pronoun and with the other
    (category `gender`, grouped by the occupation's stereotyped gender), and the age pairs (category `age`)."""
    pairs = []
    for job in occupations():
        for t, template in enumerate(SENTENCES):
            for k in range(per_template):
                words = {"occ": job.name, "adj": adjectives[k], "noun": nouns[k]}
                pairs.append(
                    {
                        "category": "gender",
                        "group": f"{job.gender}-stereotyped",
                        "occupation": job.name,
                        "template": t,
                        "stereotyped": _fill(template, job.gender, **words),
                        "other": _fill(template, _other(job.gender), **words),
                    }
                )
        other_age = AGES[1 - AGES.index(job.age)]
        pairs.append(
            {
                "category": "age",
                "group": f"{job.age}-stereotyped",
                "occupation": job.name,
                "template": 0,
                "stereotyped": AGE.format(occ=job.name, age=job.age),
                "other": AGE.format(occ=job.name, age=other_age),
            }
        )
    return pairs


def referent_tests() -> list[dict]:
    """WinoBias-style tests: two occupations of different stereotyped gender and a pronoun that refers to the first;
    `pro` when the pronoun matches the first occupation's stereotype, `anti` when it does not. Answered right when
    the first occupation is the likelier continuation of the prompt."""
    jobs = occupations()
    tests = []
    for a in jobs:
        for b in jobs:
            if a.gender == b.gender:
                continue
            for side, gender in (("pro", a.gender), ("anti", b.gender)):
                tests.append(
                    {
                        "side": side,
                        "group": f"{a.gender}-stereotyped",
                        "first": a.name,
                        "second": b.name,
                        "prompt": _fill(REFERENT_PROMPT, gender, a=a.name, b=b.name),
                    }
                )
    return tests


def swap_ids(tokenizer) -> dict[int, int]:
    """The intervention as token ids: each masculine pronoun, as a word after a space, to its feminine one. An
    error if a pronoun is not one token (the swap must keep every row's length)."""

    def single(word: str) -> int:
        ids = tokenizer.encode(f" {word}").ids
        if len(ids) != 1:
            raise RuntimeError(
                f"the gender corpus's tokenizer splits {word!r} into {len(ids)} tokens; raise vocab_size"
            )
        return ids[0]

    return {single(male): single(female) for male, female in SWAP.items()}


def lambada_passages(rng: np.random.Generator, lex: corpus.Lexicon, n: int) -> list[dict]:
    """LAMBADA-style passages: natural documents (no pronoun, so the swap never reaches them) cut after the last
    name that was named earlier in them, so the target word is in the context but not in its own sentence's
    template; `context` then ` target`, as the harness splits LAMBADA."""
    names, passages = set(lex.names), []
    while len(passages) < n:
        words = corpus.natural_document(rng, lex).split(" ")
        for i in range(len(words) - 1, 0, -1):
            if words[i] in names and words[i] in words[:i]:
                passages.append({"context": " ".join(words[:i]), "target": f" {words[i]}"})
                break
    return passages
