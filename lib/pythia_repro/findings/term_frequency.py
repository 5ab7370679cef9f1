"""Finding 3: few-shot arithmetic accuracy follows how often an operand appeared in training.

Published profile: the authors' per-operand accuracies (Pythia paper, after
Razeghi et al. 2022) for seven deduplicated models, six checkpoints, five shot
counts and two operations. The per-checkpoint operand counts were never
released, so the frequent-vs-rare gap is computed for a ranking the user gives
(default: a labelled proxy) next to the largest gap any ranking could produce.

Scored profiles (micro, pythia): every checkpoint answers the few-shot tasks
(`arithmetic`, scored by `scoring.fewshot_answers`, cached), operand frequencies are
counted in the rows each checkpoint has seen (`terms`), and the gap, the accuracy
against frequency and a binomial GLM are computed from the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.names import V0_NAMES
from ..data.reference import ReferenceDataError, paths
from ..evals import arithmetic, terms
from ..integrity import versions
from ..integrity.hashing import content_key, sha256_file
from ..parameters import SCORING, BadParameter, Param
from ..report import intervals
from ..report.claims import Claim, judged, untestable
from ..report.numbers import Tolerance
from ..report.plots import model_lines
from ..report.results import ResultWriter
from ..scoring import fewshot_answers
from ..suites import get_suite, load_tokenizer
from ..suites.base import Suite
from ..suites.loading import default_device, run_dtype
from ..sweep.plan import Job
from ..sweep.score_cache import ScoreCache
from .base import Finding, Plan, Result, Scores, reference_input, scored_suite, scoring_task, sweep_plan
from .papers import PaperFigure

# --- The finding, its parameters and settings ---


FINDING = Finding("term_frequency", "Term frequency effects over training", ("published",))
# Under other numerics: twice what the portable (AVX2) and native (AVX-512) builds of micro moved, judged from either
# (benchmarks/numerics.py at 12e637c: GLM p-values move by orders of magnitude (4e-06 ↔ 0.30) and coefficients by up
# to 0.42; at 0.5·|value| none needs more than 0.36).
NUMERICS_TOLERANCE = Tolerance(relative=0.5, absolute=0.72)
HEADLINE = {  # numbers for papers beside the claims': table -> (key columns, value columns)
    "glm": (["operation", "shots", "counter", "term"], ["coef", "stderr", "p_value"]),
}
PAPER_FIGURES = (
    PaperFigure(
        "pythia",
        "Fig. 4",
        "TriviaQA accuracy against the count of a question's entities in the training data.",
        status="not",
        note="the entity counts were never released, and the package scores no TriviaQA",
    ),
    PaperFigure(
        "pythia",
        "Fig. 7",
        "Few-shot arithmetic accuracy against binned operand frequency, checkpoints by colour (Appendix C.2).",
        {"micro": ("accuracy_vs_frequency.*", "accuracy_vs_frequency_by_checkpoint.*", "accuracy_by_frequency.csv")},
        status="partly",
        note="on micro only, a panel per size with multiplication beside the paper's addition; none on published: "
        "its counts were never released",
    ),
    PaperFigure(
        "pythia",
        "Table 4",
        "Accuracy on the 10% most frequent operands minus the 10% least frequent, by size, shots and checkpoint "
        "(Appendix C.2); the package adds Newcombe intervals and draws it over training.",
        {
            "published": ("frequency_gap.csv", "gap_multiplication.*", "gap_addition.*"),
            "micro": ("frequency_gap.csv", "gap_multiplication.*", "gap_addition.*"),
        },
        status="partly",
        note="on published the operands are ranked by magnitude, a proxy: the paper's counts were never released",
    ),
    PaperFigure(
        "package",
        "term-frequency heatmap",
        "Accuracy over operand-frequency bins and training steps, one model and shot count.",
        {"published": ("heatmap.*",), "micro": ("heatmap.*",)},
    ),
)
PARAMETERS = (
    *SCORING,
    Param(
        "frequency_ranking",
        str,
        "magnitude",
        nullable=False,
        help='published only: "magnitude" (proxy) or a CSV path with columns operand,count',
    ),
    Param("heatmap_model", str, help="model of the heatmap (default: the largest)"),
    Param("heatmap_shots", int, low=0, help="shots of the heatmap (default: the most the profile has)"),
    Param("reported_shots", int, [0, 4, 16], many=True, low=0, nullable=False, help="shots in the gap figures"),
    Param("shots", int, many=True, low=0, help="shot counts to score (default: the suite's, else those that fit)"),
    Param("operands", int, many=True, low=0, high=99, help="first operands x1 (default: the suite's, else 0 to 99)"),
    Param("second_operands", int, many=True, low=0, help="second operands x2 (default: the suite's, else 1 to 50)"),
    Param(
        "examples",
        str,
        choices=arithmetic.EXAMPLES,
        help="few-shot examples drawn per instance (the authors') or per operand (default: the suite's)",
    ),
)
FOLDER = "published/term_frequency"
OPERATIONS = ("multiplication", "addition")
OPERANDS = range(100)
_TASK = re.compile(r"^num_reasoning_arithmetic_(multiplication|addition)_(\d+)$")
COLUMNS = ["model", "checkpoint", "task", "fewshot", "acc", "acc_stderr"]
OLD_TO_CURRENT = {f"{old}-deduped": f"{new}-deduped" for new, old in V0_NAMES.items()}
MAGNITUDE_PROXY = "magnitude"
ACCURACY_NOTES = {
    "acc_stderr": "standard error sqrt(p(1 − p)/(n − 1)), as the evaluation harness reports it",
    "acc_ci95_low": intervals.WILSON,
    "acc_ci95_high": intervals.WILSON,
}
GAP_NOTES = {
    "gap_ci95_low": intervals.NEWCOMBE,
    "gap_ci95_high": intervals.NEWCOMBE,
    "max_gap_points": "largest gap any ranking of the operands could give (upper bound, no interval)",
}
CHUNK_ROWS = 2000
MAX_NEW_TOKENS = 16
PYTHIA_GAP_STEPS = (13000, 39000, 65000, 91000, 117000, 143000)
PAPER_SHOTS = 16
GLM_ALPHA = 0.05
STATEMENTS = {
    "term_frequency.gap_positive": "Operands seen more often in training are answered better: the 10 most frequent "
    "beat the 10 least frequent (Razeghi et al. 2022)",
    "term_frequency.gap_opens": "The frequent-vs-rare gap opens during training (Pythia paper)",
    "term_frequency.gap_grows_with_size": "The frequent-vs-rare gap is larger for larger models (Pythia paper)",
    "term_frequency.frequency_coefficient": "Accuracy rises with an operand's frequency at equal model size, step "
    "and operand magnitude (binomial GLM)",
    "term_frequency.control_flat": "A control operation whose operands are equally frequent shows no gap "
    "(the micro suite's design)",
}
SECTIONS = ("accuracy", "heatmap", "gaps", "frequency", "controls", "miniature", "side_by_side", "claims")


# --- Reading the authors' published files ---


def model_names() -> pd.DataFrame:
    """The file (old) name and current name of every released model."""
    rows = [{"file_name": p.rsplit("/", 1)[1].removesuffix(".csv")} for p in paths(FOLDER)]
    df = pd.DataFrame(rows)
    df["model"] = df.file_name.map(OLD_TO_CURRENT)
    specs = get_suite("pythia").models | get_suite("pythia-deduped").models  # the files hold both
    df["params"] = df.model.map(lambda m: specs[m].params)
    return df.sort_values("params", ignore_index=True)


def load_accuracy(writer: ResultWriter | None = None) -> pd.DataFrame:
    """Long table: model (current name), step, operation, operand x1, shots, acc, acc_stderr."""
    frames = []
    for row in model_names().itertuples():
        path = f"{FOLDER}/{row.file_name}.csv"
        local = reference_input(path, writer)
        raw = pd.read_csv(local)
        missing = set(COLUMNS) - set(raw.columns)
        if missing:
            raise ReferenceDataError(f"{local}: missing columns {sorted(missing)}")
        parsed = raw.task.str.extract(_TASK)
        if parsed.isna().any().any():
            bad = raw.task[parsed.isna().any(axis=1)].iloc[0]
            raise ReferenceDataError(f"{local}: unrecognised task name {bad!r}")
        frames.append(
            pd.DataFrame(
                {
                    "model": row.model,
                    "params": row.params,
                    "step": raw.checkpoint.astype(int),
                    "operation": parsed[0],
                    "x1": parsed[1].astype(int),
                    "shots": raw.fewshot.astype(int),
                    "acc": raw.acc.astype(float),
                    "acc_stderr": raw.acc_stderr.astype(float),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True).assign(n=len(arithmetic.SECOND_OPERANDS))
    return with_wilson(df).sort_values(["params", "step", "operation", "shots", "x1"], ignore_index=True)


# --- Scoring checkpoints: the plan, and reading the scores back ---


def eval_steps(suite: Suite) -> list[int]:
    """Pythia's six evaluated checkpoints, or the same fractions of training on a scaled-down suite."""
    if suite.pythia_schedule:
        return list(PYTHIA_GAP_STEPS)
    return sorted({suite.nearest_step(round(suite.final_step * s / PYTHIA_GAP_STEPS[-1])) for s in PYTHIA_GAP_STEPS})


