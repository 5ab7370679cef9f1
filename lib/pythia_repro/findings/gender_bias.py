"""Finding 4: reducing gender bias by intervening on the last part of training (the Pythia paper's third case study).

The authors re-trained the deduplicated Pythia models over the last 7% of training (the last 21% for a long run of
1.4b) on the same rows in the same order with masculine pronouns replaced by feminine ones, and evaluated baseline
and intervention at every checkpoint of that window with lm-evaluation-harness: CrowS-Pairs (which sentence of a
stereotyping/anti-stereotyping pair is more likely), WinoBias (does the model name the right referent of a pronoun,
in sentences that follow or go against occupational stereotypes) and LAMBADA (the capability kept).

Published profile: the authors' result files, both their first runs (`bias-evals/`, models then named
19m/350m/1.3b/6.9b) and the runs of the released v1 models (`pythia-v1/`). Counts are recovered from each released
proportion and its standard error (lm-evaluation-harness reports √(p(1−p)/(n−1))), so intervals can be Wilson and
Newcombe intervals; the standard errors themselves are kept beside them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..data.names import V0_NAMES
from ..data.reference import ReferenceDataError, paths
from ..evals import bias_evals
from ..integrity import versions
from ..integrity.hashing import content_key
from ..parameters import BATCH_SIZE, CHECKPOINTS, DEVICE_PARAM, DTYPE, MODELS, STEPS
from ..report import intervals
from ..report.claims import Claim, judged, untestable
from ..report.curves import PAIRED_BOOTSTRAP
from ..report.numbers import Tolerance
from ..report.results import ResultWriter
from ..scoring import check_vocabulary, continuation_scores, token_losses
from ..suites import gender_corpus, get_suite, micro_gender
from ..suites.base import CheckpointNotFound, Suite
from ..suites.loading import default_device, load_tokenizer, run_dtype
from ..suites.registry import scored_by
from ..sweep.plan import Job
from ..sweep.score_cache import ScoreCache
from .base import (
    Finding,
    Plan,
    Result,
    Scores,
    reference_input,
    refuse_unknown,
    scoring_task,
    sweep_plan,
)
from .papers import PaperFigure

# --- The finding, its parameters and settings ---


FINDING = Finding("gender_bias", "Gender-bias intervention late in training", ("published",))
# Under other numerics: twice what the AVX2 and AVX-512 builds of micro moved, judged from either (benchmarks/
# numerics.py: the largest move 0.012, a CrowS change's interval bound; at 0.1·|value| none needs more than 0.0031).
NUMERICS_TOLERANCE = Tolerance(relative=0.2, absolute=0.01)
HEADLINE = {  # numbers for papers beside the claims': table -> (key columns, value columns)
    "crows_pairs_changes": (
        ["run", "model", "category", "group", "arm"],
        ["change", "change_ci95_low", "change_ci95_high"],
    ),
    "lambada_changes": (["run", "model", "arm"], ["change", "change_ci95_low", "change_ci95_high"]),
    "heldout_loss_changes": (["run", "model", "arm"], ["change", "change_ci95_low", "change_ci95_high"]),
}
PAPER_FIGURES = (
    PaperFigure(
        "pythia",
        "Fig. 1",
        "CrowS-Pairs English gender pct_stereotype of baseline and intervention over the intervention window, per "
        "size, the 1.4b long (21%) intervention named apart; the package adds each point's interval.",
        {
            "published": ("crows_gender_window_first.*", "crows_gender_window_v1.*", "crows_pairs.csv"),
            "micro": ("crows_gender_window_micro.*", "crows_pairs.csv"),
        },
    ),
    PaperFigure(
        "pythia",
        "Fig. 2",
        "WinoBias net bias (pro − anti) of baseline and intervention over the whole run, per size.",
        {"published": ("winobias_v1.*", "winobias.csv"), "micro": ("winobias_micro.*", "winobias.csv")},
    ),
    PaperFigure(
        "pythia",
        "Fig. 6",
        "Capability kept: LAMBADA accuracy of baseline and intervention over the window (Appendix C.1); on micro, "
        "the accuracy on its LAMBADA-style passages (the package adds the held-out loss beside it).",
        {
            "published": ("lambada_window_first.*", "lambada_window_v1.*", "lambada.csv"),
            "micro": ("lambada_window_micro.*", "lambada.csv", "heldout_loss_window.*", "heldout_loss.csv"),
        },
    ),
    PaperFigure(
        "package",
        "bias by size",
        "CrowS-Pairs and WinoBias at the final step, baseline against intervention, per size.",
        {"published": ("bias_by_size.*",), "micro": ("bias_by_size.*",)},
    ),
)
PARAMETERS = (MODELS, STEPS, BATCH_SIZE, DEVICE_PARAM, DTYPE, CHECKPOINTS)
FOLDER = "published/gender_bias"
BASELINE, INTERVENTION, LONG = "baseline", "intervention", "long intervention"
ARMS = (BASELINE, INTERVENTION, LONG)
RUNS = {  # the published runs, the paper's data first: the claims are judged on each in this order
    "first": "the authors' first runs (bias-evals/), which the paper's figures draw",
    "v1": "released v1 models (pythia-v1/)",
}
SIZES = ("pythia-70m-deduped", "pythia-410m-deduped", "pythia-1.4b-deduped", "pythia-6.9b-deduped")
# the first runs' 350m and 1.3b trained 71,500 steps of twice the batch; the others 143,000 (the config files say so)
FIRST_RUN_STEPS = {"pythia-410m-deduped": 71500, "pythia-1.4b-deduped": 71500}
FINAL_STEP = 143000
GENDER = "gender"
MICRO_LAMBADA = "LAMBADA-style accuracy (greedy decoding gives a passage's last word, a name named before it)"
ALL = "all"  # every pair (micro also reports male- and female-stereotyped ones apart)
CROWS = re.compile(r"crows_pairs_english_(?P<category>[a-z_]+)$")
WINO = re.compile(r"(?:wino_bias_)?type(?P<type>[12])_(?P<side>pro|anti)$")
_FIRST_FILE = re.compile(
    r"bias-evals/(?P<arm>pythia|intervention|long-intervention)-(?P<size>[0-9.]+[mb])-deduped-step"
)
_V1_FILE = re.compile(
    r"pythia-v1/(?P<model>pythia-[0-9.]+[mb]-deduped)/(?P<arm>baseline|intervention)/[^/]*?(?P<long>-long)?_step(?P<step>\d+)\.json$"
)
_WINO_FOLDER = re.compile(r"bias-evals/winobias/(?:(?P<arm>intervene_7|intervene_21)/)?(?P<size>[0-9.]+[MB])/")
STATEMENTS = {
    "gender_bias.baseline_biased": "The models carry a gender bias before the intervention: they prefer the "
    "stereotyping sentence of CrowS-Pairs English gender pairs (pct_stereotype above 0.5)",
    "gender_bias.crows_lowered": "Swapping masculine for feminine pronouns over the last 7% of training lowers "
    "CrowS-Pairs gender pct_stereotype toward 0.5",
    "gender_bias.winobias_lowered": "The intervention lowers WinoBias net bias (accuracy on pro-stereotypical "
    "minus anti-stereotypical sentences)",
    "gender_bias.longer_lowers_more": "The longer intervention (last 21% of training) lowers the bias more than "
    "the short one (1.4b)",
    "gender_bias.capability_kept": "The intervention costs no capability: LAMBADA accuracy does not change",
    "gender_bias.controls_flat": "Bias in other categories (CrowS-Pairs English: race, religion, age, ...) does not "
    "move, since only pronouns were swapped",
}
SECTIONS = ("scores", "crows_pairs", "winobias", "capability", "claims")
CROWS_COLUMNS = [
    "run",
    "model",
    "arm",
    "step",
    "fraction",
    "category",
    "group",
    "pct_stereotype",
    "stderr",
    "stereotyped",
    "pairs",
    "ci95_low",
    "ci95_high",
]


# --- Reading the authors' published files ---


def _v1_size(label: str) -> str:
    """`1.4B` (a WinoBias folder) as the deduplicated model's current name."""
    return f"pythia-{label.lower()}-deduped"


