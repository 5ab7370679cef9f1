"""Finding 1: which training rows a large model memorizes can be predicted from cheaper runs.

Precision and recall of memorized-row prediction (Biderman et al. 2023) for (a) a
smaller model predicting the largest one and (b) an intermediate checkpoint predicting
the same model's final checkpoint, set against the predictor's training compute. The
published profile derives them from the authors' confusion matrices; micro and pythia
score the checkpoints here and build confusion tables of the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...data import memorized_evals
from ...data.reference import ReferenceDataError
from ...data.tokens import data_identity
from ...integrity import versions
from ...parameters import SCORING, Param
from ...report import intervals
from ...report.claims import Claim, judged, sentences, untestable
from ...report.numbers import Tolerance
from ...report.results import ResultWriter
from ...scoring import check_vocabulary, memorization_scores, token_losses
from ...suites import get_suite
from ...suites.base import Suite
from ...suites.loading import default_device, run_dtype
from ...sweep.plan import Job
from ...sweep.score_cache import ScoreCache
from ..base import Finding, Plan, Result, reference_input, scored_suite, scoring_task, sweep_plan
from ..papers import PaperFigure
from . import predictor, sets
from .equal_compute import (
    EARLY,
    EQUAL_COMPUTE_NOTES,
    METRICS,
    SMALLER,
    equal_compute_comparison,
    equal_compute_verdicts,
)
from .scores import Scored

# --- The finding, its parameters and settings ---


FINDING = Finding("memorization", "Emergent and predictable memorization", ("published",))
# Under other numerics: twice what the portable (AVX2) and native (AVX-512) builds of micro moved, judged from either
# (benchmarks/numerics.py at 12e637c: moves up to 7.1 recall points, an equal-compute precision difference
# 1.6 → 7.9 points; at 0.5·|value| none needs more than 5.45).
NUMERICS_TOLERANCE = Tolerance(relative=0.5, absolute=11.0)
HEADLINE = {  # numbers for papers beside the claims': table -> (key columns, value columns)
    "headline": (
        ["kind", "predictor"],
        ["precision", "precision_ci95_low", "precision_ci95_high", "recall", "recall_ci95_low", "recall_ci95_high"],
    ),
}
DOWNLOAD = {
    "published": "the authors' per-sequence results, EleutherAI/pythia-memorized-evals (`pythia-repro fetch "
    "memorized-evals`, about 4 GB)"
}
BOTH = ("published", "micro")
PAPER_FIGURES = (
    PaperFigure(
        "pythia",
        "Fig. 3",
        "Memorized sequences per batch of training data against a Poisson law (Q-Q plot), 12b standard and "
        "deduplicated.",
        {
            "micro": ("poisson_qq.*", "poisson_test.csv"),
            "published": ("poisson_qq_standard.*", "poisson_qq_deduplicated.*", "poisson_test.csv"),
        },
        needs=DOWNLOAD,
    ),
    PaperFigure(
        "emp",
        "Fig. 1",
        "Correlation between the sets of sequences the fully trained sizes memorize.",
        {"published": ("size_correlation.*",)},
        needs=DOWNLOAD,
    ),
    PaperFigure(
        "emp",
        "Fig. 2",
        "Precision and recall of each smaller fully trained model predicting what 12b memorizes (a table drawn as "
        "a figure); the package adds Wilson intervals.",
        dict.fromkeys(BOTH, ("precision_recall_grid.*", "precision_recall.csv")),
    ),
    PaperFigure(
        "emp",
        "Fig. 3",
        "Correlation between the memorized sets of one model's checkpoints.",
        {"published": ("checkpoint_correlation.*",)},
        status="partly",
        note="12b only: the dataset holds intermediate checkpoints of 12b alone",
        needs=DOWNLOAD,
    ),
    PaperFigure(
        "emp",
        "Fig. 4",
        "Precision and recall against training compute, every size and checkpoint predicting the final 12b.",
        dict.fromkeys(BOTH, ("precision_recall_vs_compute.*", "equal_compute.csv")),
        status="partly",
        note="13 of the paper's 56 points are public; the rest need scores never released",
    ),
    PaperFigure(
        "emp",
        "Fig. 5",
        "The distribution of memorization scores of 12b.",
        {"micro": ("score_histogram.*",)},
        status="partly",
        note="on micro only: the scores of sequences not memorized were never released",
    ),
    PaperFigure(
        "emp",
        "Figs. 6–7",
        "Figs. 4 and 5 at a 64-token threshold.",
        status="not",
        note="the scores they need were never released; micro scores at the paper's 32 tokens",
    ),
    PaperFigure(
        "emp",
        "Fig. 8",
        "The fraction of all sequences memorized over rows seen, standard against deduplicated.",
        {"published": ("memorized_fraction.*", "memorized_counts.csv")},
        needs=DOWNLOAD,
    ),
    PaperFigure(
        "emp",
        "Fig. 9",
        "Inter-checkpoint correlations, 12b against 12b-deduplicated.",
        {"published": ("checkpoint_correlation.*", "checkpoint_correlation.csv")},
        status="partly",
        note="at the 12b checkpoints each suite's split of the dataset holds",
        needs=DOWNLOAD,
    ),
    PaperFigure(
        "emp",
        "Fig. 10",
        "Fig. 2 on the deduplicated suite.",
        {"published": ("deduplicated_precision_recall.*", "set_precision_recall.csv")},
        needs=DOWNLOAD,
    ),
    PaperFigure(
        "emp",
        "Fig. 11",
        "Inter-checkpoint correlations of the other sizes.",
        status="not",
        note="the memorized sets of the other sizes' intermediate checkpoints were never released",
    ),
    PaperFigure(
        "emp",
        "Table 2",
        "Precision and recall of 6.9b and 12b checkpoints predicting their own final model.",
        dict.fromkeys(BOTH, ("precision_recall.csv", "precision_recall_grid.*")),
    ),
    PaperFigure(
        "emp",
        "Table 3",
        "Table 2 for 12b-deduplicated.",
        status="not",
        note="its confusion matrices were not found among the authors' public files",
    ),
    PaperFigure(
        "package",
        "memorization by duplicate count",
        "The fraction memorized against how often a sequence occurs in the training data.",
        {"micro": ("duplicate_curve.*",)},
    ),
    PaperFigure(
        "package",
        "learned predictor",
        "A predictor learned from an early checkpoint's scores, against the paper's threshold rule at equal compute.",
        {"micro": ("learned_predictor.*", "learned_predictor.csv")},
    ),
)
PARAMETERS = (
    *SCORING,
    Param(
        "suppress_eod",
        bool,
        help="True: as the authors, end-of-document is never generated (default: the suite's; pythia True, micro "
        "False)",
    ),
)
CONFUSION_FILE = "published/memorization/confusion_matrices.csv"
EXPERIMENTS = {
    "smaller_model_predicts_largest": "smaller model → largest model (same checkpoint)",
    "checkpoint_predicts_final": "checkpoint → same model's final",
}
TARGET = "pythia-12b"
COMMON_ROWS = 23_552_000  # the published cells are fractions of the rows with index below this
# The authors scored checkpoints every 20,000 steps from step 23,000; rows seen = 1024 × step.
EVALUATED_STEPS = tuple(range(23_000, 143_001, 20_000))
CELLS = ["tp", "fn", "fp", "tn"]
COLUMNS = ["experiment", "model", "model_v0_name", "checkpoint_million_sequences", *CELLS, "precision", "recall"]
METRIC_COLUMNS = [f"{m}{suffix}" for m in METRICS for suffix in ("", "_ci95_low", "_ci95_high")]
INTERVAL_NOTES = {f"{m}_ci95_{end}": intervals.WILSON for m in METRICS for end in ("low", "high")}
POISSON_BLOCK = 512
AGGREGATES = "the published files hold aggregate confusion matrices, not which rows were memorized"
MIN_POISSON_BLOCKS = 16
CHUNK_ROWS = 4096  # rows per cache entry
PRECISION_FLOOR = 0.8
MIN_COMPARABLE = 2
POISSON_ALPHA = 0.05
STATEMENTS = {
    "memorization.precise": "Both kinds of predictor are precise: few of the rows they flag are not memorized "
    "by the target (EMP: precision near 0.9 throughout)",
    "memorization.recall_grows_with_size": "Recall grows with the size of the smaller, fully trained predictor",
    "memorization.recall_grows_with_training": "Recall grows with the training of the target's own checkpoint",
    "memorization.equal_compute.recall": "Intermediate checkpoints are better predictors of a model's memorization "
    "than smaller fully trained models (EMP abstract), read for recall at equal "
    "compute",
    "memorization.equal_compute.precision": "Intermediate checkpoints are better predictors of a model's "
    "memorization than smaller fully trained models (EMP abstract), read "
    "for precision at equal compute",
    "memorization.poisson": "Memorized rows are spread through training like a Poisson process (training order "
    "barely matters)",
}
SECTIONS = ("scores", "headline", "equal_compute", "grid", "rows", "duplicates", "learned", "claims")


# --- Reading the authors' published files ---


def step_for_million_sequences(million: int, rows_per_step: int = 1024) -> int:
    """The evaluated step whose rows seen (×1e6, as labelled in the paper) is `million`."""
    step = min(EVALUATED_STEPS, key=lambda s: abs(s * rows_per_step / 1e6 - million))
    if abs(step * rows_per_step / 1e6 - million) >= 1:
        raise ValueError(f"no evaluated step has seen ~{million}M sequences")
    return step


def load_confusion(writer: ResultWriter | None = None) -> pd.DataFrame:
    """The published confusion matrices (fractions of rows), checked, with the step of each checkpoint."""
    path = reference_input(CONFUSION_FILE, writer)
    df = pd.read_csv(path)
    missing = set(COLUMNS) - set(df.columns)
    if missing:
        raise ReferenceDataError(f"{path}: missing columns {sorted(missing)}")
    sums = df[CELLS].sum(axis=1)
    if not sums.between(0.999, 1.001).all():
        raise ReferenceDataError(
            f"{path}: confusion cells do not sum to 1 in rows {list(df.index[~sums.between(0.999, 1.001)])}"
        )
    df["step"] = df["checkpoint_million_sequences"].map(step_for_million_sequences)
    df["checkpoint_label"] = df["checkpoint_million_sequences"].astype(str) + "M"
    df["n_rows"] = COMMON_ROWS
    return df


# --- Scoring checkpoints: the plan, and reading the scores back ---


def default_eval_steps(suite: Suite, count: int = 8) -> list[int]:
    """Evenly spaced checkpoints ending at the final one (the paper used steps 23000, 43000, …, 143000)."""
    if suite.pythia_schedule:
        return list(EVALUATED_STEPS)
    wanted = [suite.final_step * (i + 1) / count for i in range(count)]
    return sorted({suite.nearest_step(round(w)) for w in wanted} - {0})


@dataclass
class Prepared(Plan):
    """The plan, and the target, rows and dtypes that reading its scores back needs."""

    target: str
    common_rows: int
    final_rows: int
    dtypes: dict[str, str]

    def scored_data(self) -> tuple[str, dict[str, Any]]:
        return "training_data", {"suite": self.suite.name, "identity": self.task.data, "rows": self.final_rows}


def prepare(
    profile: str,
    models: list[str] | None = None,
    steps: list[int] | None = None,
    max_rows: int | None = None,
    batch_size: int | None = None,
    suppress_eod: bool | None = None,
    device: str | None = None,
    dtype: str | None = None,
) -> Prepared:
    """Flags of every model at every evaluated step on the rows all of them saw, full scores at the end."""
    import torch

    suite, models = scored_suite(profile, FINDING.name, models)
    batch_size = suite.default(FINDING.name, "batch_size", batch_size)
    target = max(models, key=lambda m: suite.spec(m).params)
    steps = sorted(set(steps or default_eval_steps(suite)) | {suite.final_step})
    for step in steps:
        suite.checkpoint(target, step)
    rows = suite.training_rows()
    limit = max_rows if max_rows is not None else float("inf")
    n_final = int(min(suite.rows_per_step * suite.final_step, limit))
    common = int(min(suite.rows_per_step * steps[0], limit))
    if n_final > rows.n_rows:
        raise ValueError(
            f"the training data holds {rows.n_rows} rows but the final checkpoint has seen "
            f"{suite.rows_per_step * suite.final_step}: the rest are a second pass over the same rows (the "
            "deduplicated Pile's, EleutherAI/pythia#144; `pythia-repro checkpoints facts` says where it starts) or the "
            f"data is cut short. Memorization scores each row of the data once, on its first pass: pass "
            f"max_rows ≤ {rows.n_rows}"
        )
    dev = torch.device(device) if device else default_device()
    dtypes = {m: run_dtype(suite, FINDING.name, m, dev, dtype) for m in models}
    suppress_eod = bool(suite.default(FINDING.name, "suppress_eod", suppress_eod))
    base = {"context_len": 32, "continuation_len": 32, "suppress_eod": suppress_eod}
    jobs = []
    for m in models:
        flag_params = tuple(sorted({**base, "fractional": False, "dtype": dtypes[m]}.items()))
        full_params = tuple(sorted({**base, "fractional": True, "dtype": dtypes[m]}.items()))
        jobs += [Job(suite.checkpoint(m, s), common, flag_params) for s in steps]
        jobs.append(Job(suite.checkpoint(m, suite.final_step), n_final, full_params))
    cheapest = min(models, key=lambda m: suite.spec(m).params)  # its loss is a feature of the learned predictor
    loss_params = (("dtype", dtypes[cheapest]), ("measure", "loss"), ("window", 64))
    jobs.append(Job(suite.checkpoint(cheapest, suite.final_step), common, loss_params))

    def score(model, start, stop, params):
        windows = rows.windows(start, stop, 64)
        check_vocabulary(model, windows, start, "training row")
        if params.get("measure") == "loss":
            return pd.DataFrame({"loss": token_losses(model, windows, batch_size=batch_size).mean(1)})
        return memorization_scores(
            model,
            windows,
            batch_size=batch_size,
            fractional=params["fractional"],
            suppress_eod=params["suppress_eod"],
            eod_id=suite.eod_id,
        ).to_frame()

    def available(checkpoint):
        return min(suite.rows_per_step * checkpoint.step, rows.n_rows)

    identity = data_identity(suite.data_prefix)
    task = scoring_task(
        FINDING,
        suite,
        data=identity,
        scorer=versions.MEMORIZATION,
        jobs=jobs,
        score=score,
        rows=available,
        chunk_rows=CHUNK_ROWS,
        device=dev,
        row_tokens=64,
    )
    return Prepared(task, suite, models, steps, target=target, common_rows=common, final_rows=n_final, dtypes=dtypes)


def score_suite(
    profile: str, writer: ResultWriter | None = None, cache: ScoreCache | None = None, progress: bool = True, **options
) -> Scored:
    """Score every model at every evaluated step (cached, resumable) and return the per-row results.

    `options` are those of `prepare`."""
    prep = prepare(profile, **options)
    results, report = sweep_plan(prep, writer, cache, progress, dtype=prep.dtypes)
    kind = {key: dict(key[1]).get("measure") or ("full" if dict(key[1])["fractional"] else "flags") for key in results}
    flags = pd.concat(
        [frame.assign(model=c.model, step=c.step) for (c, p), frame in results.items() if kind[c, p] == "flags"],
        ignore_index=True,
    )
    finals = pd.concat(
        [frame.assign(model=c.model) for (c, p), frame in results.items() if kind[c, p] == "full"], ignore_index=True
    )
    losses = pd.concat(
        [frame.assign(model=c.model) for (c, p), frame in results.items() if kind[c, p] == "loss"], ignore_index=True
    )
    return Scored.of(
        prep, report, target=prep.target, common_rows=prep.common_rows, flags=flags, finals=finals, losses=losses
    )


def precision_recall_for(
    profile: str, writer: ResultWriter | None = None, **scoring
) -> tuple[pd.DataFrame, str, Scored | None]:
    """The precision/recall table of a profile, its target model, and (unless published) the scores behind it."""
    if profile == "published":
        return precision_recall(load_confusion(writer)), TARGET, None
    scored = score_suite(profile, writer, **scoring)
    return precision_recall(scored_confusion(scored), scored.suite, scored.target), scored.target, scored


def planted_duplicates(suite: Suite) -> pd.DataFrame:
    """Micro only: the planted duplicate count of every training row (ground truth of the build)."""
    return pd.read_parquet(suite.local_root / "data" / "rows_ground_truth.parquet")


# --- Analysis: pure functions from tables to tables ---


def precision_recall(confusion: pd.DataFrame, suite: Suite | None = None, target: str = TARGET) -> pd.DataFrame:
    """Precision, recall (Wilson 95% intervals), the row counts behind them and predictor compute.

    `confusion` holds fractions of `n_rows` rows; counts are those fractions times `n_rows`, rounded (the
    published fractions carry 7 decimals, so their counts are exact to about one row)."""
    suite = suite or get_suite("pythia")
    final_compute = suite.compute(target, suite.final_step)
    df = confusion.copy()
    df["tp_rows"] = (df.tp * df.n_rows).round().astype(np.int64)
    df["predicted_rows"] = ((df.tp + df.fp) * df.n_rows).round().astype(np.int64)
    df["target_rows"] = ((df.tp + df.fn) * df.n_rows).round().astype(np.int64)
    df["precision"] = df.tp / (df.tp + df.fp)
    df["recall"] = df.tp / (df.tp + df.fn)
    df["precision_ci95_low"], df["precision_ci95_high"] = intervals.wilson(df.tp_rows, df.predicted_rows)
    df["recall_ci95_low"], df["recall_ci95_high"] = intervals.wilson(df.tp_rows, df.target_rows)
    df["params"] = df.model.map(lambda m: suite.spec(m).params)
    df["compute"] = [suite.compute(m, s) for m, s in zip(df.model, df.step)]
    df["compute_fraction_of_target_final"] = df.compute / final_compute
    keep = [
        "experiment",
        "model",
        "params",
        "checkpoint_label",
        "step",
        *METRIC_COLUMNS,
        "tp_rows",
        "predicted_rows",
        "target_rows",
        "n_rows",
        "compute",
        "compute_fraction_of_target_final",
    ]
    return df[keep].sort_values(["experiment", "params", "step"], ignore_index=True)


def headline(pr: pd.DataFrame, target: str = TARGET) -> pd.DataFrame:
    """Two kinds of predictor of the target's final memorization: smaller final models, and target checkpoints."""
    final = pr.step.max()
    smaller = pr[(pr.experiment == "smaller_model_predicts_largest") & (pr.step == final) & (pr.model != target)]
    early = pr[(pr.experiment == "checkpoint_predicts_final") & (pr.model == target) & (pr.step < final)]
    out = pd.concat(
        [
            smaller.assign(kind=SMALLER, predictor=smaller.model + " (final)"),
            early.assign(kind=EARLY, predictor=target + " @ " + early.checkpoint_label),
        ]
    )
    return out[
        [
            "kind",
            "predictor",
            "compute_fraction_of_target_final",
            *METRIC_COLUMNS,
            "tp_rows",
            "predicted_rows",
            "target_rows",
        ]
    ].reset_index(drop=True)