def prompt_lengths(tokenizer, table: pd.DataFrame) -> list[int]:
    """Tokens of each prompt of a task table."""
    return [len(ids) for ids in tokenizer(list(table.prompt), add_special_tokens=False)["input_ids"]]


@dataclass
class Scored(Scores):
    """Correctness of every task instance at every (model, step, shots)."""

    shots: list[int]
    dropped_shots: list[int]  # too long for the models' context
    per_instance: pd.DataFrame  # model, params, step, shots, operation, x1, x2, correct, fast


@dataclass
class Prepared(Plan):
    """The plan, and the task tables it scores."""

    shots: list[int]
    dropped_shots: list[int]
    tables: dict[int, pd.DataFrame]  # per shot count: operation, x1, x2, target, prompt
    operands: int

    grid: dict[str, Any]  # second_operands and examples: how the instances and their prompts are made

    def scored_data(self) -> tuple[str, dict[str, Any]]:
        tasks = {"template": arithmetic.TEMPLATE, "seed": arithmetic.SEED, **self.grid}
        return "tasks", {"identity": self.task.data, **tasks, "shots": self.shots, "operands": self.operands}


def prepare(
    profile: str,
    models: list[str] | None = None,
    steps: list[int] | None = None,
    shots: list[int] | None = None,
    operands: list[int] | None = None,
    second_operands: list[int] | None = None,
    examples: str | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    dtype: str | None = None,
) -> Prepared:
    """Correctness of every task instance at every (model, step, shots) that fits the context."""
    import torch

    suite, models = scored_suite(profile, FINDING.name, models)
    batch_size = suite.default(FINDING.name, "batch_size", batch_size)
    steps = sorted(steps or eval_steps(suite))
    operands = tuple(suite.default(FINDING.name, "operands", operands) or arithmetic.OPERANDS)
    second = suite.default(FINDING.name, "second_operands", second_operands)
    grid = {
        "second_operands": tuple(second) if second else arithmetic.SECOND_OPERANDS,
        "examples": suite.default(FINDING.name, "examples", examples) or arithmetic.EXAMPLES[0],
    }
    tokenizer = load_tokenizer(suite)
    shots = suite.default(FINDING.name, "shots", shots) or arithmetic.SHOTS
    # the shot counts whose longest prompt plus the answer tokens fits the models' context, and those that do not
    tables = {k: arithmetic.tasks(k, operands=operands, **grid) for k in shots}
    lengths = {k: prompt_lengths(tokenizer, table) for k, table in tables.items()}
    kept = [k for k in shots if max(lengths[k]) + MAX_NEW_TOKENS <= suite.row_len - 1]
    dropped = [k for k in shots if k not in kept]
    if not kept:
        raise ValueError(f"no shot count fits the {suite.name} context of {suite.row_len - 1} tokens: {dropped}")
    tables = {k: tables[k] for k in kept}
    n = len(tables[kept[0]])
    authors = grid == {"second_operands": arithmetic.SECOND_OPERANDS, "examples": arithmetic.EXAMPLES[0]}
    data = content_key(["arithmetic", arithmetic.TEMPLATE, arithmetic.SEED, operands, *([] if authors else [grid])])
    data = data[:16]  # the authors' grid keeps the key it had before the grid could change
    dev = torch.device(device) if device else default_device()
    jobs = []
    for m in models:
        precision = run_dtype(suite, FINDING.name, m, dev, dtype)
        jobs += [
            Job(suite.checkpoint(m, s), n, (("dtype", precision), ("max_new_tokens", MAX_NEW_TOKENS), ("shots", k)))
            for s in steps
            for k in kept
        ]

    def score(model, start, stop, params):
        task = tables[params["shots"]].iloc[start:stop]
        got = fewshot_answers(
            model, tokenizer, list(task.prompt), list(task.target), params["max_new_tokens"], batch_size=batch_size
        )
        return pd.DataFrame({"correct": got.correct, "fast": got.fast})

    def available(checkpoint):
        return n

    kept_lengths = [length for k in kept for length in lengths[k]]
    task = scoring_task(
        FINDING,
        suite,
        data=data,
        scorer=versions.FEWSHOT_ANSWERS,
        jobs=jobs,
        score=score,
        rows=available,
        chunk_rows=CHUNK_ROWS,
        device=dev,
        row_tokens=sum(kept_lengths) / len(kept_lengths) + MAX_NEW_TOKENS,
    )
    return Prepared(
        task,
        suite,
        models,
        steps,
        shots=kept,
        dropped_shots=dropped,
        tables=tables,
        operands=len(operands),
        grid={k: list(v) if isinstance(v, tuple) else v for k, v in grid.items()},
    )