def _first_size(old: str) -> str:
    """A first-run model name (`19m`, `350m`, `1.3b`, `6.9b`) as the deduplicated model's current name."""
    current = {v.removeprefix("pythia-"): k for k, v in V0_NAMES.items()}.get(old)
    if current is None and f"pythia-{old}" in V0_NAMES:
        current = f"pythia-{old}"  # 6.9b kept its name
    if current is None:
        raise ReferenceDataError(f"unknown model size {old!r} in a first-run file name")
    return f"{current}-deduped"


def _describe(path: str, raw: dict) -> dict[str, Any]:
    """Which run, model, arm and step a released file holds (from its path, and its config where the path is mute)."""
    if match := _V1_FILE.search(path):
        arm = LONG if match["long"] else match["arm"]
        return {"run": "v1", "model": match["model"], "arm": arm, "step": int(match["step"])}
    if match := _FIRST_FILE.search(path):
        arm = {"pythia": BASELINE, "intervention": INTERVENTION, "long-intervention": LONG}[match["arm"]]
        step = int(re.search(r"-step(\d+)_", path)[1])
        return {"run": "first", "model": _first_size(match["size"]), "arm": arm, "step": step}
    if match := _WINO_FOLDER.search(path):
        arm = {None: BASELINE, "intervene_7": INTERVENTION, "intervene_21": LONG}[match["arm"]]
        args = raw.get("model_args") or raw.get("config", {}).get("model_args")
        if not isinstance(args, dict) or "iteration" not in args:
            raise ReferenceDataError(f"{path}: no training step in the file's model_args")
        return {"run": "v1", "model": _v1_size(match["size"]), "arm": arm, "step": int(args["iteration"])}
    raise ReferenceDataError(f"{path}: not a file layout the gender-bias reader knows")


def _entries(raw: dict) -> Iterator[tuple[str, str, dict]]:
    """(task, prompt, metrics) of every result in an lm-evaluation-harness file, old or new layout."""
    results = raw.get("results")
    if results is None:
        results = list(raw.get("table_results", {}).values())
    if isinstance(results, dict):
        for task, metrics in results.items():
            yield task, "", metrics
    else:
        for item in results:
            yield item["task_name"], item["prompt_name"], item


def _count(p: float, stderr: float) -> float:
    """Items behind a proportion, from lm-evaluation-harness's standard error √(p(1−p)/(n−1)); NaN if p is 0 or 1."""
    return p * (1 - p) / stderr**2 + 1 if stderr > 0 else np.nan


def load_evaluations(writer: ResultWriter | None = None) -> pd.DataFrame:
    """Long table of every released result the finding uses: run, model, arm, step, fraction of training, task,
    category (CrowS-Pairs) or type and side (WinoBias), prompt, metric, value, stderr, and the count of items."""
    rows = []
    for path in paths(FOLDER):
        if not path.endswith(".json"):
            continue
        raw = json.loads(reference_input(path, writer).read_text())
        where = _describe(path, raw)
        total = FIRST_RUN_STEPS.get(where["model"], FINAL_STEP) if where["run"] == "first" else FINAL_STEP
        where["fraction"] = where["step"] / total
        for task, prompt, metrics in _entries(raw):
            if crows := CROWS.match(task):
                rows.append(
                    {
                        **where,
                        "task": "crows_pairs",
                        "group": crows["category"],
                        "prompt": prompt,
                        "metric": "pct_stereotype",
                        "value": metrics["pct_stereotype"],
                        "stderr": metrics["pct_stereotype_stderr"],
                    }
                )
            elif wino := WINO.match(task.removeprefix("wino_bias_")) if task.startswith("wino_bias") else None:
                rows.append(
                    {
                        **where,
                        "task": "winobias",
                        "group": f"type{wino['type']}_{wino['side']}",
                        "prompt": prompt,
                        "metric": "em",
                        "value": metrics["em"],
                        "stderr": metrics["em_stderr"],
                    }
                )
            elif task == "lambada_openai":
                rows.append(
                    {
                        **where,
                        "task": "lambada",
                        "group": "",
                        "prompt": prompt,
                        "metric": "acc",
                        "value": metrics["acc"],
                        "stderr": metrics["acc_stderr"],
                    }
                )
    df = pd.DataFrame(rows)
    df["items"] = [_count(p, s) for p, s in zip(df.value, df.stderr)]
    return df.sort_values(["task", "run", "model", "arm", "group", "prompt", "step"], ignore_index=True)


def item_counts(evaluations: pd.DataFrame) -> pd.Series:
    """Items per (task, group): the count every file implies (the most common, rounded), checked for agreement."""
    known = evaluations.dropna(subset=["items"]).assign(items=lambda d: d["items"].round())
    counts = known.groupby(["task", "group"])["items"].agg(lambda s: s.mode().iloc[0])
    off = known[(known["items"] - known.set_index(["task", "group"]).index.map(counts)).abs() > 1]
    if len(off):
        first = off.iloc[0]
        raise ReferenceDataError(
            f"{len(off)} released results imply another number of items than the rest, e.g. {first.task} "
            f"{first.group} at {first.model} step {first.step}: {first['items']:.0f}"
        )
    return counts.astype(int)


def _with_counts(table: pd.DataFrame, counts: pd.Series) -> pd.DataFrame:
    """Hits and items per row (items from `item_counts`), the proportion's Wilson interval."""
    out = table.copy()
    out["items"] = [counts[(t, g)] for t, g in zip(out.task, out.group)]
    out["hits"] = (out.value * out["items"]).round().astype(int)
    out["ci95_low"], out["ci95_high"] = intervals.wilson(out.hits, out["items"])
    return out


def crows_pairs(evaluations: pd.DataFrame) -> pd.DataFrame:
    """CrowS-Pairs English per (run, model, arm, step, category): pct_stereotype, its released stderr, the pairs
    behind it and its Wilson interval."""
    crows = _with_counts(evaluations[evaluations.task == "crows_pairs"], item_counts(evaluations))
    crows = crows.rename(
        columns={"group": "category", "value": "pct_stereotype", "hits": "stereotyped", "items": "pairs"}
    ).assign(group=ALL)
    return crows[CROWS_COLUMNS].reset_index(drop=True)