def grid(pr: pd.DataFrame, experiment: str, value: str) -> pd.DataFrame:
    """Model × checkpoint table of one metric, models ordered by size."""
    sub = pr[pr.experiment == experiment]
    table = sub.pivot(index="model", columns="step", values=value)
    table = table.reindex(sub.sort_values("params").model.unique())
    labels = dict(zip(sub.step, sub.checkpoint_label))
    table.columns = [labels[c] for c in table.columns]
    return table.reset_index()


def scored_confusion(scored: Scored) -> pd.DataFrame:
    """Confusion cells (fractions of the common rows) for both experiments, shaped like the published table."""
    flags = scored.flags.pivot_table(index="row", columns=["model", "step"], values="memorized", aggfunc="first")
    final = scored.suite.final_step
    rows = []
    for model in scored.models:
        for step in scored.steps:
            pred = flags[(model, step)].to_numpy(bool)
            for experiment, truth in (
                ("smaller_model_predicts_largest", flags[(scored.target, step)]),
                ("checkpoint_predicts_final", flags[(model, final)]),
            ):
                truth = truth.to_numpy(bool)
                rows.append(
                    {
                        "experiment": experiment,
                        "model": model,
                        "step": step,
                        "checkpoint_label": f"step{step}",
                        "tp": np.mean(pred & truth),
                        "fn": np.mean(~pred & truth),
                        "fp": np.mean(pred & ~truth),
                        "tn": np.mean(~pred & ~truth),
                        "n_rows": len(pred),
                    }
                )
    return pd.DataFrame(rows)


