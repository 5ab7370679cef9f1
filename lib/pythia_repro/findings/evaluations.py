"""Finding 5: the Pythia paper's benchmark evaluations over training and scale (its Appendix G).

Published profile only: the authors' lm-evaluation-harness result files, one per model, checkpoint and shot count
(zero- and five-shot, standard and deduplicated Pythia), and the OPT and BLOOM baselines the paper compares
against (zero-shot, final models). Nothing is scored: the finding reads the files, tabulates the final models
(the paper's tables), draws each benchmark over training and against the baselines by size (its figures), and
tests what the paper says of them (better with scale and with training, deduplication without a clear effect,
comparable to OPT and BLOOM) with intervals from the files' standard errors.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from ..data.names import EVALUATION_NAMES
from ..data.reference import ReferenceDataError, paths
from ..parameters import Param
from ..report import intervals
from ..report.claims import Claim, judged
from ..report.plots import step_axis
from ..suites import get_suite
from .base import Finding, Result, reference_input
from .papers import PaperFigure

# --- The finding, its parameters and settings ---


FINDING = Finding("evaluations", "Benchmarks over training and scale (Pythia paper, Appendix G)", ("published",))
BENCHMARKS = {  # lm-evaluation-harness task → label, in the order of the paper's appendix
    "lambada_openai": "LAMBADA (OpenAI)",
    "piqa": "PIQA",
    "winogrande": "WinoGrande",
    "wsc": "WSC",
    "arc_easy": "ARC-Easy",
    "arc_challenge": "ARC-Challenge",
    "sciq": "SciQ",
    "logiqa": "LogiQA",
}
PARAMETERS = (
    Param(
        "benchmarks",
        str,
        many=True,
        choices=tuple(BENCHMARKS),
        help="benchmarks the average and the claims take (default: the paper's eight)",
    ),
)
PAPER_FIGURES = (
    PaperFigure(
        "pythia",
        "Tables 7–16",
        "Zero- and five-shot accuracy of every final model, standard and deduplicated, on LAMBADA, PIQA, "
        "WinoGrande, WSC, ARC, SciQ and LogiQA, beside OPT and BLOOM (Appendix G); the package adds 95% intervals.",
        {"published": ("final_accuracy.csv",)},
        status="partly",
        note="one long table (the notebook shows it per suite and shot count); how the paper splits it into ten "
        "tables was not checked against the printed pages",
    ),
    PaperFigure(
        "pythia",
        "Figs. 8–15",
        "Each benchmark over training (zero- and five-shot, every size, standard and deduplicated) and the final "
        "models against OPT and BLOOM by parameter count (Appendix G).",
        {"published": ("benchmark_*.*",)},
        status="partly",
        note="one figure per benchmark in the appendix's order; the panel layout is the package's, not checked "
        "panel by panel against the printed figures",
    ),
    PaperFigure(
        "package",
        "benchmark average",
        "The eight benchmarks' average over training and by size, with 95% intervals: what the claims test.",
        {"published": ("average.*",)},
    ),
)
FOLDER = "published/evaluations"
SUITES = ("pythia", "pythia-deduped", "opt", "bloom", "pythia-batch")  # the last: the authors' batch-size ablation
FINAL_STEP = 143000
TOKENS_PER_STEP = 2_097_152  # 1024 rows of 2048 tokens
EARLY_STEP = 3000  # the first evaluated checkpoint after the 1% learning-rate warm-up (1430 steps)
EQUIVALENCE_POINTS = 2.0  # "no clear effect", "comparable": the 95% interval of a mean difference within ±2 points
SHOTS_FOLDERS = {"zero-shot": 0, "five-shot": 5}
_PYTHIA_FILE = re.compile(r"^pythia-v1/(?P<folder>[^/]+)/(?P<shots>zero-shot|five-shot)/[^/]*step(?P<step>\d+)\.json$")
_BASELINE_FILE = re.compile(r"^(?P<suite>opt|bloom)/(?P<model>(?:opt|bloom)-[^/]+)\.json$")
_BATCH = re.compile(r"-(?P<millions>[\d.]+)MtokBS$")
_SIZE = re.compile(r"^(?P<whole>\d+)(?:\.(?P<frac>\d+))?(?P<unit>[mb])(?P<tail>\d*)$")
NORMAL_FROM_STDERR = "normal approximation from the file's standard error (lm-evaluation-harness), 95%"
MEAN_FROM_STDERRS = "normal approximation, standard error √(Σ se²)/k over the k benchmarks (independent), 95%"
DIFFERENCE_FROM_STDERRS = "normal approximation (Wald) for a difference, variances from the files' standard errors, 95%"
POOLED_DIFFERENCE = "inverse-variance weighted mean of the differences, normal approximation (Wald), 95%"
INTERPOLATED_DIFFERENCE_EACH = (
    "normal approximation (Wald) for a difference, Pythia's variance interpolated linearly in log10(parameters), 95%"
)
INTERPOLATED_DIFFERENCE = (
    "Pythia's average interpolated linearly in log10(parameters) (its variance likewise) minus the baseline's; "
    "mean over the baseline's models, normal approximation (Wald), 95%"
)
RESULT_NOTES = {
    "acc_ci95_low": NORMAL_FROM_STDERR,
    "acc_ci95_high": NORMAL_FROM_STDERR,
    "params": "Pythia: counted from the architecture; OPT and BLOOM: nominal, from the model's name",
    "tokens": "training tokens seen at the checkpoint (step × tokens per step of the model's batch size)",
}
AVERAGE_NOTES = {"acc_ci95_low": MEAN_FROM_STDERRS, "acc_ci95_high": MEAN_FROM_STDERRS}
GAIN_NOTES = {"gain_ci95_low": DIFFERENCE_FROM_STDERRS, "gain_ci95_high": DIFFERENCE_FROM_STDERRS}
DIFFERENCE_NOTES = {"difference_ci95_low": DIFFERENCE_FROM_STDERRS, "difference_ci95_high": DIFFERENCE_FROM_STDERRS}
GAP_NOTES = {
    "difference_ci95_low": INTERPOLATED_DIFFERENCE_EACH,
    "difference_ci95_high": INTERPOLATED_DIFFERENCE_EACH,
}
STATEMENTS = {
    "evaluations.better_with_scale": "Larger Pythia models score higher on the benchmarks (Appendix G)",
    "evaluations.better_with_training": "Every Pythia model scores higher at the end of training than early in it "
    "(Appendix G, over training)",
    "evaluations.deduplication_no_clear_effect": "Training on the deduplicated Pile has no clear effect on benchmark "
    "accuracy (Appendix G)",
    "evaluations.comparable_to_opt": "Pythia performs comparably to OPT of the same size (Section 2.6, Appendix G)",
    "evaluations.comparable_to_bloom": "Pythia performs comparably to BLOOM of the same size (Section 2.6, Appendix G)",
}
SECTIONS = ("results", "final", "over_training", "deduplication", "baselines", "claims")


# --- Reading the authors' published files ---


def nominal_params(name: str) -> float:
    """Parameters a baseline's name states: `opt-1.3b` 1.3e9, `bloom-7b1` 7.1e9, `opt-125m` 1.25e8."""
    size = name.split("-", 1)[1]
    match = _SIZE.match(size)
    if match is None:
        raise ReferenceDataError(f"no parameter count in the baseline name {name!r}")
    digits = f"{match['whole']}.{match['frac'] or match['tail'] or 0}"
    return float(digits) * (1e9 if match["unit"] == "b" else 1e6)