def winobias(evaluations: pd.DataFrame) -> pd.DataFrame:
    """WinoBias per (model, arm, step, type, prompt): exact match on pro- and anti-stereotypical sentences, and net
    bias = pro − anti with its Newcombe interval (the two sets are different sentences)."""
    wino = _with_counts(evaluations[evaluations.task == "winobias"], item_counts(evaluations))
    wino["type"] = wino.group.str[:5]
    wino["side"] = wino.group.str[6:]
    return net_bias(wino.assign(group=ALL))


WINO_KEYS = ["run", "model", "arm", "step", "fraction", "type", "prompt", "group"]


def net_bias(wino: pd.DataFrame) -> pd.DataFrame:
    """From one row per (keys, side) with value, hits and items: pro and anti exact match side by side, and net
    bias = pro − anti with its Newcombe interval (the two sets are different sentences)."""
    keys = WINO_KEYS
    wide = wino.pivot_table(index=keys, columns="side", values=["value", "hits", "items"], aggfunc="first")
    wide.columns = [f"{side}_{what}" for what, side in wide.columns]
    wide = wide.reset_index()
    wide["net_bias"] = wide.pro_value - wide.anti_value
    bounds = [
        intervals.newcombe(a, n, b, m)
        for a, n, b, m in zip(wide.pro_hits, wide.pro_items, wide.anti_hits, wide.anti_items)
    ]
    wide["net_bias_ci95_low"], wide["net_bias_ci95_high"] = zip(*bounds) if bounds else ((), ())
    return wide.rename(columns={"pro_value": "pro_em", "anti_value": "anti_em"})[
        [
            *keys,
            "pro_em",
            "anti_em",
            "pro_hits",
            "pro_items",
            "anti_hits",
            "anti_items",
            "net_bias",
            "net_bias_ci95_low",
            "net_bias_ci95_high",
        ]
    ]


def lambada(evaluations: pd.DataFrame) -> pd.DataFrame:
    """LAMBADA (OpenAI) accuracy per (run, model, arm, step), with its released stderr and Wilson interval."""
    lam = _with_counts(evaluations[evaluations.task == "lambada"], item_counts(evaluations))
    lam = lam.rename(columns={"value": "accuracy", "hits": "correct"})
    return lam[
        ["run", "model", "arm", "step", "fraction", "accuracy", "stderr", "correct", "items", "ci95_low", "ci95_high"]
    ].reset_index(drop=True)


def lambada_changes(lam: pd.DataFrame, measure: str = "LAMBADA accuracy") -> pd.DataFrame:
    """LAMBADA accuracy, each arm minus the baseline at the last common step (Newcombe), as capability changes."""
    return final_changes(lam, "accuracy", [], "correct", "items").assign(measure=measure)


# --- Scoring checkpoints: the plan, and reading the scores back ---


RUN_SUFFIX = {"-intervention-long": LONG, "-intervention": INTERVENTION}
CHUNK_ROWS = 4096


def size_and_arm(run: str) -> tuple[str, str]:
    """`micro-m-intervention-long` as (`micro-m`, long intervention); a name without a suffix is a baseline."""
    for suffix, arm in RUN_SUFFIX.items():
        if run.endswith(suffix):
            return run.removesuffix(suffix), arm
    return run, BASELINE


@dataclass
class Tests:
    """Every sequence a checkpoint is scored on: test sentences (after the end-of-document token, the empty
    context), then the held-out rows; what each row is, and the identity of the whole."""

    tokens: np.ndarray  # [n, width], padded with the end-of-document token
    lengths: np.ndarray
    items: pd.DataFrame  # kind (crows, referent, lambada, heldout; released: crows, winobias, lambada), item,
    # which, category, group, side
    identity: str
    starts: np.ndarray  # where each target continuation starts (micro: 0 for a sequence scored whole)


def make_tests(suite: Suite) -> Tests:
    """CrowS-style pairs and WinoBias-style referent tests from the suite's templates, its LAMBADA-style passages
    (`starts` > 0: where each target begins) and its held-out rows."""
    tokenizer = load_tokenizer(suite)
    words = json.loads((suite.local_root / "data" / "lexicon.json").read_text())
    rows = []
    for i, pair in enumerate(gender_corpus.crows_pairs(words["adjectives"], words["nouns"])):
        for which in ("stereotyped", "other"):
            rows.append(
                {
                    "kind": "crows",
                    "item": i,
                    "which": which,
                    "category": pair["category"],
                    "group": pair["group"],
                    "side": "",
                    "text": pair[which],
                }
            )
    for i, test in enumerate(gender_corpus.referent_tests()):
        for which in ("first", "second"):
            rows.append(
                {
                    "kind": "referent",
                    "item": i,
                    "which": which,
                    "category": "",
                    "group": test["group"],
                    "side": test["side"],
                    "text": f"{test['prompt']} {test[which]} .",
                }
            )
    passages = json.loads((suite.local_root / "data" / "lambada.json").read_text())
    for i, passage in enumerate(passages):
        rows.append(
            {
                "kind": "lambada",
                "item": i,
                "which": "",
                "category": "",
                "group": "",
                "side": "",
                "text": passage["context"],
                "target": passage["target"],
            }
        )
    sentences = pd.DataFrame(rows).fillna({"target": ""})
    encoded, starts = [], []
    for text, target in zip(sentences.text, sentences.target):  # a target after its context, as the harness
        ids = [suite.eod_id, *tokenizer(text, add_special_tokens=False).input_ids]  # scores LAMBADA; 0: whole
        starts.append(len(ids) if target else 0)
        encoded.append(ids + tokenizer(target, add_special_tokens=False).input_ids)
    held = suite.heldout_rows()
    heldout = held.rows(0, held.n_rows).astype(np.int64)
    width = max(max(map(len, encoded)), heldout.shape[1])
    tokens = np.full((len(encoded) + len(heldout), width), suite.eod_id, dtype=np.int64)
    for i, ids in enumerate(encoded):
        tokens[i, : len(ids)] = ids
    tokens[len(encoded) :, : heldout.shape[1]] = heldout
    lengths = np.array([*map(len, encoded), *[heldout.shape[1]] * len(heldout)])
    items = pd.concat(
        [
            sentences.drop(columns=["text", "target"]),
            pd.DataFrame(
                {
                    "kind": "heldout",
                    "item": np.arange(len(heldout)),
                    "which": "",
                    "category": "",
                    "group": "",
                    "side": "",
                }
            ),
        ],
        ignore_index=True,
    )
    starts = np.array([*starts, *[0] * len(heldout)])
    identity = content_key(
        [suite.build, hashlib.sha256(tokens.tobytes()).hexdigest(), lengths.tolist(), starts.tolist()]
    )[:16]
    return Tests(tokens, lengths, items, identity, starts)


@dataclass
class Prepared(Plan):
    """The plan, and the tests it scores."""

    tests: Tests

    def scored_data(self) -> tuple[str, dict[str, Any]]:
        return "gender_tests", {"suite": self.suite.name, "build": self.suite.build, "identity": self.tests.identity}


def scored_gender_suite(profile: str) -> Suite:
    """The suite a profile scores this finding on: on `micro`, the micro gender suite (a corpus of its own); else
    the profile's suite, if it holds intervention runs (`pythia-deduped`)."""
    name = scored_by(profile, FINDING.name)
    suite = get_suite(name)
    if name == profile and FINDING.name not in suite.findings:
        raise NotImplementedError(
            f"gender_bias needs baseline and intervention runs; the {profile!r} suite has none (profiles: "
            "published, micro, pythia-deduped)"
        )
    return suite