def score_suite(
    profile: str, writer: ResultWriter | None = None, cache: ScoreCache | None = None, progress: bool = True, **options
) -> Scored:
    """Correctness of every task instance at every (model, step, shots), from the score cache or scored now.

    `options` are those of `prepare`."""
    prep = prepare(profile, **options)
    results, report = sweep_plan(prep, writer, cache, progress)
    frames = []
    for (ckpt, params), frame in results.items():
        k = dict(params)["shots"]
        instances = prep.tables[k].iloc[frame.row.to_numpy()][["operation", "x1", "x2"]].reset_index(drop=True)
        frames.append(
            pd.concat([instances, frame[["correct", "fast"]].reset_index(drop=True)], axis=1).assign(
                model=ckpt.model, params=prep.suite.spec(ckpt.model).params, step=ckpt.step, shots=k
            )
        )
    per_instance = pd.concat(frames, ignore_index=True)[
        ["model", "params", "step", "shots", "operation", "x1", "x2", "correct", "fast"]
    ]
    return Scored.of(prep, report, shots=prep.shots, dropped_shots=prep.dropped_shots, per_instance=per_instance)


def operand_frequencies(
    suite: Suite, steps: list[int], max_rows: int | None = None, progress: bool = True, **engine: Any
) -> pd.DataFrame:
    """Cumulative counts of each operand 0–99 in the rows each checkpoint has seen, by every counter.

    Columns: step, x1, window (the authors' counter), occurrence (every standalone number), times and plus
    (first operands of task statements of that operation; the micro suite plants these).
    """
    counters = ("window", "occurrence", "task")
    table = terms.block_counts(suite, steps, counters, max_rows=max_rows, progress=progress, **engine)
    names = {
        **{str(x): ("number", x) for x in arithmetic.OPERANDS},
        **{f"{w}:{x}": (w, x) for w in arithmetic.WORDS.values() for x in arithmetic.OPERANDS},
    }
    cum = terms.cumulative_counts(table, steps, suite.rows_per_step, names)
    cum[["kind", "x1"]] = pd.DataFrame([names[t] for t in cum.term], index=cum.index)
    cum = cum[(cum.kind == "number") != (cum.counter == "task")]
    cum["column"] = np.where(cum.counter == "task", cum.kind, cum.counter)
    out = cum.pivot_table(index=["step", "x1"], columns="column", values="count", aggfunc="sum").reset_index()
    columns = ["step", "x1", "window", "occurrence", *arithmetic.WORDS.values()]
    return out.reindex(columns=columns, fill_value=0).astype(np.int64)  # a counter with no hit at all has no column


def precompute(
    profile: str,
    engine: str = "local",
    address: str | None = None,
    steps: list[int] | None = None,
    max_rows: int | None = None,
) -> None:
    """Count the operands in the training data each evaluated checkpoint saw, on `engine` (sweeps call this, so a
    Pile-scale count runs on the cluster; the notebook then reads the cached blocks)."""
    suite = get_suite(profile)
    operand_frequencies(suite, sorted(steps or eval_steps(suite)), max_rows, engine=engine, address=address)


def accuracy_for(
    profile: str, writer: ResultWriter | None = None, max_rows: int | None = None, **scoring
) -> tuple[pd.DataFrame, Scored | None, pd.DataFrame | None]:
    """The per-operand accuracy of a profile, the scores behind it and the operand counts (None when published)."""
    if profile == "published":
        return load_accuracy(writer), None, None
    scored = score_suite(profile, writer, **scoring)
    freq = operand_frequencies(scored.suite, scored.steps, max_rows=max_rows)
    if writer:
        writer.record_input(
            "operand_counts",
            counters=["window", "occurrence", "task"],
            rows=max_rows or "all seen",
            version=versions.TERM_COUNTER,
        )
    return scored_accuracy(scored), scored, freq


# --- Analysis: pure functions from tables to tables ---


def with_wilson(acc: pd.DataFrame) -> pd.DataFrame:
    """Add the correct-answer count of each operand (acc × n, rounded) and the Wilson 95% interval of its accuracy."""
    acc = acc.assign(hits=(acc.acc * acc.n).round().astype(np.int64))
    acc["acc_ci95_low"], acc["acc_ci95_high"] = intervals.wilson(acc.hits, acc.n)
    return acc