def _describe(path: str, config: dict) -> dict[str, Any]:
    """Suite, model, step, tokens and shots of one released file, its path checked against its own config."""
    if match := _BASELINE_FILE.match(path):
        return {
            "suite": match["suite"],
            "model": match["model"],
            "params": nominal_params(match["model"]),
            "step": np.nan,
            "tokens": np.nan,
            "shots": int(config["num_fewshot"]),
        }
    match = _PYTHIA_FILE.match(path)
    if match is None:
        raise ReferenceDataError(f"{FOLDER}/{path}: not a file layout the evaluations reader knows")
    folder, step, shots = match["folder"], int(match["step"]), SHOTS_FOLDERS[match["shots"]]
    revision = re.search(r"revision=step(\d+)", config.get("model_args", ""))
    if config.get("num_fewshot") != shots or revision is None or int(revision[1]) != step:
        raise ReferenceDataError(
            f"{FOLDER}/{path}: the file's config (num_fewshot={config.get('num_fewshot')}, "
            f"{config.get('model_args')}) disagrees with its place ({shots} shots, step {step}); it was not used"
        )
    model = EVALUATION_NAMES.get(folder, folder)
    batch = _BATCH.search(model)
    base = _BATCH.sub("", model).removesuffix("-deduped")
    suite = "pythia-batch" if batch else "pythia-deduped" if model.endswith("-deduped") else "pythia"
    per_step = float(batch["millions"]) * 2**20 if batch else TOKENS_PER_STEP
    return {
        "suite": suite,
        "model": model,
        "params": float(get_suite("pythia").spec(base).params),
        "step": step,
        "tokens": step * per_step,
        "shots": shots,
    }