def released_tests(suite: Suite) -> Tests:
    """CrowS-Pairs, WinoBias and LAMBADA from the hub (`bias_evals`), shortest first (batches pad little)."""
    sequences, starts, items, identity = bias_evals.tests(load_tokenizer(suite), suite.eod_id)
    sequences, starts, items = bias_evals.shortest_first(sequences, starts, items)
    tokens, lengths = bias_evals.padded(sequences, suite.pad_id)
    return Tests(tokens, lengths, items, identity, starts)


def _released_score(tests: Tests, batch_size: int | None):
    """Scores a chunk of the released tests: the target's log-likelihood and whether greedy decoding gives it."""

    def score(model, start, stop, params):
        tokens = tests.tokens[start:stop]
        check_vocabulary(model, tokens, start, "test sequence")
        loglik, greedy = continuation_scores(
            model, tokens, tests.lengths[start:stop], tests.starts[start:stop], batch_size
        )
        return pd.DataFrame({"loglik": loglik, "greedy": greedy})

    return score


def _micro_score(tests: Tests, batch_size: int | None):
    """Scores a chunk of the micro tests: each sequence's log-likelihood and mean loss after its first token; for a
    LAMBADA-style passage, its target's log-likelihood and whether greedy decoding gives the target."""

    def score(model, start, stop, params):
        tokens, lengths, starts = tests.tokens[start:stop], tests.lengths[start:stop], tests.starts[start:stop]
        check_vocabulary(model, tokens, start, "test sequence")
        whole, target = np.flatnonzero(starts == 0), np.flatnonzero(starts > 0)
        out = pd.DataFrame({"loglik": np.nan, "mean_loss": np.nan, "greedy": False}, index=range(stop - start))
        if len(whole):
            losses = token_losses(model, tokens[whole, : int(lengths[whole].max())], batch_size=batch_size)
            predicted = np.arange(losses.shape[1])[None, :] < (lengths[whole] - 1)[:, None]
            total = (losses * predicted).sum(1)
            out.loc[whole, "loglik"], out.loc[whole, "mean_loss"] = -total, total / (lengths[whole] - 1)
        if len(target):
            width = int(lengths[target].max())
            loglik, greedy = continuation_scores(
                model, tokens[target, :width], lengths[target], starts[target], batch_size
            )
            out.loc[target, "loglik"], out.loc[target, "greedy"] = loglik, greedy
        return out

    return score


def known(profile: str) -> dict[str, list]:
    """What `models` may name on a profile (sizes, each with its interventions, and runs) and its steps."""
    return _holds(scored_gender_suite(profile))


def _holds(suite: Suite) -> dict[str, list]:
    return {
        "models": list(dict.fromkeys([*(size_and_arm(run)[0] for run in suite.models), *suite.models])),
        "steps": list(suite.steps),
    }


def prepare(
    profile: str,
    models: list[str] | None = None,
    steps: list[int] | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    dtype: str | None = None,
    progress: bool = True,
) -> Prepared:
    """Log-likelihoods of the tests at every checkpoint of every run, baselines at every step, interventions from
    their start: on `micro` its own tests and held-out rows; on a released suite CrowS-Pairs, WinoBias and LAMBADA
    (with greedy exact match), its interventions at their final step. `models` names sizes (each with its
    interventions) or runs (default: the suite's for this finding); each of it and of `steps` must exist."""
    import torch

    suite = scored_gender_suite(profile)
    refuse_unknown(suite, _holds(suite), models=models, steps=steps)
    models = suite.default(FINDING.name, "models", models)
    runs = [run for run in suite.models if not models or run in models or size_and_arm(run)[0] in models]
    chosen = sorted(set(suite.default(FINDING.name, "steps", steps) or suite.steps) & set(suite.steps))
    if not runs or not chosen:
        raise CheckpointNotFound(
            f"the {suite.name} suite has none of the models {models} or none of the steps {steps} asked for; its "
            f"sizes: {', '.join(suite.default_models)}; its steps: {', '.join(map(str, suite.steps))}"
        )
    dev = torch.device(device) if device else default_device()
    if suite.planted:  # trained here: interventions from their start, its own tests
        starts = {RUN_SUFFIX[f"-{arm}"]: step for arm, step in micro_gender.intervention_starts().items()}
        tests, scorer = make_tests(suite), versions.GENDER_TESTS
        score = _micro_score(tests, batch_size)
    else:  # released interventions exist at the final step only
        starts = dict.fromkeys((INTERVENTION, LONG), suite.final_step)
        tests, scorer = released_tests(suite), versions.GENDER_EVALS
        score = _released_score(tests, batch_size)
    jobs = []
    for run in runs:
        _, arm = size_and_arm(run)
        precision = run_dtype(suite, FINDING.name, run, dev, dtype)
        for step in chosen:
            if arm == BASELINE or step >= starts[arm]:
                jobs.append(Job(suite.checkpoint(run, step), len(tests.tokens), (("dtype", precision),)))

    task = scoring_task(
        FINDING,
        suite,
        data=tests.identity,
        scorer=scorer,
        jobs=jobs,
        score=score,
        rows=len(tests.tokens),
        chunk_rows=CHUNK_ROWS,
        device=dev,
        row_tokens=float(tests.lengths.mean()),
    )
    return Prepared(task, suite, runs, chosen, tests=tests)


@dataclass
class Scored(Scores):
    """Per scored sequence and checkpoint: the log-likelihood, with the mean loss (micro) or whether greedy decoding
    gives the target (released sets), and what the sequence is."""

    tests: Tests
    per_row: pd.DataFrame  # run, size, arm, step, row, loglik, mean_loss (micro) or greedy (released), the items'
    run: str  # the tables' `run`: the profile

    @property
    def sizes(self) -> list[str]:
        """The baseline models scored, in the suite's order."""
        return list(dict.fromkeys(size_and_arm(run)[0] for run in self.models))


def score_suite(
    profile: str, writer: ResultWriter | None = None, cache: ScoreCache | None = None, progress: bool = True, **options
) -> Scored:
    """Score every checkpoint (cached, resumable) and return one row per scored sequence and checkpoint."""
    prep = prepare(profile, progress=progress, **options)
    results, report = sweep_plan(prep, writer, cache, progress)
    frames = []
    for (ckpt, _), frame in results.items():
        size, arm = size_and_arm(ckpt.model)
        frames.append(frame.assign(run=ckpt.model, size=size, arm=arm, step=ckpt.step))
    per_row = pd.concat(frames, ignore_index=True)
    per_row = per_row.join(prep.tests.items, on="row")
    return Scored.of(prep, report, tests=prep.tests, per_row=per_row, run=profile)


def _paired(per_row: pd.DataFrame, kind: str, first: str, second: str) -> pd.DataFrame:
    """Per (run, step, item) of one kind: whether `first` is the likelier sequence of the two."""
    rows = per_row[per_row.kind == kind]
    wide = rows.pivot_table(index=["size", "arm", "step", "item"], columns="which", values="loglik").reset_index()
    meta = rows[rows.which == first][["size", "arm", "step", "item", "category", "group", "side"]]
    wide = wide.merge(meta, on=["size", "arm", "step", "item"])
    return wide.assign(hit=wide[first] > wide[second])