def memorization_rates(scored: Scored) -> pd.DataFrame:
    """Share of memorized rows per model and step (common rows), and at the final step over every scored row."""
    common = (
        scored.flags.groupby(["model", "step"])
        .memorized.agg(rows="count", memorized_rate="mean")
        .reset_index()
        .assign(rows_set="common")
    )
    final = (
        scored.finals.groupby("model")
        .memorized.agg(rows="count", memorized_rate="mean")
        .reset_index()
        .assign(step=scored.suite.final_step, rows_set="all seen")
    )
    out = pd.concat([common, final], ignore_index=True)
    out["params"] = out.model.map(lambda m: scored.suite.spec(m).params)
    return out.sort_values(["rows_set", "params", "step"], ignore_index=True)


def poisson_test(memorized: np.ndarray, block: int = POISSON_BLOCK) -> tuple[np.ndarray, dict]:
    """Memorized rows per consecutive block of training rows, and a test of Poisson(λ = mean count).

    The index-of-dispersion statistic D = Σ(x − x̄)²/x̄ follows χ²(n − 1) under a Poisson law; the
    two-sided p-value says whether counts are more (or less) variable than training position alone allows.
    With fewer than 16 blocks of `block` rows, blocks shrink to len/16 rows (the table records the size used).
    """
    block = max(1, min(block, len(memorized) // MIN_POISSON_BLOCKS))
    n_blocks = len(memorized) // block
    counts = np.asarray(memorized[: n_blocks * block], dtype=int).reshape(n_blocks, block).sum(1)
    return counts, poisson_of_counts(counts, block)


def poisson_of_counts(counts: np.ndarray, block: int) -> dict:
    """The index-of-dispersion test of `poisson_test` on counts already made, one per block of `block` rows."""
    from scipy import stats

    n_blocks = len(counts)
    lam = counts.mean()
    dispersion = float(((counts - lam) ** 2).sum() / lam) if lam > 0 else float("nan")
    cdf = stats.chi2.cdf(dispersion, n_blocks - 1) if lam > 0 else float("nan")
    return {
        "blocks": n_blocks,
        "block_rows": block,
        "lambda": lam,
        "variance": counts.var(ddof=1),
        "dispersion_statistic": dispersion,
        "dof": n_blocks - 1,
        "p_value_two_sided": float(2 * min(cdf, 1 - cdf)) if lam > 0 else float("nan"),
    }


DUPLICATE_KINDS = {  # the micro suite's kinds of duplicated row (ground truth), as the figure names them
    "planted": "high-entropy passages",
    "natural": "natural-language passages",
    "templated": "templated passages, each variant",
}


def duplicate_curve(finals: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Micro only: share of rows memorized by each final model against the planted duplicate count, per kind of
    row (`DUPLICATE_KINDS`, and `unique`: rows with no copy). A templated row's count is its variant's."""
    merged = finals.merge(truth, on="row")
    keys = ["model", "kind", "duplicate_count"]
    return merged.groupby(keys).memorized.agg(rows="count", memorized_rate="mean").reset_index()


# The grid is informative, not saturated at 0 or 1. Measured 0.517 (AVX-512 kernels) and 0.483 (AVX2) on two builds
# of the same recipe (benchmarks/numerics.py): "most cells" held on one and not the other; 0.4 holds on both by 5 cells.
GRID_INSIDE = 0.4


def micro_targets(pr: pd.DataFrame, curve: pd.DataFrame, target: str) -> pd.DataFrame:
    """The micro suite's design targets (is there something to measure beyond one planted set?): at least
    `GRID_INSIDE` of the precision/recall grid's cells strictly between 0 and 1, and natural-text rows memorized by
    the target at some count. Not claims of the paper. Cells where a predictor is its own target (1 by definition)
    are left out."""
    itself = ((pr.experiment == "smaller_model_predicts_largest") & (pr.model == target)) | (
        (pr.experiment == "checkpoint_predicts_final") & (pr.step == pr.step.max())
    )
    cells = pd.concat([pr[~itself].precision, pr[~itself].recall]).dropna()
    inside = float(((cells > 0) & (cells < 1)).mean()) if len(cells) else float("nan")
    natural = curve[(curve.model == target) & (curve.kind == "natural")]
    best = natural.memorized_rate.max() if len(natural) else float("nan")
    rows = [
        (
            f"share of the {len(cells)} precision/recall cells (predictor not its own target) strictly between 0 and 1",
            inside,
            f">= {GRID_INSIDE}",
            inside >= GRID_INSIDE,
        ),
        (f"{target} (final): highest share of natural-text duplicates memorized at any count", best, "> 0", best > 0),
    ]
    return pd.DataFrame(rows, columns=["target", "measured", "required", "met"])


# --- Figures ---


def compute_figure(head: pd.DataFrame, target: str = TARGET):
    """Precision and recall against the predictor's compute, for both kinds of predictor."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharex=True)
    for ax, metric in zip(axes, ["precision", "recall"]):
        sns.lineplot(
            head,
            x="compute_fraction_of_target_final",
            y=metric,
            hue="kind",
            style="kind",
            markers=True,
            dashes=False,
            ax=ax,
        )
        ax.set_xscale("log")
        ax.set_xlabel(f"predictor compute / {target} final compute")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{metric} of predicting {target}'s memorized rows", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes:
        ax.get_legend().remove()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)  # below the panels, off the data
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def grid_figure(pr: pd.DataFrame):
    """Heatmaps of precision and recall over model × checkpoint for both experiments."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for row, experiment in zip(axes, EXPERIMENTS):
        for ax, metric in zip(row, ["precision", "recall"]):
            table = grid(pr, experiment, metric).set_index("model")
            sns.heatmap(table, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", cbar=False, ax=ax)
            ax.set_title(f"{metric}: {EXPERIMENTS[experiment]}", fontsize=9)
            ax.set_xlabel("predictor checkpoint")
            ax.set_ylabel("")
    fig.tight_layout()
    return fig


def histogram_figure(finals: pd.DataFrame, continuation_len: int = 32):
    """Distribution of final-checkpoint scores per model (32 bins, log count axis)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    edges = (np.arange(continuation_len + 2) - 0.5) / continuation_len
    sns.histplot(finals, x="score", hue="model", bins=edges, element="step", fill=False, ax=ax, palette="viridis")
    ax.set_yscale("log")
    ax.set_xlabel("memorization score (fraction of the 32 continuation tokens reproduced)")
    ax.set_title("scores at the final checkpoint: a spike at 1 is memorization")
    fig.tight_layout()
    return fig


def poisson_figure(counts: np.ndarray, lam: float, title: str):
    """Q-Q plot of block counts against Poisson(λ) (statsmodels ProbPlot)."""
    import matplotlib.pyplot as plt
    from scipy import stats
    from statsmodels.graphics.gofplots import ProbPlot

    fig, ax = plt.subplots(figsize=(4.2, 4))
    ProbPlot(counts, dist=stats.poisson(lam)).qqplot(line="45", ax=ax, alpha=0.6)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(f"Poisson(λ={lam:.2f}) quantiles")
    ax.set_ylabel("memorized rows per block")
    fig.tight_layout()
    return fig


def duplicate_figure(curve: pd.DataFrame):
    import matplotlib.pyplot as plt
    import seaborn as sns

    kinds = [k for k in DUPLICATE_KINDS if k in set(curve.kind)]
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 3.6), sharey=True, squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        sub = curve[curve.kind == kind]
        sns.lineplot(sub, x="duplicate_count", y="memorized_rate", hue="model", marker="o", ax=ax, palette="viridis")
        ax.set_xscale("log", base=2)
        ax.set_xlabel(f"copies in training ({DUPLICATE_KINDS[kind]})")
        ax.set_ylabel("share of copies memorized (final)")
    fig.tight_layout()
    return fig


# --- Claims and the sentences that state them ---


def claims(pr: pd.DataFrame, target: str, poisson: dict | None = None, why: str = AGGREGATES) -> list[Claim]:
    """Every memorization claim judged on one precision/recall table (and the Poisson test where rows exist; `why`
    it is not testable where they do not)."""
    head = headline(pr, target)
    smaller, early = head[head.kind == SMALLER], head[head.kind == EARLY]
    return [
        precise_claim(head),
        growth_claim("memorization.recall_grows_with_size", smaller, "predictor size"),
        growth_claim("memorization.recall_grows_with_training", early, "checkpoint step"),
        *equal_compute_claims(equal_compute_verdicts(equal_compute_comparison(head))),
        poisson_claim(poisson, why),
    ]


def published_claims(writer: ResultWriter | None = None) -> list[Claim]:
    """The claims judged on the authors' confusion matrices (for side-by-side comparison)."""
    return claims(precision_recall(load_confusion(writer)), TARGET)


def equal_compute_claims(verdicts: pd.DataFrame) -> list[Claim]:
    """The EMP abstract's claim read for each metric, from `equal_compute_verdicts`."""
    return [equal_compute_claim(row["metric"], row) for row in verdicts.to_dict("records")]


def precise_claim(head: pd.DataFrame) -> Claim:
    id = "memorization.precise"
    test = f"every predictor that flags at least one row has precision ≥ {PRECISION_FLOOR}"
    flagged = head[head.predicted_rows > 0]
    if flagged.empty:
        return untestable(id, STATEMENTS[id], test, "no predictor flags any row as memorized")
    worst = flagged.loc[flagged.precision.idxmin()]
    return judged(
        id,
        STATEMENTS[id],
        test,
        bool(worst.precision >= PRECISION_FLOOR),
        f"lowest precision {worst.precision:.3f} ({worst.predictor}), median "
        f"{flagged.precision.median():.3f} over {len(flagged)} predictors; {len(head) - len(flagged)} flag "
        "no row",
        min_precision=worst.precision,
        median_precision=flagged.precision.median(),
        predictors=len(flagged),
        without_flags=len(head) - len(flagged),
    )


def growth_claim(id: str, predictors: pd.DataFrame, axis: str) -> Claim:
    """Recall rises along the predictors (ordered by compute): Spearman ρ > 0 and last above first beyond intervals."""
    from scipy import stats

    test = (
        f"Spearman ρ of recall with {axis} > 0, and the last predictor's 95% Wilson interval lies above the first one's"
    )
    if len(predictors) < 2:
        return untestable(id, STATEMENTS[id], test, f"{len(predictors)} predictor(s) of this kind: nothing to order")
    ordered = predictors.sort_values("compute_fraction_of_target_final")
    first, last = ordered.iloc[0], ordered.iloc[-1]
    rho = float(stats.spearmanr(np.arange(len(ordered)), ordered.recall)[0]) if ordered.recall.nunique() > 1 else 0.0
    passed = rho > 0 and last.recall_ci95_low > first.recall_ci95_high
    return judged(
        id,
        STATEMENTS[id],
        test,
        bool(passed),
        f"recall {first.recall:.3f} [{first.recall_ci95_low:.3f}, {first.recall_ci95_high:.3f}] "
        f"({first.predictor}) → {last.recall:.3f} "
        f"[{last.recall_ci95_low:.3f}, {last.recall_ci95_high:.3f}] "
        f"({last.predictor}); Spearman ρ {rho:.2f} over {len(ordered)}",
        spearman_rho=rho,
        first_recall=first.recall,
        last_recall=last.recall,
        predictors=len(ordered),
    )


def equal_compute_claim(metric: str, v: dict) -> Claim:
    """The EMP abstract's claim for one metric, from `equal_compute_verdicts` (one row, as a dict)."""
    id = f"memorization.equal_compute.{metric}"
    test = (
        f"at the checkpoints whose compute lies inside the smaller models' range (at least {MIN_COMPARABLE}), "
        f"the checkpoint's {metric} exceeds the smaller models' interpolated {metric} at most of them, and on "
        "average"
    )
    numbers = {
        k: v[k]
        for k in (
            "comparable",
            "checkpoint_wins",
            "smaller_wins",
            "ties",
            "checkpoint_wins_beyond_intervals",
            "smaller_wins_beyond_intervals",
            "mean_difference_points",
            "min_difference_points",
            "max_difference_points",
        )
    }
    if v["comparable"] < MIN_COMPARABLE:
        return untestable(
            id,
            STATEMENTS[id],
            test,
            f"only {v['comparable']} of {v['checkpoints']} checkpoints lie "
            "inside the smaller models' compute range with a defined value",
            **numbers,
        )
    passed = v["checkpoint_wins"] > v["comparable"] / 2 and v["mean_difference_points"] > 0
    return judged(
        id,
        STATEMENTS[id],
        test,
        bool(passed),
        f"checkpoints win {v['checkpoint_wins']} of {v['comparable']} comparable points "
        f"({v['checkpoint_wins_beyond_intervals']} beyond the 95% intervals), smaller models "
        f"{v['smaller_wins']} ({v['smaller_wins_beyond_intervals']} beyond), ties {v['ties']}; "
        "checkpoint minus smaller "
        f"{v['mean_difference_points']:+.1f} points on average ({v['min_difference_points']:+.1f} to "
        f"{v['max_difference_points']:+.1f}); {v['out_of_range_or_undefined']} of {v['checkpoints']} "
        "checkpoints out of range or undefined",
        **numbers,
    )


def poisson_claim(test_result: dict | None, why: str = AGGREGATES) -> Claim:
    id = "memorization.poisson"
    test = (
        f"index-of-dispersion test of memorized rows per block against Poisson(λ = mean): two-sided p ≥ {POISSON_ALPHA}"
    )
    if test_result is None:
        return untestable(id, STATEMENTS[id], test, why)
    p = test_result["p_value_two_sided"]
    if np.isnan(p):
        return untestable(id, STATEMENTS[id], test, "the target memorizes no row: no counts to test")
    return judged(
        id,
        STATEMENTS[id],
        test,
        bool(p >= POISSON_ALPHA),
        f"D = {test_result['dispersion_statistic']:.1f} on {test_result['dof']} dof, p = {p:.3f} "
        f"({test_result['blocks']} blocks of {test_result['block_rows']} rows, "
        f"λ = {test_result['lambda']:.2f})",
        p_value=p,
        dispersion=test_result["dispersion_statistic"],
        blocks=test_result["blocks"],
    )


# --- The authors' memorized sets, on published ---


def published_sets(writer: ResultWriter | None) -> tuple[sets.Sets | None, str]:
    """The authors' memorized sets from the hub cache, recorded as an input; until they are downloaded (or when a
    download is incomplete), None and what is wrong."""
    try:
        found = memorized_evals.load()
    except memorized_evals.MemorizedEvalsMissing as err:
        return None, str(err)
    if writer is not None:
        writer.record_input(
            "hub_dataset", repo=memorized_evals.REPO, revision=memorized_evals.REVISION, splits=len(found)
        )
    return found, ""


def published_rows(result: Result, found: sets.Sets) -> dict:
    """The per-row views of the authors' sets: shares memorized, correlations between sizes and between 12b
    checkpoints, precision and recall from the sets, and memorized rows per batch against Poisson (Pythia Fig. 3);
    returns the standard 12b's Poisson test, which the claim judges."""
    pythia = get_suite("pythia")
    table = result.table(
        "memorized_counts", sets.counts(found, {m: pythia.spec(m).params for m in pythia.models}), sets.FRACTION_NOTES
    )
    result.figure("memorized_fraction", sets.fraction_figure(table))
    result.show(table.pivot_table(index="model", columns="step", values="fraction", sort=False).round(5))
    order = {name: i for i, name in enumerate(table.split)}
    by_suite = {
        suite: sorted((s for s in found if sets.suite_of(s) == suite), key=lambda s: order[s.name])
        for suite in ("standard", "deduplicated")
    }
    finals = {suite: [s for s in splits if s.step == memorized_evals.FINAL_STEP] for suite, splits in by_suite.items()}
    targets = {suite: [s for s in splits if s.model.startswith(TARGET)] for suite, splits in by_suite.items()}
    for name, groups, title in (
        ("size_correlation", finals, "fully trained sizes"),
        ("checkpoint_correlation", targets, "12b checkpoints"),
    ):
        tables = {suite: sets.correlations(found, splits).assign(suite=suite) for suite, splits in groups.items()}
        result.table(name, pd.concat(tables.values(), ignore_index=True))
        result.figure(name, sets.correlation_figure({f"{title}, {suite} (phi)": t for suite, t in tables.items()}))
    pr = []
    for suite in by_suite:
        target = targets[suite][-1]
        smaller = [s for s in finals[suite] if s != target]
        early = [s for s in targets[suite] if s != target]
        pr.append(sets.precision_recall(found, target, smaller + early, COMMON_ROWS).assign(suite=suite))
    pr = result.table("set_precision_recall", pd.concat(pr, ignore_index=True), sets.PR_NOTES)
    result.show(pr[["suite", "predictor", "precision", "recall"]].round(3))
    deduplicated = pr[pr.suite == "deduplicated"]
    result.figure(
        "deduplicated_precision_recall",
        sets.precision_recall_figure(deduplicated, f"predicting {TARGET}-deduped (rows below {COMMON_ROWS:,})"),
    )
    tests = {}
    for suite in by_suite:
        target = finals[suite][-1]
        counts = sets.per_batch(target, found[target])
        tests[suite] = poisson_of_counts(counts, memorized_evals.ROWS_PER_STEP)
        title = f"{target.model}, final: memorized rows per training batch"
        result.figure(f"poisson_qq_{suite}", poisson_figure(counts, tests[suite]["lambda"], title))
    result.table("poisson_test", pd.DataFrame([{"suite": k, **v} for k, v in tests.items()]))
    return tests["standard"]


# --- The notebook's analysis, section by section ---


def analyse(result: Result, **params: Any) -> None:
    """Precision and recall of both predictors, the equal-compute comparison, the scored profiles' row-level
    views and the learned predictor, then the claims."""
    out, profile = result.writer, result.profile
    pr, target, scored = precision_recall_for(profile, out, **params)  # all are scoring options
    result.section("scores")
    result.table("precision_recall", pr, INTERVAL_NOTES)
    if scored is not None:
        r = scored.report
        result.show(
            f"target {target}; {len(r.scored)} chunks scored now, {len(r.cached)} read from the cache; "
            f"flags on rows [0, {scored.common_rows}), full scores on {scored.finals.row.nunique()} rows"
        )
    result.show(pr.head())

    result.section("headline")
    head = result.table("headline", headline(pr, target), INTERVAL_NOTES)
    result.show(head.round(3))
    result.figure("precision_recall_vs_compute", compute_figure(head, target))

    result.section("equal_compute")
    equal = result.table("equal_compute", equal_compute_comparison(head), EQUAL_COMPUTE_NOTES)
    verdicts = result.table("equal_compute_verdicts", equal_compute_verdicts(equal))
    result.show(equal.round(4))
    result.show(verdicts.round(2))
    result.show(sentences(equal_compute_claims(verdicts)))

    result.section("grid")
    result.figure("precision_recall_grid", grid_figure(pr))

    result.section("rows")
    poisson, why = None, AGGREGATES
    found, absent = published_sets(out) if scored is None else (None, "")
    if absent:
        why = f"{AGGREGATES}; the per-row test needs {DOWNLOAD['published']}"
        result.show(f"The per-row figures need {DOWNLOAD['published']}: {absent}")
    elif scored is None:
        poisson = published_rows(result, found)
    else:
        rates = result.table("memorization_rates", memorization_rates(scored))
        result.show(
            rates.pivot_table(index="model", columns=["rows_set", "step"], values="memorized_rate", sort=False).round(4)
        )
        result.figure("score_histogram", histogram_figure(scored.finals))
        final_target = scored.finals[scored.finals.model == target].sort_values("row")
        counts, poisson = poisson_test(final_target.memorized.to_numpy())
        result.table("poisson_test", pd.DataFrame([poisson]))
        result.figure(
            "poisson_qq", poisson_figure(counts, poisson["lambda"], f"{target}, final: blocks of {POISSON_BLOCK} rows")
        )

    result.section("duplicates")
    if scored is None or not scored.suite.planted:
        result.show("Only the micro suite plants passages a known number of times.")
    else:
        curve = result.table("duplicate_curve", duplicate_curve(scored.finals, planted_duplicates(scored.suite)))
        result.figure("duplicate_curve", duplicate_figure(curve))
        result.show(curve.pivot(index=["kind", "duplicate_count"], columns="model", values="memorized_rate").round(2))
        result.show(result.table("micro_targets", micro_targets(pr, curve, target)).round(3))

    result.section("learned")
    learned_vs_best = None
    if scored is None:
        result.show(
            "The published files hold aggregate confusion matrices, not per-row scores: no predictor can be fitted."
        )
    elif not any(s < scored.suite.final_step for s in scored.steps):
        learned_vs_best = pd.DataFrame(columns=["learned_minus_best_points"])
        result.show(f"Only the final checkpoint was scored (steps {scored.steps}): no earlier budget to fit at.")
    else:
        learned, coefficients, calibration = predictor.evaluate(scored)
        result.table("learned_predictor", learned, predictor.TABLE_NOTES)
        result.table("learned_coefficients", coefficients, predictor.COEFFICIENT_NOTES)
        result.table("learned_calibration", calibration)
        learned_vs_best = result.table(
            "learned_equal_compute", predictor.equal_compute(learned), predictor.EQUAL_COMPUTE_NOTES
        )
        result.figure("learned_predictor", predictor.figure(learned, calibration, target))
        own = learned[learned.kind == predictor.LEARNED]
        result.show(own[["predictor", "best_input", "best_input_recall", "precision", "recall"]].round(3))
        result.show(learned_vs_best.round(3))

    result.section("claims")
    judged_on = {profile: claims(pr, target, poisson, why) + [predictor.learned_claim(learned_vs_best)]}
    if profile != "published":
        judged_on["published"] = published_claims(out) + [predictor.learned_claim(None)]
    result.judge(judged_on)