def load_results(writer=None) -> pd.DataFrame:
    """Every released accuracy of the eight benchmarks: suite, model, params, step, tokens, shots, benchmark, acc,
    its standard error and 95% interval, and the file it comes from (path under the evaluations folder)."""
    rows = []
    for path in paths(FOLDER):
        if not path.endswith(".json"):
            continue
        raw = json.loads(reference_input(path, writer).read_text())
        where = _describe(path.removeprefix(FOLDER + "/"), raw["config"])
        for task in BENCHMARKS:
            metrics = raw["results"].get(task)
            if metrics is None:
                raise ReferenceDataError(f"{path}: no result for {task}")
            file = path.removeprefix(FOLDER + "/")
            rows.append(
                {**where, "benchmark": task, "acc": metrics["acc"], "acc_stderr": metrics["acc_stderr"], "file": file}
            )
    out = _normal(pd.DataFrame(rows).astype({"step": "Int64", "tokens": "Int64"}))
    order = {s: i for i, s in enumerate(SUITES)}
    return out.sort_values(
        ["suite", "params", "model", "shots", "step", "benchmark"],
        key=lambda c: c.map(order) if c.name == "suite" else c,
    ).reset_index(drop=True)


# --- Analysis: pure functions from tables to tables ---


def averages(results: pd.DataFrame, benchmarks: list[str]) -> pd.DataFrame:
    """Per suite, model, checkpoint and shot count: the mean accuracy over `benchmarks`, its standard error
    √(Σ se²)/k (the benchmarks' items independent) and 95% interval."""
    chosen = results[results.benchmark.isin(benchmarks)]
    keys = ["suite", "model", "params", "step", "tokens", "shots"]
    out = (
        chosen.groupby(keys, dropna=False, sort=False)
        .agg(
            acc=("acc", "mean"), acc_stderr=("acc_stderr", lambda s: np.sqrt((s**2).sum()) / len(s)), k=("acc", "size")
        )
        .reset_index()
    )
    incomplete = out[out.k != len(benchmarks)]
    if len(incomplete):
        raise ReferenceDataError(f"checkpoints without all of {benchmarks}: {incomplete[keys].to_dict('records')[:3]}")
    return _normal(out.drop(columns="k").assign(benchmark="average"))


def _normal(table: pd.DataFrame) -> pd.DataFrame:
    """`acc` with its 95% normal interval from `acc_stderr`."""
    half = intervals.Z95 * table.acc_stderr
    return table.assign(acc_ci95_low=table.acc - half, acc_ci95_high=table.acc + half)


def final(table: pd.DataFrame) -> pd.DataFrame:
    """The final models' rows: Pythia at step 143000, the baselines as released (the batch ablation left out)."""
    keep = table.suite.isin(["opt", "bloom"]) | (
        table.suite.isin(["pythia", "pythia-deduped"]) & (table.step == FINAL_STEP)
    )
    return table[keep.fillna(False).astype(bool)].drop(columns=["step", "tokens"])