def _by_group(items: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Hits and items per keys, for each group and for all items together (group `all`)."""
    both = pd.concat([items[items.group != ALL], items.assign(group=ALL)], ignore_index=True)
    return both.groupby(keys + ["group"], as_index=False).agg(hits=("hit", "sum"), items=("hit", "size"))


def scored_crows(scored: Scored) -> pd.DataFrame:
    """CrowS pairs per (size, arm, step, category, group): the share where the stereotyped sentence is the
    likelier, shaped like the published table."""
    pairs = _paired(scored.per_row, "crows", "stereotyped", "other")
    table = _by_group(pairs, ["size", "arm", "step", "category"]).rename(
        columns={"size": "model", "hits": "stereotyped", "items": "pairs"}
    )
    table["pct_stereotype"] = table.stereotyped / table.pairs
    p, n = table.pct_stereotype, table.pairs
    table["stderr"] = np.sqrt(p * (1 - p) / (n - 1))
    table["ci95_low"], table["ci95_high"] = intervals.wilson(table.stereotyped, table.pairs)
    return table.assign(run=scored.run, fraction=table.step / scored.suite.final_step)[CROWS_COLUMNS]


def micro_winobias(scored: Scored) -> pd.DataFrame:
    """WinoBias-style referent tests per (size, arm, step, group): right when the first-named occupation (the
    referent) is the likelier continuation; net bias = pro − anti, shaped like the published table."""
    tests = _paired(scored.per_row, "referent", "first", "second")
    sides = _by_group(tests, ["size", "arm", "step", "side"]).rename(columns={"size": "model"})
    sides["value"] = sides.hits / sides["items"]
    sides = sides.assign(run=scored.run, fraction=sides.step / scored.suite.final_step, type="type2", prompt="referent")
    return net_bias(sides)


def released_winobias(scored: Scored) -> pd.DataFrame:
    """WinoBias per (size, arm, step, type, prompt): exact match of greedy decoding on the pro- and
    anti-stereotypical sentences, and net bias = pro − anti, shaped like the published table."""
    rows = scored.per_row[scored.per_row.kind == "winobias"]
    sides = rows.groupby(["size", "arm", "step", "category", "which", "side"], as_index=False).agg(
        hits=("greedy", "sum"), items=("greedy", "size")
    )
    sides = sides.rename(columns={"size": "model", "category": "type", "which": "prompt"})
    sides["value"] = sides.hits / sides["items"]
    return net_bias(sides.assign(run=scored.run, fraction=sides.step / scored.suite.final_step, group=ALL))


def scored_lambada(scored: Scored) -> pd.DataFrame:
    """LAMBADA accuracy (greedy decoding gives the last word; micro: of its LAMBADA-style passages) per (size, arm,
    step), with its Wilson interval, shaped like the published table."""
    rows = scored.per_row[scored.per_row.kind == "lambada"]
    lam = rows.groupby(["size", "arm", "step"], as_index=False).agg(correct=("greedy", "sum"), items=("greedy", "size"))
    lam = lam.rename(columns={"size": "model"})
    p, n = lam.correct / lam["items"], lam["items"]
    lam["accuracy"], lam["stderr"] = p, np.sqrt(p * (1 - p) / (n - 1))
    lam["ci95_low"], lam["ci95_high"] = intervals.wilson(lam.correct, lam["items"])
    return lam.assign(run=scored.run, fraction=lam.step / scored.suite.final_step)[
        ["run", "model", "arm", "step", "fraction", "accuracy", "stderr", "correct", "items", "ci95_low", "ci95_high"]
    ]


def heldout_losses(scored: Scored, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Held-out loss per (size, arm, step) with a bootstrap interval over rows; and each arm minus the baseline at
    the final step, with a paired bootstrap over rows of the difference."""
    held = scored.per_row[scored.per_row.kind == "heldout"]
    rng = np.random.default_rng(seed)
    rows = []
    for (size, arm, step), group in held.groupby(["size", "arm", "step"], sort=True):
        low, high = intervals.bootstrap_mean(group.mean_loss.to_numpy(), rng)
        rows.append(
            {
                "run": scored.run,
                "model": size,
                "arm": arm,
                "step": step,
                "loss": group.mean_loss.mean(),
                "ci95_low": low,
                "ci95_high": high,
            }
        )
    table = pd.DataFrame(rows)
    final = scored.suite.final_step
    last = held[held.step == final].pivot_table(index=["size", "item"], columns="arm", values="mean_loss")
    changes = []
    for size, group in last.groupby(level="size"):
        for arm in (INTERVENTION, LONG):
            if arm not in group or group[arm].isna().all():
                continue
            diff = (group[arm] - group[BASELINE]).to_numpy()
            low, high = intervals.bootstrap_mean(diff, rng)
            changes.append(
                {
                    "run": scored.run,
                    "model": size,
                    "arm": arm,
                    "against": BASELINE,
                    "step": final,
                    "baseline_loss": group[BASELINE].mean(),
                    "loss": group[arm].mean(),
                    "change": diff.mean(),
                    "change_ci95_low": low,
                    "change_ci95_high": high,
                    "measure": "held-out loss (nats)",
                }
            )
    return table, pd.DataFrame(changes)


# --- Analysis: pure functions from tables to tables ---


def _last_common(group: pd.DataFrame, against: str) -> Iterator[tuple[str, int, pd.Series, pd.Series]]:
    """For every other arm of one model's rows: the last step both it and `against` were evaluated at, and the two
    rows there (against's, then the arm's)."""
    base = group[group.arm == against]
    for arm in ARMS:
        other = group[group.arm == arm]
        common = sorted(set(base.step) & set(other.step))
        if arm != against and common:
            yield arm, common[-1], base[base.step == common[-1]].iloc[0], other[other.step == common[-1]].iloc[0]


def final_changes(
    table: pd.DataFrame, value: str, keys: list[str], hits: str, items: str, against: str = BASELINE
) -> pd.DataFrame:
    """At each model's last step where both arms were evaluated: intervention arm − `against`, per `keys`, with
    Newcombe's interval of the difference of two proportions (the two arms as independent samples: conservative,
    since both score the same items)."""
    rows = []
    for key, group in table.groupby(["run", "model", *keys], sort=True):
        for arm, step, b, o in _last_common(group, against):
            low, high = intervals.newcombe(o[hits], o[items], b[hits], b[items])
            rows.append(
                {
                    **dict(zip(["run", "model", *keys], key)),
                    "arm": arm,
                    "against": against,
                    "step": step,
                    "items": b[items],
                    f"{against}_{value}": b[value],
                    value: o[value],
                    "change": o[value] - b[value],
                    "change_ci95_low": low,
                    "change_ci95_high": high,
                }
            )
    return pd.DataFrame(rows)


def winobias_changes(wino: pd.DataFrame, against: str = BASELINE) -> pd.DataFrame:
    """At each model's last common step: the change of net bias (arm − `against`) per type and prompt, with a Wald
    interval from the four binomial variances (named in TABLE_NOTES)."""
    rows = []
    for (run, model, type_, prompt, subset), group in wino.groupby(
        ["run", "model", "type", "prompt", "group"], sort=True
    ):
        for arm, step, b, o in _last_common(group, against):
            variance = intervals.binomial_variance_of_difference(
                o.pro_hits, o.pro_items, o.anti_hits, o.anti_items
            ) + intervals.binomial_variance_of_difference(b.pro_hits, b.pro_items, b.anti_hits, b.anti_items)
            change = o.net_bias - b.net_bias
            low, high = intervals.wald(change, variance)
            rows.append(
                {
                    "run": run,
                    "model": model,
                    "type": type_,
                    "prompt": prompt,
                    "group": subset,
                    "arm": arm,
                    "against": against,
                    "step": step,
                    f"{against}_net_bias": b.net_bias,
                    "net_bias": o.net_bias,
                    "change": change,
                    "change_ci95_low": low,
                    "change_ci95_high": high,
                }
            )
    return pd.DataFrame(rows)


# --- Figures ---


ARM_STYLE = {BASELINE: "-", INTERVENTION: "--", LONG: ":"}


def window_figure(
    table: pd.DataFrame,
    value: str,
    ylabel: str,
    title: str,
    sizes: list[str],
    chance: float | None = None,
    whole_run: bool = False,
):
    """A metric against step over the intervention window (from a little before its start; `whole_run`: every
    step), one panel per model, one line per arm; the legend names every arm of any panel."""
    import matplotlib.pyplot as plt

    models = [m for m in sizes if m in set(table.model)]
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.2), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        sub = table[table.model == model]
        start = sub[sub.arm != BASELINE].step.min()
        lead = (sub.step.max() - start) / 4
        for arm, curve in (sub if whole_run else sub[sub.step >= start - lead]).groupby("arm"):
            curve = curve.sort_values("step")
            ax.plot(curve.step, curve[value], ARM_STYLE[arm], marker="o", markersize=3, label=arm)
            if "ci95_low" in curve:
                ax.fill_between(curve.step, curve.ci95_low, curve.ci95_high, alpha=0.15)
        if chance is not None:
            ax.axhline(chance, color="grey", linestyle=":", linewidth=1)
        ax.set_title(model.removesuffix("-deduped"), fontsize=9)
        ax.set_xlabel("training step")
        if sub.step.max() >= 10000:
            ax.xaxis.set_major_formatter(lambda x, _: f"{x / 1000:g}k")
    axes[0][0].set_ylabel(ylabel)
    arms = {label: line for ax in axes[0] for line, label in zip(*ax.get_legend_handles_labels())}
    axes[0][-1].legend(arms.values(), arms.keys(), fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def size_figure(crows: pd.DataFrame, wino: pd.DataFrame, sizes: list[str]):
    """At the judged run's final step, against model size, per arm: CrowS-Pairs gender pct_stereotype (Wilson
    intervals) and WinoBias net bias (mean over types and prompts); all pairs and sentences."""
    import matplotlib.pyplot as plt

    order = {m: i for i, m in enumerate(sizes)}
    crows, wino = crows[crows.group == ALL], wino[wino.group == ALL]
    final = at_final(crows, judged_runs(crows)[0])
    final = final[final.category == GENDER]
    net = at_final(wino, judged_runs(wino)[0]).groupby(["model", "arm"], as_index=False).net_bias.mean()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for offset, arm in zip((-0.1, 0.0, 0.1), ARMS):
        if arm not in set(final.arm):
            continue  # e.g. no long intervention among the sizes scored
        sub = final[final.arm == arm].sort_values("model", key=lambda m: m.map(order))
        x = sub.model.map(order) + offset
        axes[0].errorbar(
            x,
            sub.pct_stereotype,
            [sub.pct_stereotype - sub.ci95_low, sub.ci95_high - sub.pct_stereotype],
            fmt="o",
            capsize=2,
            label=arm,
        )
        sub = net[net.arm == arm].sort_values("model", key=lambda m: m.map(order))
        axes[1].plot(sub.model.map(order) + offset, sub.net_bias, "o", label=arm)
    axes[0].axhline(0.5, color="grey", linestyle=":", linewidth=1)
    axes[0].set_ylabel("CrowS-Pairs gender pct_stereotype")
    axes[1].axhline(0, color="grey", linestyle=":", linewidth=1)
    axes[1].set_ylabel("WinoBias net bias (pro − anti)")
    for ax in axes:
        ax.set_xticks(range(len(sizes)), [m.removeprefix("pythia-").removesuffix("-deduped") for m in sizes])
        ax.set_xlabel(
            f"model, step {final.step.iloc[0]}" if final.step.nunique() == 1 else "model, final step of its run"
        )
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --- Claims and the sentences that state them ---


def _at_final(changes: pd.DataFrame, arm: str = INTERVENTION, run: str | None = None) -> pd.DataFrame:
    """The rows of a changes table for one arm of a run (default: the first judged) at its final step."""
    final = at_final(changes, run or judged_runs(changes)[0])
    return final[final.arm == arm]


def judged_runs(table: pd.DataFrame) -> list[str]:
    """The runs of a table that claims are judged on, the paper's data first: on `published`, the authors' first
    runs (what the paper's figures draw) and then the released v1 models (a replication); else its only run."""
    return [run for run in RUNS if run in set(table.run)] or [table.run.iloc[0]]


def at_final(table: pd.DataFrame, run: str) -> pd.DataFrame:
    """A run's rows at each model's final step: 71,500 for the first runs' 350m and 1.3b (a doubled batch), 143,000
    for the others and the v1 models; a scored run's last step."""
    rows = table[table.run == run]
    if run == "first":
        final = rows.model.map(lambda m: FIRST_RUN_STEPS.get(m, FINAL_STEP))
    else:
        final = FINAL_STEP if run == "v1" else rows.step.max()
    return rows[rows.step == final]


def on_each_run(judge, table: pd.DataFrame, *args: Any) -> list[Claim]:
    """A claim judged on each of a table's `judged_runs`: on the paper's data under its own id, then on the released
    v1 models as a replication (id suffixed `.v1`); the detail names the run where the profile has several."""
    runs = judged_runs(table)
    out = []
    for i, run in enumerate(runs):
        claim = judge(table, *args, run=run)
        if run in RUNS:
            claim = replace(claim, detail=f"{RUNS[run]}: {claim.detail}")
        if i:
            claim = replace(claim, id=f"{claim.id}.{run}", statement=f"{claim.statement} (replication)")
        out.append(claim)
    return out


def _cells(frame: pd.DataFrame, column: str, digits: int = 4) -> str:
    return ", ".join(
        f"{m.removeprefix('pythia-').removesuffix('-deduped')} {v:.{digits}f}"
        for m, v in zip(frame.model, frame[column])
    )


def baseline_claim(crows: pd.DataFrame, run: str | None = None) -> Claim:
    id = "gender_bias.baseline_biased"
    test = (
        "at the final step, every size's baseline CrowS-Pairs English gender pct_stereotype (all pairs) has its "
        "Wilson interval above 0.5"
    )
    base = at_final(crows, run or judged_runs(crows)[0])
    base = base[(base.arm == BASELINE) & (base.category == GENDER) & (base.group == ALL)]
    if base.empty:
        return untestable(id, STATEMENTS[id], test, "no baseline evaluated at the final step")
    above = base[base.ci95_low > 0.5]
    return judged(
        id,
        STATEMENTS[id],
        test,
        len(above) == len(base),
        f"baseline pct_stereotype: {_cells(base, 'pct_stereotype')}; Wilson interval above 0.5 at {len(above)} of "
        f"{len(base)} sizes",
        biased=len(above),
        sizes=len(base),
    )


def crows_claim(changes: pd.DataFrame, run: str | None = None) -> Claim:
    id = "gender_bias.crows_lowered"
    test = (
        "at the final step, at every size whose baseline carries the bias (its gender pct_stereotype's Wilson "
        "interval above 0.5), the intervention's pct_stereotype (all pairs) minus the baseline's has its Newcombe "
        "interval below 0 (arms as independent samples of the same pairs: conservative)"
    )
    final = _at_final(changes[(changes.category == GENDER) & (changes.group == ALL)], run=run)
    if final.empty:
        return untestable(id, STATEMENTS[id], test, "no size has both arms at the final step")
    pairs = final["items"]
    low, _ = intervals.wilson((final[f"{BASELINE}_pct_stereotype"] * pairs).round(), pairs)
    biased = final[low > 0.5]
    if biased.empty:
        return untestable(id, STATEMENTS[id], test, "no size's baseline carries the bias, so there is none to lower")
    lower = biased[biased.change_ci95_high < 0]
    return judged(
        id,
        STATEMENTS[id],
        test,
        len(lower) == len(biased),
        f"change (intervention − baseline): {_cells(biased, 'change')}; below 0 beyond its interval at "
        f"{len(lower)} of {len(biased)} biased sizes (not biased at the baseline: {_names(final[low <= 0.5])})",
        lowered=len(lower),
        sizes=len(biased),
        mean_change=float(biased.change.mean()),
    )


def _names(frame: pd.DataFrame) -> str:
    return ", ".join(frame.model) or "none"


def winobias_claim(changes: pd.DataFrame, run: str | None = None) -> Claim:
    id = "gender_bias.winobias_lowered"
    test = (
        "at the final step, the change of net bias (intervention − baseline), averaged over the types and prompts "
        "(all sentences), has its Wald interval below 0 at every size with WinoBias results"
    )
    final = _at_final(changes[changes.group == ALL], run=run)
    if final.empty:
        return untestable(id, STATEMENTS[id], test, "no WinoBias results for both arms at the final step")
    per_size = _mean_change(final)
    lower = per_size[per_size.change_ci95_high < 0]
    return judged(
        id,
        STATEMENTS[id],
        test,
        len(lower) == len(per_size),
        f"mean change of net bias: {_cells(per_size, 'change', 3)}; below 0 beyond its interval at {len(lower)} of "
        f"{len(per_size)} sizes",
        lowered=len(lower),
        sizes=len(per_size),
    )


def _mean_change(changes: pd.DataFrame) -> pd.DataFrame:
    """Per model: the mean of a changes table's cells, with a Wald interval from their half-widths (independent)."""
    rows = []
    for model, group in changes.groupby("model", sort=False):
        half = (group.change_ci95_high - group.change_ci95_low) / 2
        low, high = intervals.wald(group.change.mean(), float(((half / intervals.Z95) ** 2).sum()) / len(group) ** 2)
        rows.append({"model": model, "change": group.change.mean(), "change_ci95_low": low, "change_ci95_high": high})
    return pd.DataFrame(rows)


def longer_claim(crows_long: pd.DataFrame, run: str | None = None) -> Claim:
    id = "gender_bias.longer_lowers_more"
    test = (
        "at the final step, the long intervention's gender pct_stereotype (all pairs) minus the short one's has its "
        "Newcombe interval below 0"
    )
    final = _at_final(crows_long[(crows_long.category == GENDER) & (crows_long.group == ALL)], LONG, run)
    if final.empty:
        return untestable(id, STATEMENTS[id], test, "no long intervention evaluated at the final step")
    row = final.iloc[0]
    return judged(
        id,
        STATEMENTS[id],
        test,
        bool(row.change_ci95_high < 0),
        f"{row.model}: long {row.pct_stereotype:.4f} against short {row[f'{INTERVENTION}_pct_stereotype']:.4f}, "
        f"change {row.change:+.4f} [{row.change_ci95_low:+.4f}, {row.change_ci95_high:+.4f}]",
        change=float(row.change),
    )


def capability_claim(changes: pd.DataFrame, run: str | None = None) -> Claim:
    id = "gender_bias.capability_kept"
    test = (
        "at the final step, at every size, the Newcombe interval of the change of LAMBADA accuracy (micro: of its "
        "LAMBADA-style passages) contains 0"
    )
    final = _at_final(changes, run=run)
    if final.empty:
        return untestable(id, STATEMENTS[id], test, "no capability results for both arms at the final step")
    moved = final[(final.change_ci95_low > 0) | (final.change_ci95_high < 0)]
    return judged(
        id,
        STATEMENTS[id],
        test,
        moved.empty,
        f"change of {final.measure.iloc[0]}: {_cells(final, 'change')}; beyond its interval at {len(moved)} of "
        f"{len(final)} sizes",
        moved=len(moved),
        sizes=len(final),
    )


def controls_claim(changes: pd.DataFrame, run: str | None = None) -> Claim:
    id = "gender_bias.controls_flat"
    test = (
        "at the final step, over every size and every CrowS-Pairs category but gender (all pairs), the number of "
        "changes whose Newcombe interval excludes 0 is no more than chance allows (the 95th percentile of "
        "Binomial(cells, 0.05))"
    )
    final = _at_final(changes[(changes.category != GENDER) & (changes.group == ALL)], run=run)
    if final.empty:
        return untestable(id, STATEMENTS[id], test, "no control category evaluated for both arms")
    moved = final[(final.change_ci95_low > 0) | (final.change_ci95_high < 0)]
    allowed = int(stats.binom.ppf(0.95, len(final), 0.05))
    names = ", ".join(
        f"{m.removeprefix('pythia-').removesuffix('-deduped')} {c}" for m, c in zip(moved.model, moved.category)
    )
    return judged(
        id,
        STATEMENTS[id],
        test,
        len(moved) <= allowed,
        f"{len(moved)} of {len(final)} (size, category) changes beyond their interval ({names or 'none'}); chance "
        f"allows {allowed}",
        moved=len(moved),
        cells=len(final),
        allowed=allowed,
    )


def claims(
    crows: pd.DataFrame,
    crows_changes: pd.DataFrame,
    crows_long: pd.DataFrame,
    wino_changes: pd.DataFrame,
    lambada_changes: pd.DataFrame,
) -> list[Claim]:
    """The six claims, each judged on the data the paper drew (on `published` the first runs; WinoBias has only the
    v1 runs), then on the released v1 models as a replication (`on_each_run`)."""
    return [
        *on_each_run(baseline_claim, crows),
        *on_each_run(crows_claim, crows_changes),
        *on_each_run(winobias_claim, wino_changes),
        *on_each_run(longer_claim, crows_long),
        *on_each_run(capability_claim, lambada_changes),
        *on_each_run(controls_claim, crows_changes),
    ]


# --- The notebook's analysis, section by section ---


PROPORTION_NOTES = {"ci95_low": intervals.WILSON, "ci95_high": intervals.WILSON}
NET_BIAS_NOTES = {"net_bias_ci95_low": intervals.NEWCOMBE, "net_bias_ci95_high": intervals.NEWCOMBE}
CHANGE_NOTES = {"change_ci95_low": intervals.NEWCOMBE, "change_ci95_high": intervals.NEWCOMBE}
WINO_CHANGE_NOTES = {"change_ci95_low": intervals.WALD_NET_BIAS, "change_ci95_high": intervals.WALD_NET_BIAS}
HELDOUT_NOTES = {"ci95_low": intervals.BOOTSTRAP, "ci95_high": intervals.BOOTSTRAP}
PAIRED_NOTES = {"change_ci95_low": PAIRED_BOOTSTRAP, "change_ci95_high": PAIRED_BOOTSTRAP}


def analyse(result: Result, **params: Any) -> None:
    """CrowS-Pairs, WinoBias and the capability check of baseline and intervention, then the claims: from the
    released files on `published`, from the checkpoints scored here on a suite."""
    out = result.writer
    result.section("scores")
    if result.profile == "published":
        evaluations = load_evaluations(out)
        crows, wino, lam = crows_pairs(evaluations), winobias(evaluations), lambada(evaluations)
        sizes = list(SIZES)
        result.table("lambada", lam, PROPORTION_NOTES)
        capability = result.table("lambada_changes", lambada_changes(lam), CHANGE_NOTES)
        windows = [
            (f"lambada_window_{run}", lam[lam.run == run], "accuracy", "accuracy", f"LAMBADA (OpenAI), {label}")
            for run, label in RUNS.items()
        ]
        result.show(item_counts(evaluations).rename("items").reset_index())
        result.show(
            f"{len(evaluations)} released results read; the items behind each proportion recovered from it and its "
            "standard error (every file agrees)."
        )
    elif (scored := score_suite(result.profile, out, **params)).suite.planted:  # its own tests and held-out rows
        crows, wino, lam = scored_crows(scored), micro_winobias(scored), scored_lambada(scored)
        held, changes = heldout_losses(scored)
        sizes = list(scored.suite.default_models)
        result.table("lambada", lam, PROPORTION_NOTES)
        capability = result.table("lambada_changes", lambada_changes(lam, MICRO_LAMBADA), CHANGE_NOTES)
        result.table("heldout_loss", held, HELDOUT_NOTES)
        result.table("heldout_loss_changes", changes, PAIRED_NOTES)
        windows = [
            (f"lambada_window_{scored.run}", lam, "accuracy", "accuracy", "LAMBADA-style passages"),
            ("heldout_loss_window", held, "loss", "mean loss (nats)", "held-out text"),
        ]
        r, tests = scored.report, scored.tests.items
        result.show(
            f"{len(r.scored)} checkpoints scored now, {len(r.cached)} read from the cache; "
            f"{(tests.kind == 'crows').sum() // 2} CrowS-style pairs, {(tests.kind == 'referent').sum() // 2} "
            f"referent tests, {(tests.kind == 'lambada').sum()} LAMBADA-style passages, "
            f"{(tests.kind == 'heldout').sum()} held-out rows"
        )
    else:
        crows, wino, lam = scored_crows(scored), released_winobias(scored), scored_lambada(scored)
        sizes = scored.sizes
        result.table("lambada", lam, PROPORTION_NOTES)
        capability = result.table("lambada_changes", lambada_changes(lam), CHANGE_NOTES)
        windows = [(f"lambada_window_{scored.run}", lam, "accuracy", "accuracy", f"LAMBADA (OpenAI), {scored.run}")]
        r, tests = scored.report, scored.tests.items
        result.show(
            f"{len(r.scored)} checkpoints scored now, {len(r.cached)} read from the cache; "
            f"{(tests.kind == 'crows').sum() // 2} CrowS-Pairs pairs, {(tests.kind == 'winobias').sum()} WinoBias "
            f"prompts, {(tests.kind == 'lambada').sum()} LAMBADA passages; the intervention models are released at "
            f"step {scored.suite.final_step} only"
        )
    result.table("crows_pairs", crows, PROPORTION_NOTES)
    result.table("winobias", wino, NET_BIAS_NOTES)
    _bias_sections(result, crows, wino, sizes)

    result.section("capability")
    for name, table, value, label, title in windows:
        result.figure(name, window_figure(table, value, label, title, sizes))
    result.show(capability.drop(columns=["against"]).round(4))
    if "heldout_loss_changes" in result.tables:
        result.show(result.tables["heldout_loss_changes"].drop(columns=["against"]).round(4))
    _claims_section(result, crows, capability)


def _bias_sections(result: Result, crows: pd.DataFrame, wino: pd.DataFrame, sizes: list[str]) -> None:
    """The CrowS-Pairs and WinoBias sections, the same on every profile."""
    result.section("crows_pairs")
    keys = ["category", "group"]
    result.table(
        "crows_pairs_changes", final_changes(crows, "pct_stereotype", keys, "stereotyped", "pairs"), CHANGE_NOTES
    )
    gender = crows[crows.category == GENDER]
    for run in sorted(set(gender.run)):
        for group in sorted(set(gender.group)):
            sub = gender[(gender.run == run) & (gender.group == group)]
            name = RUNS.get(run, run) + ("" if group == ALL else f", {group} pairs")
            suffix = "" if group == ALL else f"_{group.split('-')[0]}"
            result.figure(
                f"crows_gender_window_{run}{suffix}",
                window_figure(sub, "pct_stereotype", "pct_stereotype", f"CrowS gender, {name}", sizes, chance=0.5),
            )
    changes = result.tables["crows_pairs_changes"]
    result.show(changes[changes.category == GENDER].drop(columns=["category", "against"]).round(4))

    result.section("winobias")
    result.table("winobias_changes", winobias_changes(wino), WINO_CHANGE_NOTES)
    mean_net = wino[wino.group == ALL].groupby(["run", "model", "arm", "step"], as_index=False).net_bias.mean()
    for run in sorted(set(mean_net.run)):
        result.figure(
            f"winobias_{run}",
            window_figure(
                mean_net[mean_net.run == run],
                "net_bias",
                "net bias (pro − anti)",
                f"WinoBias over training, {RUNS.get(run, run)}, mean of types and prompts",
                sizes,
                chance=0.0,
                whole_run=True,
            ),
        )
    result.show(result.tables["winobias_changes"].drop(columns=["against"]).round(3))
    result.figure("bias_by_size", size_figure(crows, wino, sizes))


def _claims_section(result: Result, crows: pd.DataFrame, capability: pd.DataFrame) -> None:
    """The claims, judged on the tables the sections wrote."""
    result.section("claims")
    crows_long = final_changes(crows, "pct_stereotype", ["category", "group"], "stereotyped", "pairs", INTERVENTION)
    result.table("crows_pairs_long_vs_short", crows_long, CHANGE_NOTES)
    found = claims(
        crows, result.tables["crows_pairs_changes"], crows_long, result.tables["winobias_changes"], capability
    )
    result.judge({result.profile: found})