def mean_accuracy(acc: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy over the 100 operands per model × step × shots × operation."""
    return (
        acc.groupby(["model", "params", "operation", "shots", "step"])
        .acc.agg(mean_acc="mean", n_operands="count")
        .reset_index()
        .sort_values(["params", "operation", "shots", "step"], ignore_index=True)
    )


def operand_ranking(ranking: str | Path = MAGNITUDE_PROXY) -> pd.Series:
    """A frequency score per operand 0–99 (higher = more frequent).

    `ranking="magnitude"` is a proxy, not the paper's counts: it assumes smaller
    numbers are more frequent in web text, so it is confounded with difficulty.
    Otherwise a CSV path with columns `operand,count` (e.g. counts from the Pile).
    """
    if str(ranking) == MAGNITUDE_PROXY:
        return pd.Series([-float(x) for x in OPERANDS], index=list(OPERANDS), name="score")
    table = pd.read_csv(ranking)
    if not {"operand", "count"} <= set(table.columns):
        raise ValueError(f"{ranking}: a ranking CSV needs columns 'operand' and 'count'")
    scores = table.set_index("operand")["count"].reindex(list(OPERANDS))
    if scores.isna().any():
        raise ValueError(f"{ranking}: no count for operands {list(scores.index[scores.isna()])}")
    return scores.astype(float).rename("score")


def _rare_and_frequent(scores: pd.Series, k: int) -> tuple[list[int], list[int]]:
    """The k lowest- and k highest-scoring operands; ties are broken by a fixed random order, not by magnitude."""
    tiebreak = pd.Series(np.random.default_rng(0).permutation(len(scores)), index=scores.index)
    order = pd.DataFrame({"score": scores, "tie": tiebreak}).sort_values(["score", "tie"]).index
    return list(order[:k]), list(order[-k:])


def frequency_gap(acc: pd.DataFrame, scores: pd.Series | pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """Accuracy gap in points: k most frequent minus k least frequent operands, its Newcombe 95% interval (the
    two groups' instances pooled), and the largest gap any ranking gives.

    `scores` is one ranking for every checkpoint (a Series indexed by operand) or one per checkpoint (a table
    with columns step, x1, score, e.g. counts in the data each checkpoint has seen). `acc` needs `hits` and `n`.
    """
    per_step = isinstance(scores, pd.DataFrame)
    rows = []
    for key, group in acc.groupby(["model", "params", "operation", "shots", "step"]):
        ranking = scores[scores.step == key[-1]].set_index("x1").score if per_step else scores
        by_operand = group.set_index("x1")
        rare, frequent = _rare_and_frequent(ranking[ranking.index.isin(by_operand.index)], k)
        top, bottom = by_operand.loc[frequent], by_operand.loc[rare]
        counts = (top.hits.sum(), top.n.sum(), bottom.hits.sum(), bottom.n.sum())
        low, high = intervals.newcombe(*counts)
        sorted_acc = by_operand.acc.sort_values().to_numpy()
        rows.append(
            {
                **dict(zip(["model", "params", "operation", "shots", "step"], key)),
                "gap_points": 100 * (top.acc.mean() - bottom.acc.mean()),
                "gap_ci95_low": 100 * low,
                "gap_ci95_high": 100 * high,
                "frequent_hits": counts[0],
                "frequent_n": counts[1],
                "rare_hits": counts[2],
                "rare_n": counts[3],
                "max_gap_points": 100 * (sorted_acc[-k:].mean() - sorted_acc[:k].mean()),
            }
        )
    return pd.DataFrame(rows).sort_values(["params", "operation", "shots", "step"], ignore_index=True)


def heatmap_order(profile: str, freq: pd.DataFrame | None, ranking: str | Path) -> tuple[pd.Series, str]:
    """The operand scores that order the heatmap, and how to say so on its axis."""
    if freq is None:
        if str(ranking) == MAGNITUDE_PROXY:
            return operand_ranking(ranking), "smallest first (magnitude, a proxy for frequency)"
        return operand_ranking(ranking), f"most frequent first (counts from {Path(ranking).name})"
    last = freq[freq.step == freq.step.max()]
    return last.set_index("x1").window.rename(
        "score"
    ), f"most frequent first (in the training data by step {last.step.iloc[0]})"


def scored_accuracy(scored: Scored) -> pd.DataFrame:
    """Per-operand accuracy shaped like the published table (acc_stderr = sqrt(p(1 − p)/(n − 1)))."""
    grouped = scored.per_instance.groupby(["model", "params", "step", "operation", "x1", "shots"]).correct
    acc = grouped.agg(acc="mean", n="count").reset_index()
    acc["acc_stderr"] = np.sqrt(acc.acc * (1 - acc.acc) / (acc.n - 1).clip(lower=1))
    return with_wilson(acc).sort_values(["params", "step", "operation", "shots", "x1"], ignore_index=True)


def rankings(freq: pd.DataFrame, planted: bool) -> dict[str, dict[str, pd.DataFrame]]:
    """Per ranking name, per operation: a per-checkpoint score table (step, x1, score) for `frequency_gap`; on a
    suite that plants its task statements, also the ranking by the planted counts (`task`)."""

    def table(column: str) -> pd.DataFrame:
        return freq[["step", "x1", column]].rename(columns={column: "score"})

    out = {
        "window": {op: table("window") for op in arithmetic.WORDS},
        "occurrence": {op: table("occurrence") for op in arithmetic.WORDS},
    }
    if planted:
        out["task"] = {op: table(word) for op, word in arithmetic.WORDS.items()}
    return out


def gaps_by_ranking(acc: pd.DataFrame, ranks: dict[str, dict[str, pd.DataFrame]], k: int = 10) -> pd.DataFrame:
    """`frequency_gap` under every ranking, each operation ranked by its own table; column `ranking` names it."""
    frames = [
        frequency_gap(acc[acc.operation == op], ranking, k).assign(ranking=name)
        for name, per_op in ranks.items()
        for op, ranking in per_op.items()
    ]
    return pd.concat(frames, ignore_index=True)


def with_frequency(acc: pd.DataFrame, freq: pd.DataFrame, column: str = "window") -> pd.DataFrame:
    """Accuracy rows joined with the operand's count at that checkpoint (`frequency`, by `column`)."""
    return acc.merge(freq[["step", "x1", column]].rename(columns={column: "frequency"}), on=["step", "x1"])


def frequency_glm(acc: pd.DataFrame, freq: pd.DataFrame, column: str = "window") -> pd.DataFrame:
    """Binomial GLM of correctness on log frequency with size and step interactions, per operation × shots.

    logit P(correct) = b0 + b1·lf + b2·lp + b3·ls + b4·lf·lp + b5·lf·ls + b6·x1/100, with lf = log10(1 + count),
    lp = log10(params), ls = log10(step), each centred; the magnitude term keeps frequency apart from operand size.
    Fitted on per-operand accuracies weighted by their instance counts (the same likelihood as per instance).
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    data = with_frequency(acc, freq, column)
    data = data[data.step > 0].assign(
        lf=lambda d: np.log10(1 + d.frequency),
        lp=lambda d: np.log10(d.params),
        ls=lambda d: np.log10(d.step),
        magnitude=lambda d: d.x1 / 100,
    )
    rows = []
    for (op, k), group in data.groupby(["operation", "shots"]):
        varying = [c for c in ("lp", "ls") if group[c].nunique() > 1]  # one size or one step: no such term
        group = group.assign(**{c: group[c] - group[c].mean() for c in ("lf", "lp", "ls")})
        base = {
            "operation": op,
            "shots": k,
            "counter": column,
            "n_instances": int(group.n.sum()),
            "mean_acc": float(np.average(group.acc, weights=group.n)),
        }
        if group.acc.min() == group.acc.max():
            rows.append({**base, "term": "(no variation in correctness: not fitted)"})
            continue
        formula = "acc ~ lf" + "".join(f" + lf * {c}" for c in varying) + " + magnitude"
        fit = smf.glm(formula, group, family=sm.families.Binomial(), var_weights=group.n).fit()
        for term in fit.params.index:
            rows.append(
                {
                    **base,
                    "term": term,
                    "coef": fit.params[term],
                    "stderr": fit.bse[term],
                    "z": fit.tvalues[term],
                    "p_value": fit.pvalues[term],
                }
            )
    return pd.DataFrame(rows)


def binned_accuracy(acc: pd.DataFrame, freq: pd.DataFrame, column: str = "window", bins: int = 8) -> pd.DataFrame:
    """Mean accuracy per log-spaced frequency bin, per model × step × operation × shots."""
    data = with_frequency(acc, freq, column)
    data = data[data.frequency > 0]
    edges = np.unique(np.geomspace(data.frequency.min(), data.frequency.max() * 1.0001, bins + 1))
    data = data.assign(bin=pd.cut(data.frequency, edges, include_lowest=True, labels=False))
    out = (
        data.groupby(["model", "params", "step", "operation", "shots", "bin"])
        .agg(frequency=("frequency", "median"), acc=("acc", "mean"), n_operands=("acc", "count"))
        .reset_index()
    )
    return out.sort_values(["params", "step", "operation", "shots", "bin"], ignore_index=True)


def confound_check(freq: pd.DataFrame, step: int) -> pd.DataFrame:
    """Spearman correlation of each count with operand magnitude at one checkpoint (near 0: not confounded)."""
    from scipy.stats import spearmanr

    at = freq[freq.step == step]
    rows = []
    for column in ("window", "occurrence", *arithmetic.WORDS.values()):
        rho, p = spearmanr(at[column], at.x1)
        rows.append({"counter": column, "spearman_with_operand": rho, "p_value": p, "total": int(at[column].sum())})
    return pd.DataFrame(rows)


def planted_glm(acc: pd.DataFrame, freq: pd.DataFrame) -> pd.DataFrame:
    """Micro: the GLM of each operation on its own planted statement counts (times for ×, plus for +)."""
    return pd.concat(
        [
            frequency_glm(acc[acc.operation == "multiplication"], freq.assign(window=freq.times), "window").assign(
                counter="times statements"
            ),
            frequency_glm(acc[acc.operation == "addition"], freq.assign(window=freq.plus), "window").assign(
                counter="plus statements"
            ),
        ]
    )


def side_by_side(mean: pd.DataFrame, published: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Mean accuracy of each model at its source's last checkpoint, published next to this profile's."""
    side = pd.concat([published.assign(source="published"), mean.assign(source=profile)])
    last = side[side.step == side.groupby("source").step.transform("max")]
    return last.pivot_table(index=["source", "model"], columns=["operation", "shots"], values="mean_acc", sort=False)


# --- Figures ---


def heatmap_figure(acc: pd.DataFrame, model: str, shots: int, scores: pd.Series, order_label: str):
    """Per-operand accuracy over checkpoints, one panel per operation, operands by frequency (most frequent on top).

    `scores` rank the operands (higher = more frequent); the colour scale runs from 0 to the largest accuracy shown,
    so that an effect far below 100% stays visible."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    sub = acc[(acc.model == model) & (acc.shots == shots)]
    order = scores.sort_values(ascending=False, kind="stable").index
    top = max(0.05, float(np.ceil(sub.acc.max() * 20) / 20)) if len(sub) else 1.0
    fig, axes = plt.subplots(1, 2, figsize=(9, 7), sharey=True)
    for ax, op in zip(axes, OPERATIONS):
        table = sub[sub.operation == op].pivot(index="x1", columns="step", values="acc")
        table = table.reindex([x for x in order if x in table.index])
        sns.heatmap(
            table,
            vmin=0,
            vmax=top,
            cmap="viridis",
            ax=ax,
            yticklabels=5,
            cbar=op == OPERATIONS[-1],
            cbar_kws={"label": "accuracy (fraction of instances correct)"},
        )
        ax.set_title(f"{model}, {op}, {shots}-shot", fontsize=9)
        ax.set_xticklabels([f"{s // 1000}k" if s >= 10_000 else str(s) for s in table.columns], rotation=0)
        ax.set_xlabel("step")
        ax.set_ylabel(f"operand x1, {order_label}" if op == OPERATIONS[0] else "")
    fig.tight_layout()
    return fig


def thousands_axis(ax) -> None:
    """Step ticks as 13k, 39k, … when steps run into the thousands (they run together otherwise)."""
    from matplotlib.ticker import FuncFormatter

    if ax.get_xlim()[1] >= 10_000:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:.0f}k"))


def gap_figure(gaps: pd.DataFrame, shots: tuple[int, ...] = (0, 4, 16), operation: str = "multiplication"):
    """Gap (points) against step per model, one panel per shot count; dashed: the largest possible gap."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    shots = tuple(k for k in shots if k in set(gaps.shots))
    sub = gaps[(gaps.operation == operation) & gaps.shots.isin(shots)]
    models = list(sub.sort_values("params").model.unique())
    fig, axes = plt.subplots(1, len(shots), figsize=(4 * len(shots), 3.6), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, k in zip(axes, shots):
        panel = sub[sub.shots == k]
        model_lines(ax, panel, "step", "gap_points", models, marker="o", legend=k == shots[-1])
        model_lines(ax, panel, "step", "max_gap_points", models, linestyle="--", alpha=0.4, legend=False)
        ax.set_title(f"{k}-shot", fontsize=9)
        ax.set_ylabel("top-10 minus bottom-10 accuracy (points)")
        thousands_axis(ax)
    sns.move_legend(axes[-1], "upper left", bbox_to_anchor=(1.02, 1), title="solid: ranking\ndashed: best ranking")
    fig.suptitle(f"{operation}: operands ranked by {sub.ranking.iloc[0]}", fontsize=10)
    fig.tight_layout()
    return fig


def frequency_figure(binned: pd.DataFrame, step: int, operation: str = "multiplication"):
    """Accuracy against operand frequency (log axis) at one checkpoint, one panel per shot count."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    sub = binned[(binned.step == step) & (binned.operation == operation)]
    shots = sorted(sub.shots.unique())
    models = list(sub.sort_values("params").model.unique())
    fig, axes = plt.subplots(1, len(shots), figsize=(4 * len(shots), 3.4), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], shots):
        model_lines(ax, sub[sub.shots == k], "frequency", "acc", models, marker="o", legend=k == shots[-1])
        ax.set_xscale("log")
        ax.set_xlabel("operand count in the data seen (binned)")
        ax.set_title(f"{operation}, {k}-shot, step {step}", fontsize=9)
    axes[0][0].set_ylabel("accuracy")
    sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def checkpoint_frequency_figure(binned: pd.DataFrame, shots: int):
    """The authors' view (Pythia Fig. 7): accuracy against binned operand count, a panel per size, one line per
    checkpoint; a row per operation (the paper draws addition).

    At 16 shots like the paper when the profile has them; otherwise the title says which shot count is shown."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    note = "" if shots == PAPER_SHOTS else f" ({PAPER_SHOTS} shots do not fit the context)"
    sub = binned[binned.shots == shots]
    models = list(sub.sort_values("params").model.unique())
    fig, axes = plt.subplots(
        len(OPERATIONS), len(models), figsize=(3.2 * len(models) + 1.5, 3.2 * len(OPERATIONS)), sharey=True
    )
    for row, op in zip(axes.reshape(len(OPERATIONS), -1), OPERATIONS):
        for ax, model in zip(row, models):
            last = op == OPERATIONS[-1] and model == models[-1]
            panel = sub[(sub.operation == op) & (sub.model == model)]
            sns.lineplot(panel, x="frequency", y="acc", hue="step", palette="viridis", marker="o", ax=ax, legend=last)
            ax.set_xscale("log")
            ax.set_xlabel("operand count seen (binned)" if op == OPERATIONS[-1] else "")
            ax.set_ylabel(f"{op}: accuracy" if model == models[0] else "")
            ax.set_title(model, fontsize=9)
    sns.move_legend(
        axes.reshape(len(OPERATIONS), -1)[-1][-1], "upper left", bbox_to_anchor=(1.02, 1), title="checkpoint"
    )
    fig.suptitle(
        f"{shots}-shot{note}: accuracy by operand count (authors' counter), one line per checkpoint", fontsize=10
    )
    fig.tight_layout()
    return fig


# --- Claims and the sentences that state them ---


def describe_gaps(gaps: pd.DataFrame, ranking: str, label: str) -> list[str]:
    """Per operation and shot count, the largest model's gap at its first and last checkpoint with intervals,
    under the ranking named (numbers only: verdicts come from `claims`)."""
    sub = gaps[gaps.ranking == ranking]
    if sub.empty:
        return []
    top = sub[sub.params == sub.params.max()]
    lines = []
    for (op, k), group in top.groupby(["operation", "shots"]):
        group = group.sort_values("step")
        first, last = group.iloc[0], group.iloc[-1]
        lines.append(
            f"{label} {last.model}, {op}, {k}-shot, operands ranked by {ranking}: top-10 minus bottom-10 "
            f"{first.gap_points:+.1f} points [{first.gap_ci95_low:+.1f}, {first.gap_ci95_high:+.1f}] at step "
            f"{first.step}, {last.gap_points:+.1f} [{last.gap_ci95_low:+.1f}, {last.gap_ci95_high:+.1f}] at "
            f"step {last.step} (Newcombe 95%; largest possible {last.max_gap_points:.1f})."
        )
    return lines


def micro_targets(gaps: pd.DataFrame, ranking: str = "window", operation: str = "multiplication") -> pd.DataFrame:
    """The micro suite's design targets (is the effect large enough to see?), measured at `claim_shots` shots:
    on the largest model's last checkpoint, top-decile accuracy ≥ 30% and a gap ≥ 20 points whose Newcombe 95%
    interval excludes 0; the gap grows with training and with size (95% intervals above 0, also under the planted
    statements, the suite's own counts); the control's gap interval contains 0. Not claims of the papers."""
    k = claim_shots(gaps)
    sub = _gaps_of(gaps, ranking, operation, k)
    first, last, change, change_ci, _ = _training_growth(sub)
    where = f"{last.model}, step {last.step}, {operation}, {k}-shot, operands ranked by {ranking}"
    top = 100 * last.frequent_hits / last.frequent_n
    growth = f"lower end of the 95% interval (Wald) of the gap's growth since step {first.step}"
    rows = [
        (f"{where}: accuracy of the 10 most frequent operands (points)", top, ">= 30", top >= 30),
        (f"{where}: top-10 minus bottom-10 gap (points)", last.gap_points, ">= 20", last.gap_points >= 20),
        (f"{where}: lower end of the gap's Newcombe 95% interval", last.gap_ci95_low, "> 0", last.gap_ci95_low > 0),
        (f"{where}: {growth}", change_ci[0], "> 0", change_ci[0] > 0),
    ]
    for by in dict.fromkeys((ranking, "task")):  # the suite's planted statements ("task") too: its own counts
        ranked = _gaps_of(gaps, by, operation, k)
        if len(ranked):
            small, large, _, diff_ci, _ = _size_growth(ranked)
            what = f"{operation}, {k}-shot, step {large.step}, ranked by {by}"
            span = f"lower end of the 95% interval (Wald) of {large.model}'s gap minus {small.model}'s"
            rows.append((f"{what}: {span}", diff_ci[0], "> 0", diff_ci[0] > 0))
    control = _gaps_of(gaps, "task", "addition", k)
    if len(control):
        c = _largest_last(control)
        what = f"control: {c.model}, step {c.step}, addition, {k}-shot, ranked by planted statements"
        inside = bool(c.gap_ci95_low <= 0 <= c.gap_ci95_high)
        rows.append(
            (f"{what}: gap (points), Newcombe 95% interval {_gap_text(c)}", c.gap_points, "interval ∋ 0", inside)
        )
    return pd.DataFrame(rows, columns=["target", "measured", "required", "met"])


def _gaps_of(gaps: pd.DataFrame, ranking: str, operation: str, shots: int) -> pd.DataFrame:
    return gaps[(gaps.ranking == ranking) & (gaps.operation == operation) & (gaps.shots == shots)]


def _largest_last(sub: pd.DataFrame) -> pd.Series:
    """The gap row of the largest model at its last checkpoint."""
    return sub[sub.params == sub.params.max()].sort_values("step").iloc[-1]


def _gap_change(ordered: pd.DataFrame):
    """From the first to the last of `ordered` gap rows: both rows, the change, its Wald 95% interval, the count."""
    first, last = ordered.iloc[0], ordered.iloc[-1]
    change = last.gap_points - first.gap_points
    return first, last, change, intervals.wald(change, _gap_variance(first) + _gap_variance(last)), len(ordered)


def _training_growth(sub: pd.DataFrame):
    """The largest model's gap from its first checkpoint to its last (`_gap_change`)."""
    return _gap_change(sub[sub.params == sub.params.max()].sort_values("step"))


def _size_growth(sub: pd.DataFrame):
    """At the last step, the gap from the smallest model to the largest (`_gap_change`)."""
    return _gap_change(sub[sub.step == sub.step.max()].sort_values("params"))


def claim_shots(gaps: pd.DataFrame) -> int:
    """The paper's 16 shots when the profile has them, else the most shots that fit the context."""
    return PAPER_SHOTS if PAPER_SHOTS in set(gaps.shots) else int(gaps.shots.max())


def _gap_variance(row) -> float:
    return 1e4 * intervals.binomial_variance_of_difference(row.frequent_hits, row.frequent_n, row.rare_hits, row.rare_n)


def _gap_text(row) -> str:
    return f"{row.gap_points:+.1f} [{row.gap_ci95_low:+.1f}, {row.gap_ci95_high:+.1f}]"


def claims(
    gaps: pd.DataFrame,
    ranking: str,
    proxy: bool = False,
    glm: pd.DataFrame | None = None,
    control: pd.DataFrame | None = None,
    operation: str = "multiplication",
) -> list[Claim]:
    """The term-frequency claims on one gap table, for `operation` at `claim_shots` shots under one ranking.

    `proxy` marks a ranking that is not a count (published `magnitude`): frequency claims are then not
    testable and say so with the proxy's numbers. `glm` (scored profiles) and `control` (micro: addition
    ranked by its own planted statements) feed the last two claims."""
    k = claim_shots(gaps)
    sub = _gaps_of(gaps, ranking, operation, k)
    where = f"{operation}, {k}-shot{'' if k == PAPER_SHOTS else f' (the most that fit; the paper used {PAPER_SHOTS})'}"
    first, last, change, change_ci, checkpoints = _training_growth(sub)
    small, large, size_diff, size_ci, sizes = _size_growth(sub)
    rows = [
        (
            "term_frequency.gap_positive",
            f"{where}: the largest model's gap at its last checkpoint has a Newcombe 95% interval above 0",
            last.gap_ci95_low > 0,
            f"{last.model} at step {last.step}: {_gap_text(last)} points, ranked by {ranking}",
            {"gap_points": last.gap_points, "ci95_low": last.gap_ci95_low, "ci95_high": last.gap_ci95_high},
            True,
        ),
        (
            "term_frequency.gap_opens",
            f"{where}: the largest model's gap grows from its first to its last checkpoint, "
            "the 95% interval of the growth (Wald, binomial variances) above 0",
            change_ci[0] > 0,
            f"{last.model}: {_gap_text(first)} at step {first.step} → {_gap_text(last)} at step {last.step}, growth "
            f"{change:+.1f} [{change_ci[0]:+.1f}, {change_ci[1]:+.1f}] points, ranked by {ranking}",
            {"growth_points": change, "ci95_low": change_ci[0], "ci95_high": change_ci[1]},
            checkpoints > 1,
        ),
        (
            "term_frequency.gap_grows_with_size",
            f"{where}, last checkpoint: the largest model's gap exceeds the "
            "smallest's, the 95% interval of the difference (Wald, binomial variances) above 0",
            size_ci[0] > 0,
            f"{small.model} {_gap_text(small)} vs {large.model} {_gap_text(large)}, "
            f"difference {size_diff:+.1f} [{size_ci[0]:+.1f}, {size_ci[1]:+.1f}] points, ranked by {ranking}",
            {"difference_points": size_diff, "ci95_low": size_ci[0], "ci95_high": size_ci[1]},
            sizes > 1,
        ),
    ]
    out = []
    for id, test, passed, detail, numbers, enough in rows:
        if proxy:
            out.append(
                untestable(
                    id,
                    STATEMENTS[id],
                    test,
                    "the per-checkpoint operand counts were never released, "
                    f"and '{ranking}' is a proxy confounded with difficulty; for that proxy: {detail}",
                    **numbers,
                )
            )
        elif not enough:
            out.append(untestable(id, STATEMENTS[id], test, f"one value to compare: {detail}", **numbers))
        else:
            out.append(judged(id, STATEMENTS[id], test, bool(passed), detail, **numbers))
    return out + [coefficient_claim(glm, operation, k), control_claim(control, k)]


def coefficient_claim(glm: pd.DataFrame | None, operation: str, shots: int) -> Claim:
    id = "term_frequency.frequency_coefficient"
    test = f"{operation}, {shots}-shot: the GLM coefficient of log10(1 + count) is positive with p < {GLM_ALPHA}"
    if glm is None:
        return untestable(id, STATEMENTS[id], test, "no operand counts on this profile (never released)")
    row = glm[(glm.operation == operation) & (glm.shots == shots) & (glm.term == "lf")]
    if row.empty:
        return untestable(id, STATEMENTS[id], test, "the GLM was not fitted (correctness does not vary)")
    row = row.iloc[0]
    return judged(
        id,
        STATEMENTS[id],
        test,
        bool(row.coef > 0 and row.p_value < GLM_ALPHA),
        f"coefficient {row.coef:+.3f} ± {row.stderr:.3f} (z = {row.z:.2f}, p = {row.p_value:.2g}), counter "
        f"{row.counter}, {row.n_instances} instances",
        coef=row.coef,
        stderr=row.stderr,
        p_value=row.p_value,
    )


def control_claim(control: pd.DataFrame | None, shots: int) -> Claim:
    id = "term_frequency.control_flat"
    test = (
        f"addition, {shots}-shot, ranked by its own planted statements: the largest model's gap at its last "
        "checkpoint has a Newcombe 95% interval that contains 0"
    )
    if control is None:
        return untestable(id, STATEMENTS[id], test, "no control operation with planted uniform counts on this profile")
    last = _largest_last(control[(control.operation == "addition") & (control.shots == shots)])
    return judged(
        id,
        STATEMENTS[id],
        test,
        bool(last.gap_ci95_low <= 0 <= last.gap_ci95_high),
        f"{last.model} at step {last.step}: {_gap_text(last)} points",
        gap_points=last.gap_points,
        ci95_low=last.gap_ci95_low,
        ci95_high=last.gap_ci95_high,
    )


def published_claims(writer: ResultWriter | None = None) -> list[Claim]:
    """The claims judged on the released accuracies under the magnitude proxy (frequency claims: not testable)."""
    acc = load_accuracy(writer)
    gaps = frequency_gap(acc, operand_ranking(MAGNITUDE_PROXY)).assign(ranking=MAGNITUDE_PROXY)
    return claims(gaps, MAGNITUDE_PROXY, proxy=True)


# --- The notebook's analysis, section by section ---


def analyse(
    result: Result,
    frequency_ranking: str = MAGNITUDE_PROXY,
    heatmap_model: str | None = None,
    heatmap_shots: int | None = None,
    reported_shots: list[int] | None = None,
    max_rows: int | None = None,
    **scoring: Any,
) -> None:
    """Per-operand accuracy, the frequent-vs-rare gap, accuracy against counted frequency with its GLM, the
    micro controls and the published numbers side by side, then the claims."""
    out, profile = result.writer, result.profile
    reported_shots = list(reported_shots or (0, 4, PAPER_SHOTS))
    acc, scored, freq = accuracy_for(profile, out, max_rows=max_rows, **scoring)
    result.section("accuracy")
    if scored is None:
        result.table("model_names", model_names())
    else:
        r = scored.report
        dropped = f", left out (longer than the context): {scored.dropped_shots}" if scored.dropped_shots else ""
        result.show(
            f"{len(r.scored)} chunks scored now, {len(r.cached)} read from the cache; shots {scored.shots}"
            f"{dropped}; {scored.per_instance.fast.mean():.1%} of answers decided by the teacher-forced pass "
            "alone"
        )
        result.table("accuracy", acc, ACCURACY_NOTES)
        result.table("operand_counts", freq)
    mean = result.table("mean_accuracy", mean_accuracy(acc))
    heatmap_model = heatmap_model or mean.sort_values("params").model.iloc[-1]
    heatmap_shots = heatmap_shots if heatmap_shots is not None else int(mean.shots.max())
    for name, value, present in (
        ("heatmap_model", heatmap_model, sorted(set(mean.model.astype(str)))),
        ("heatmap_shots", heatmap_shots, sorted(set(mean.shots))),
    ):
        if value not in present:
            raise BadParameter(f"parameter {name}={value!r}: this run has {', '.join(map(str, present))}")
    final = mean[(mean.step == mean.step.max()) & (mean.shots == heatmap_shots)]
    result.show(
        final.pivot(index="model", columns="operation", values="mean_acc")
        .loc[final.sort_values("params").model.unique()]
        .round(3)
    )

    result.section("heatmap")
    if str(frequency_ranking) != MAGNITUDE_PROXY:  # a file a parameter names is an input like any other
        ranking_file = Path(frequency_ranking).resolve()
        out.record_input(
            "file", parameter="frequency_ranking", path=str(ranking_file), sha256=sha256_file(ranking_file)
        )
    order, order_label = heatmap_order(profile, freq, frequency_ranking)
    result.figure("heatmap", heatmap_figure(acc, heatmap_model, heatmap_shots, order, order_label))

    result.section("gaps")
    if scored is None:
        ranking = str(frequency_ranking)
        gaps = frequency_gap(acc, operand_ranking(frequency_ranking)).assign(ranking=ranking)
    else:
        ranking = "window"
        gaps = gaps_by_ranking(acc, rankings(freq, scored.suite.planted))
    result.table("frequency_gap", gaps, GAP_NOTES)
    reported = gaps[gaps.shots.isin(reported_shots) & (gaps.ranking == ranking)]
    result.show(
        reported.pivot_table(
            index=["operation", "model"], columns=["shots", "step"], values="gap_points", sort=False
        ).round(1)
    )
    shown = tuple(k for k in reported_shots if k in set(gaps.shots)) or tuple(sorted(set(gaps.shots)))
    main = gaps[gaps.ranking == ranking]
    result.figure("gap_multiplication", gap_figure(main, shown, "multiplication"))
    result.figure("gap_addition", gap_figure(main, shown, "addition"))
    result.show("\n".join(describe_gaps(gaps, ranking, profile)))

    result.section("frequency")
    glm = None
    if scored is None:
        result.show("The published profile has no operand counts (never released): nothing to plot or fit.")
    else:
        binned = result.table("accuracy_by_frequency", binned_accuracy(acc, freq))
        result.figure("accuracy_vs_frequency", frequency_figure(binned, max(scored.steps), "multiplication"))
        result.figure("accuracy_vs_frequency_by_checkpoint", checkpoint_frequency_figure(binned, claim_shots(gaps)))
        glm = result.table("glm", frequency_glm(acc, freq, "window"))
        result.show(glm[glm.term.isin(["lf", "lf:lp", "lf:ls"])].round(4))

    result.section("controls")
    control = None
    plants = scored is not None and scored.suite.planted  # a suite whose task statements are planted
    if not plants:
        result.show("Only the micro suite plants a control operation with known counts.")
    else:
        result.show(result.table("confound_check", confound_check(freq, max(scored.steps))).round(3))
        planted = result.table("glm_planted", planted_glm(acc, freq))
        result.show(planted[planted.term == "lf"].round(4))
        control = gaps[gaps.ranking == "task"]
        result.show("\n".join(describe_gaps(gaps, "task", "micro")))

    result.section("miniature")
    if not plants:
        result.show("The design targets below are the micro suite's.")
    else:
        targets = result.table("micro_targets", micro_targets(gaps))
        result.show(targets.round(1))

    result.section("side_by_side")
    if scored is None:
        result.show("These are the published accuracies.")
    else:
        result.show(side_by_side(mean, mean_accuracy(load_accuracy(out)), profile).round(3))

    result.section("claims")
    proxy = profile == "published" and ranking == MAGNITUDE_PROXY
    judged_on = {profile: claims(gaps, ranking, proxy=proxy, glm=glm, control=control)}
    if profile != "published":
        judged_on["published"] = published_claims(out)
    result.judge(judged_on)