def training_gains(avg: pd.DataFrame, early: int = EARLY_STEP, shots: int = 0) -> pd.DataFrame:
    """Per standard Pythia model: the average at the final step minus at `early`, with its Wald 95% interval."""
    sub = avg[(avg.suite == "pythia") & (avg.shots == shots)]
    wide = sub[sub.step.isin([early, FINAL_STEP])].pivot_table(
        index=["model", "params"], columns="step", values=["acc", "acc_stderr"]
    )
    out = pd.DataFrame(
        {
            "early_step": early,
            "early": wide["acc", early],
            "final": wide["acc", FINAL_STEP],
            "gain": wide["acc", FINAL_STEP] - wide["acc", early],
            "variance": wide["acc_stderr", early] ** 2 + wide["acc_stderr", FINAL_STEP] ** 2,
        }
    ).reset_index()
    return _with_interval(out.sort_values("params"), "gain")


def _with_interval(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """`column` with its Wald 95% interval from the frame's `variance` (which it replaces)."""
    half = intervals.Z95 * np.sqrt(df.pop("variance"))
    return df.assign(**{f"{column}_ci95_low": df[column] - half, f"{column}_ci95_high": df[column] + half})


def deduplication(results: pd.DataFrame, benchmarks: list[str], shots: int = 0) -> pd.DataFrame:
    """Per size and benchmark, final models: deduplicated minus standard accuracy with its Wald 95% interval."""
    last = final(results[results.benchmark.isin(benchmarks) & (results.shots == shots)])
    standard = last[last.suite == "pythia"]
    deduped = last[last.suite == "pythia-deduped"]
    both = standard.merge(deduped, on=["params", "benchmark"], suffixes=("_standard", "_deduped"))
    out = pd.DataFrame(
        {
            "model": both.model_standard,
            "params": both.params,
            "benchmark": both.benchmark,
            "standard": both.acc_standard,
            "deduped": both.acc_deduped,
            "difference": both.acc_deduped - both.acc_standard,
            "variance": both.acc_stderr_standard**2 + both.acc_stderr_deduped**2,
        }
    )
    return _with_interval(out.sort_values(["params", "benchmark"]), "difference")


def pooled(differences: pd.DataFrame) -> tuple[float, tuple[float, float]]:
    """The inverse-variance weighted mean of a `difference` column and its Wald 95% interval."""
    variance = ((differences.difference_ci95_high - differences.difference) / intervals.Z95) ** 2
    weights = 1 / variance
    mean = float((weights * differences.difference).sum() / weights.sum())
    return mean, intervals.wald(mean, float(1 / weights.sum()))


def baseline_gaps(avg: pd.DataFrame, shots: int = 0) -> pd.DataFrame:
    """For each OPT and BLOOM model within Pythia's size range: the standard Pythia average interpolated at its
    parameter count (linearly in log10 parameters, and the variance likewise) minus its own, with a Wald 95%
    interval. Compared at the same x, never at the nearest model."""
    last = final(avg[avg.shots == shots])
    pythia = last[last.suite == "pythia"].sort_values("params")
    x = np.log10(pythia.params.to_numpy())
    rows = []
    for b in last[last.suite.isin(["opt", "bloom"])].sort_values(["suite", "params"]).itertuples():
        at = np.log10(b.params)
        if not x[0] <= at <= x[-1]:
            continue
        acc = float(np.interp(at, x, pythia.acc))
        var = float(np.interp(at, x, pythia.acc_stderr**2))
        rows.append(
            {
                "suite": b.suite,
                "model": b.model,
                "params": b.params,
                "pythia": acc,
                "baseline": b.acc,
                "difference": acc - b.acc,
                "variance": var + b.acc_stderr**2,
            }
        )
    return _with_interval(pd.DataFrame(rows), "difference")


def mean_gap(gaps: pd.DataFrame, suite: str) -> tuple[float, tuple[float, float], int]:
    """The mean of one baseline suite's differences, its Wald 95% interval (independent models) and their count."""
    sub = gaps[gaps.suite == suite]
    variance = (((sub.difference_ci95_high - sub.difference) / intervals.Z95) ** 2).sum() / len(sub) ** 2
    mean = float(sub.difference.mean())
    return mean, intervals.wald(mean, float(variance)), len(sub)


# --- Figures ---


def benchmark_figure(results: pd.DataFrame, benchmark: str):
    """One benchmark (or "average"): zero- and five-shot over training, a line per size (deduplicated dashed), and
    the final zero-shot models against OPT and BLOOM by size, with 95% intervals."""
    import matplotlib.pyplot as plt

    sub = results[results.benchmark == benchmark]
    label = BENCHMARKS.get(benchmark, "average of the benchmarks")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    sizes = sorted(sub[sub.suite == "pythia"].params.unique())
    colours = dict(zip(sizes, plt.get_cmap("viridis")(np.linspace(0, 0.9, len(sizes)))))
    for ax, shots in zip(axes[:2], (0, 5)):
        for suite, style in (("pythia", "-"), ("pythia-deduped", "--")):
            for params, line in sub[(sub.suite == suite) & (sub.shots == shots)].groupby("params"):
                line = line.sort_values("step")
                name = line.model.iloc[0] if suite == "pythia" else None
                ax.plot(line.step.astype(float), line.acc, style, color=colours[params], label=name, lw=1.2)
        step_axis(ax)
        ax.set_xlim(left=sub[sub.shots == shots].step.min())  # five-shot starts at step 3000
        ax.set_ylabel("accuracy")
        ax.set_title(f"{label}, {shots}-shot (dashed: deduplicated)")
    axes[0].legend(fontsize=7, ncol=2)
    ax = axes[2]
    last = final(sub[sub.shots == 0])
    for suite, marker in (("pythia", "o-"), ("pythia-deduped", "s--"), ("opt", "^-"), ("bloom", "v-")):
        line = last[last.suite == suite].sort_values("params")
        ax.errorbar(
            line.params,
            line.acc,
            yerr=[line.acc - line.acc_ci95_low, line.acc_ci95_high - line.acc],
            fmt=marker,
            ms=4,
            capsize=2,
            label=suite,
        )
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("accuracy (95% interval)")
    ax.set_title(f"{label}, 0-shot, final models")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --- Claims and the sentences that state them ---


def _points(value: float) -> str:
    return f"{100 * value:+.2f}"


def _interval(ci: tuple[float, float]) -> str:
    return f"[{_points(ci[0])}, {_points(ci[1])}]"


def claims(results: pd.DataFrame, benchmarks: list[str]) -> list[Claim]:
    """The paper's statements about its evaluations, tested zero-shot on the average of `benchmarks` (the
    baselines were evaluated zero-shot only), in accuracy points."""
    avg = averages(results, benchmarks)
    where = f"zero-shot, average of {len(benchmarks)} benchmarks"
    out = []

    last = final(avg[(avg.suite == "pythia") & (avg.shots == 0)]).sort_values("params")
    small, large = last.iloc[0], last.iloc[-1]
    diff = large.acc - small.acc
    ci = intervals.wald(diff, small.acc_stderr**2 + large.acc_stderr**2)
    id = "evaluations.better_with_scale"
    out.append(
        judged(
            id,
            STATEMENTS[id],
            f"{where}, final models: the largest minus the smallest, 95% interval ({DIFFERENCE_FROM_STDERRS}) above 0",
            ci[0] > 0,
            f"{large.model} {100 * large.acc:.2f} minus {small.model} {100 * small.acc:.2f}: {_points(diff)} "
            f"{_interval(ci)} points",
            difference=diff,
            ci95_low=ci[0],
            ci95_high=ci[1],
        )
    )

    gains = training_gains(avg)
    worst = gains.sort_values("gain_ci95_low").iloc[0]
    id = "evaluations.better_with_training"
    out.append(
        judged(
            id,
            STATEMENTS[id],
            f"{where}: at every size, step {FINAL_STEP} minus step {EARLY_STEP} (the first checkpoint after warm-up), "
            f"95% interval ({DIFFERENCE_FROM_STDERRS}) above 0",
            bool((gains.gain_ci95_low > 0).all()),
            f"{int((gains.gain_ci95_low > 0).sum())} of {len(gains)} sizes; the least: {worst.model} "
            f"{_points(worst.gain)} [{_points(worst.gain_ci95_low)}, {_points(worst.gain_ci95_high)}] points",
            sizes_improved=int((gains.gain_ci95_low > 0).sum()),
            sizes=len(gains),
            least_gain=worst.gain,
            least_ci95_low=worst.gain_ci95_low,
        )
    )

    dedup = deduplication(results, benchmarks)
    mean, ci = pooled(dedup)
    margin = EQUIVALENCE_POINTS / 100
    id = "evaluations.deduplication_no_clear_effect"
    out.append(
        judged(
            id,
            STATEMENTS[id],
            f"zero-shot, final models, every size and benchmark: deduplicated minus standard, {POOLED_DIFFERENCE}, "
            f"inside ±{EQUIVALENCE_POINTS:g} points",
            -margin < ci[0] and ci[1] < margin,
            f"{_points(mean)} {_interval(ci)} points over {len(dedup)} pairs; deduplicated ahead in "
            f"{int((dedup.difference > 0).sum())}",
            difference=mean,
            ci95_low=ci[0],
            ci95_high=ci[1],
        )
    )

    gaps = baseline_gaps(avg)
    for suite in ("opt", "bloom"):
        mean, ci, n = mean_gap(gaps, suite)
        id = f"evaluations.comparable_to_{suite}"
        out.append(
            judged(
                id,
                STATEMENTS[id],
                f"{where}, final models: {INTERPOLATED_DIFFERENCE}, inside ±{EQUIVALENCE_POINTS:g} points",
                -margin < ci[0] and ci[1] < margin,
                f"Pythia minus {suite.upper()} at {n} of its sizes: {_points(mean)} {_interval(ci)} points",
                difference=mean,
                ci95_low=ci[0],
                ci95_high=ci[1],
                models=n,
            )
        )
    return out


# --- The notebook's analysis, section by section ---


def analyse(result: Result, benchmarks: list[str] | None = None) -> None:
    """The released evaluations as one table, the final models' tables, each benchmark over training and by size,
    deduplication's effect, the OPT and BLOOM comparison, then the claims."""
    benchmarks = list(benchmarks or BENCHMARKS)
    results = load_results(result.writer)

    result.section("results")
    result.table("results", results, RESULT_NOTES)
    files = results.drop_duplicates("file")
    result.show(
        f"{len(files)} result files: {files.model.nunique()} models, "
        f"{files[files.suite.isin(['pythia', 'pythia-deduped'])].step.nunique()} checkpoints of the main suite; "
        + ", ".join(f"{suite} {n}" for suite, n in files.suite.value_counts().reindex(SUITES).items())
    )

    result.section("final")
    last = final(pd.concat([results, averages(results, benchmarks)]))
    notes = {k: v for k, v in RESULT_NOTES.items() if k != "tokens"} | AVERAGE_NOTES
    result.table("final_accuracy", last.drop(columns="file"), notes)
    for (suite, shots), table in last[last.suite != "pythia-batch"].groupby(["suite", "shots"], sort=False):
        view = table.pivot_table(index=["model", "params"], columns="benchmark", values="acc", sort=False)
        result.show(f"{suite}, {shots}-shot, final models (accuracy):")
        result.show(view.sort_index(level="params").droplevel("params").round(3))

    result.section("over_training")
    avg = result.table("averages", averages(results, benchmarks), AVERAGE_NOTES)
    for benchmark in BENCHMARKS:
        result.figure(f"benchmark_{benchmark}", benchmark_figure(results, benchmark))
    result.figure("average", benchmark_figure(avg, "average"))
    result.show(result.table("training_gains", training_gains(avg), GAIN_NOTES).round(4))

    result.section("deduplication")
    dedup = result.table("deduplication", deduplication(results, benchmarks), DIFFERENCE_NOTES)
    result.show(dedup.pivot_table(index="model", columns="benchmark", values="difference", sort=False).round(3))

    result.section("baselines")
    result.show(result.table("baseline_gaps", baseline_gaps(avg), GAP_NOTES).round(4))

    result.section("claims")
    result.judge({"published": claims(results, benchmarks)})
