"""Finding 2b: the distributional simplicity bias on images (Belrose et al., ICML 2024, the paper's headline).

Image classifiers trained on real images first classify well samples that match only the low-order statistics of
each class (maximum-entropy samples: per-pixel marginals or means; means and covariances), then lose that ability
as they learn higher-order structure; and early networks classify images of class A edited to carry the low-order
statistics of class B (optimal-transport edits) as B. Evaluation sets are built by `image_sets`, once per seed.

The authors released no per-checkpoint vision results, so there is no `published` profile: `micro` trains image
classifiers on procedural glyph pairs (the micro image suite) and scores every checkpoint here; the profiles
`cifar10`, `mnist`, `fashion-mnist`, `svhn` and `cifarnet` train the authors' networks on their datasets
(`suites.vision`, on a GPU) and score those.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..evals import image_sets
from ..integrity import checked, numerics, versions
from ..integrity.hashing import content_key
from ..parameters import DEVICE_PARAM, MODELS, STEPS, Param
from ..report import intervals
from ..report.claims import Claim, judged, untestable
from ..report.curves import PAIRED_BOOTSTRAP, PairedBootstrap, u_shape
from ..report.numbers import Tolerance
from ..report.results import ResultWriter
from ..suites import get_suite, vision
from ..suites.base import CheckpointNotFound, Suite
from ..suites.loading import default_device
from ..suites.registry import scored_by
from ..sweep.plan import Job
from ..sweep.score_cache import ScoreCache
from .base import Finding, Plan, Result, Scores, refuse_unknown, scoring_task, sweep_plan
from .papers import PaperFigure

# --- The finding, its parameters and settings ---


FINDING = Finding("simplicity_bias_images", "Distributional simplicity bias on images", ())
# Under other numerics: twice what the AVX2 and AVX-512 builds of micro moved, judged from either (benchmarks/
# numerics.py: moves of 0.001–0.003 in accuracies written to three decimals; at 0.5·|value| none needs more than 0.001).
NUMERICS_TOLERANCE = Tolerance(relative=0.5, absolute=0.002)
HEADLINE = {  # numbers for papers beside the claims': table -> (key columns, value columns)
    "curve_shapes": (["run", "set"], ["best_accuracy", "best_ci95_low", "final_accuracy", "fall", "fall_half_width"]),
}
PAPER_FIGURES = (
    PaperFigure(
        "dsb",
        "vision-<dataset>-maxent",
        "Accuracy and loss over training on sets carrying only first-, second- (and third-) order class "
        "statistics, beside real validation images; seed bands, chance lines.",
        {"micro": ("curves_*.png", "curves.csv", "curve_shapes.csv")},
        status="partly",
        note="on the glyph miniature (micro); the authors' datasets and networks need a GPU run not yet made",
    ),
    PaperFigure(
        "dsb",
        "vision-<dataset>-ot",
        "Accuracy on optimal-transport edits of one class to another's statistics, scored against the target class.",
        {"micro": ("curves_*.png", "curves.csv")},
        status="partly",
        note="on the glyph miniature (micro), in the same panels as the maximum-entropy sets",
    ),
    PaperFigure(
        "package",
        "example images",
        "What a maximum-entropy or edited image looks like, and how far each set's moments are from its class's.",
        {"micro": ("examples.*", "set_moments.csv")},
    ),
)
PARAMETERS = (
    MODELS,
    STEPS,
    Param("per_class", int, 100, low=2, nullable=False, help="samples per class in each maximum-entropy set"),
    Param("seed", int, 0, low=0, nullable=False, help="seed of the evaluation sets and the bootstrap"),
    DEVICE_PARAM,
)
REAL = "real"
EDITS = image_sets.EDITS
MAX_ENTROPY = tuple(name for name in image_sets.SETS if name not in (REAL, *EDITS))
ORDERS = tuple(tuple(n for n in MAX_ENTROPY if image_sets.ORDER[n] == k) for k in (1, 2, 3))  # sampled sets by order
CHUNK_ROWS = 4096
STATEMENTS = {
    "simplicity_bias_images.early_competence": "Early in training, networks classify maximum-entropy samples that "
    "carry only a class's low-order statistics well above chance",
    "simplicity_bias_images.lost_later": "Later in training, networks lose that ability (accuracy on "
    "maximum-entropy samples falls from its best) while accuracy on real images does not fall",
    "simplicity_bias_images.loss_u_shaped": "The loss on maximum-entropy samples falls, then rises (a U-shaped "
    "curve over training)",
    "simplicity_bias_images.increasing_order": "Networks learn statistics of increasing order: the best fit to "
    "first-order samples comes no later than to second-order samples (and those no later than third-order ones)",
    "simplicity_bias_images.ot_edits": "Early networks classify images optimal-transport-edited toward class B "
    "as B, and that share falls later",
    "simplicity_bias_images.real_control": "Accuracy on real validation images rises to its plateau and stays",
}
SECTIONS = ("sets", "accuracy", "loss", "edits", "claims")


# --- The evaluation sets ---


@dataclass
class Sets:
    """Every evaluation image, one row each (sets concatenated), what each row is, and the identity of the whole."""

    pixels: np.ndarray  # [n, channels, size, size] float32
    items: pd.DataFrame  # set, item, label, source
    moments: pd.DataFrame  # image_sets.set_moments
    identity: str
    examples: dict[str, image_sets.EvalSet]


def make_sets(suite: Suite, per_class: int, seed: int) -> Sets:
    """The evaluation sets of a built image suite from its training split's statistics and its validation images
    (the third-order set only where its coskewness tensor fits: `image_sets.THIRD_ORDER_PIXELS`). Drawn once per
    suite build, size, seed and numerics, then read from the package cache (the maximum-entropy fits take most of
    an analysis)."""
    data = image_sets.load_split(suite.data_prefix)
    train_x, train_y, val_x, val_y = (data[k] for k in ("train_x", "train_y", "val_x", "val_y"))
    shape = train_x.shape[1:]
    classes = next(iter(suite.models.values())).classes
    stats = image_sets.ClassStats.fit(train_x.reshape(len(train_x), -1), train_y, classes)
    names = image_sets.feasible_sets(int(np.prod(shape)))
    numerics_now = {k: v for k, v in numerics.identity().items() if k != "cpu"}  # the fits' bits follow the kernels
    holds = {"build": suite.build, "per_class": per_class, "seed": seed, "sets": list(names), "numerics": numerics_now}
    holds["version"] = versions.IMAGE_SETS
    path = checked.location("image_sets", holds, ".npz")
    if checked.usable(path, holds):
        built = image_sets.load_sets(path)
    else:
        built = image_sets.build_sets(stats, val_x.reshape(len(val_x), -1), val_y, per_class, seed, names)
        image_sets.save_sets(path, built)
        checked.seal(path, holds, f"the evaluation images of {suite.name}, {per_class} per class, seed {seed}")
    pixels = np.concatenate([s.pixels for s in built.values()]).reshape(-1, *shape)
    items = pd.concat(
        [
            pd.DataFrame({"set": name, "item": np.arange(len(s.labels)), "label": s.labels, "source": s.sources})
            for name, s in built.items()
        ],
        ignore_index=True,
    )
    identity = content_key(
        [suite.build, per_class, seed, hashlib.sha256(pixels.tobytes()).hexdigest(), items.label.tolist()]
    )[:16]
    return Sets(pixels, items, image_sets.set_moments(built, stats, seed), identity, built)


# --- Scoring checkpoints: the plan, and reading the scores back ---


@dataclass
class Prepared(Plan):
    """The plan, and the sets it scores."""

    sets: Sets

    def scored_data(self) -> tuple[str, dict[str, Any]]:
        return "image_sets", {"suite": self.suite.name, "build": self.suite.build, "identity": self.sets.identity}


def scored_image_suite(profile: str) -> Suite:
    """The suite a profile scores this finding on: on `micro`, the micro image suite (glyphs); on an image
    dataset's profile, that suite once built (`analyse` and `precompute` build it)."""
    if (companion := scored_by(profile, FINDING.name)) != profile:
        return get_suite(companion)
    if profile in vision.DATASETS:
        if not vision.is_built(profile):
            raise CheckpointNotFound(
                f"the {profile} image suite at {vision.suite_dir(vision.config_for(profile))} is not built; "
                f"`pythia-repro suite build {profile}` trains it "
                f"(`--engine ray`: one run per GPU), as `pythia-repro reproduce --profile {profile}` does"
            )
        return get_suite(profile)
    raise NotImplementedError(
        f"simplicity_bias_images runs on micro and on the image suites ({', '.join(vision.DATASETS)}), not on "
        f"{profile!r} (the authors released no per-checkpoint vision results)"
    )


def precompute(profile: str, engine: str = "local", address: str | None = None) -> None:
    """Train an image dataset's suite on `engine` (sweeps call this first: one Ray task per run on a cluster)."""
    if profile in vision.DATASETS:
        vision.build(profile, engine=engine, address=address)


def known(profile: str) -> dict[str, list]:
    """What `models` may name on a profile (runs and architectures) and its steps."""
    return _holds(scored_image_suite(profile))


def _holds(suite: Suite) -> dict[str, list]:
    architectures = dict.fromkeys(spec.arch for spec in suite.models.values())
    return {"models": [*suite.models, *architectures], "steps": list(suite.steps)}


def prepare(
    profile: str,
    models: list[str] | None = None,
    steps: list[int] | None = None,
    per_class: int = 100,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
) -> Prepared:
    """Cross-entropy and the predicted class of every evaluation image at every checkpoint of every run.
    `models` names runs or architectures (`cnn`); each of it and of `steps` must exist in the suite."""
    import torch

    suite = scored_image_suite(profile)
    refuse_unknown(suite, _holds(suite), models=models, steps=steps)
    runs = [run for run, spec in suite.models.items() if not models or run in models or spec.arch in models]
    chosen = sorted(set(steps or suite.steps) & set(suite.steps))
    sets = make_sets(suite, per_class, seed)
    rows = len(sets.pixels)
    dev = torch.device(device) if device else default_device()
    jobs = [Job(suite.checkpoint(run, step), rows, (("dtype", "float32"),)) for run in runs for step in chosen]

    def score(model, start, stop, params):
        with torch.inference_mode():
            logits = model(torch.from_numpy(sets.pixels[start:stop]).to(dev)).float().cpu()
        labels = torch.as_tensor(sets.items.label.to_numpy()[start:stop], dtype=torch.long)
        loss = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
        return pd.DataFrame({"loss": loss.numpy(), "predicted": logits.argmax(1).numpy()})

    task = scoring_task(
        FINDING,
        suite,
        data=sets.identity,
        scorer=versions.IMAGE_SCORES,
        jobs=jobs,
        score=score,
        rows=rows,
        chunk_rows=CHUNK_ROWS,
        device=dev,
    )
    return Prepared(task, suite, runs, chosen, sets=sets)


@dataclass
class Scored(Scores):
    """Per evaluation image and checkpoint: loss, prediction, and what the image is."""

    sets: Sets
    per_row: pd.DataFrame  # run, arch, step, row, loss, predicted, correct, set, item, label, source


def score_suite(
    profile: str, writer: ResultWriter | None = None, cache: ScoreCache | None = None, progress: bool = True, **options
) -> Scored:
    """Score every checkpoint (cached, resumable) and return one row per evaluation image and checkpoint."""
    prep = prepare(profile, progress=progress, **options)
    results, report = sweep_plan(prep, writer, cache, progress)
    frames = [
        frame.assign(run=ckpt.model, arch=prep.suite.spec(ckpt.model).arch, step=ckpt.step)
        for (ckpt, _), frame in results.items()
    ]
    per_row = pd.concat(frames, ignore_index=True).join(prep.sets.items, on="row")
    per_row["correct"] = per_row.predicted == per_row.label
    return Scored.of(prep, report, sets=prep.sets, per_row=per_row)


# --- Analysis: pure functions from tables to tables ---


def curves(per_row: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (run, set, step): accuracy (Wilson interval) and mean loss (bootstrap interval over images); and per
    (run, set): the curve's shape (best and final accuracy, the paired change between them, the loss's U). Each
    curve bootstraps from its own stream of the seed, so its intervals do not depend on which other curves exist."""
    points, shapes = [], []
    for (run, arch, name), group in per_row.groupby(["run", "arch", "set"], sort=True):
        rng = np.random.default_rng([seed, int(content_key([run, name])[:8], 16)])
        steps = np.sort(group.step.unique())
        correct = group.pivot(index="step", columns="item", values="correct").loc[steps].to_numpy(float)
        loss = group.pivot(index="step", columns="item", values="loss").loc[steps].to_numpy(float)
        acc_noise, loss_noise = PairedBootstrap.of(correct, rng), PairedBootstrap.of(loss, rng)
        n = correct.shape[1]
        hits = correct.sum(1)
        low, high = intervals.wilson(hits, np.full(len(steps), n))
        loss_low, loss_high = np.quantile(loss_noise.means, [0.025, 0.975], axis=0)
        points.append(
            pd.DataFrame(
                {
                    "run": run,
                    "arch": arch,
                    "set": name,
                    "step": steps,
                    "images": n,
                    "correct": hits.astype(int),
                    "accuracy": hits / n,
                    "ci95_low": low,
                    "ci95_high": high,
                    "loss": loss.mean(1),
                    "loss_ci95_low": loss_low,
                    "loss_ci95_high": loss_high,
                }
            )
        )
        shapes.append({"run": run, "arch": arch, "set": name, **shape_of(steps, correct.mean(1), acc_noise, n)})
        shapes[-1].update({f"loss_{k}": v for k, v in u_shape(steps, loss.mean(1), loss_noise).items()})
    return pd.concat(points, ignore_index=True), pd.DataFrame(shapes)


def shape_of(steps: np.ndarray, accuracy: np.ndarray, noise, images: int) -> dict[str, Any]:
    """Best accuracy (and the earliest step within the noise of it), its Wilson lower bound, the final accuracy,
    and the fall from best to final against the paired half-width of that difference."""
    best = int(np.argmax(accuracy))
    near = next(i for i in range(len(steps)) if accuracy[best] - accuracy[i] <= noise.half_width(i, best))
    final = len(steps) - 1
    best_low = float(intervals.wilson(np.array([accuracy[best] * images]), np.array([images]))[0][0])
    fall, half = float(accuracy[best] - accuracy[final]), noise.half_width(best, final)
    return {
        "best_step": int(steps[best]),
        "near_best_step": int(steps[near]),
        "best_accuracy": float(accuracy[best]),
        "best_ci95_low": best_low,
        "final_accuracy": float(accuracy[final]),
        "fall": fall,
        "fall_half_width": half,
        "fell": fall > half,
    }


# --- Figures ---


def curves_figure(points: pd.DataFrame, arch: str, chance: float):
    """Accuracy (top) and loss (bottom) against step, one column per set family; the mean over seeds with the
    seeds' range as a band."""
    import matplotlib.pyplot as plt

    families = (("maximum entropy", (REAL, *MAX_ENTROPY)), ("edits", (REAL, *EDITS)))
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    sub = points[points.arch == arch]
    for col, (family, names) in enumerate(families):
        for row, value in enumerate(("accuracy", "loss")):
            ax = axes[row, col]
            for i, name in enumerate(names):
                by_step = sub[sub.set == name].groupby("step")[value]
                mean, low, high = by_step.mean(), by_step.min(), by_step.max()
                colour = "black" if name == REAL else plt.cm.viridis(i / len(names))
                ax.plot(mean.index, mean.to_numpy(), color=colour, label=name, lw=1.5 if name == REAL else 1.2)
                ax.fill_between(mean.index, low.to_numpy(), high.to_numpy(), color=colour, alpha=0.15, lw=0)
            if value == "accuracy":
                ax.axhline(chance, color="grey", ls=":", lw=1, label="chance")
                ax.set_title(family)
            ax.set_xscale("log", base=2)
            ax.set_ylabel(value if value == "accuracy" else "cross-entropy (nats)")
            ax.set_xlabel("training step" if row else "")
        axes[0, col].legend(fontsize=7)
    fig.suptitle(f"{arch}: mean over seeds, band = seeds' range (step 0 not shown on the log axis)")
    fig.tight_layout()
    return fig


def examples_figure(sets: Sets, shape: tuple[int, int, int], classes: int):
    """One example per class of every set (an edit's title row says from → to); `shape` is (channels, h, w)."""
    import matplotlib.pyplot as plt

    names = list(sets.examples)
    fig, axes = plt.subplots(len(names), classes, figsize=(classes * 0.9, len(names) * 1.0))
    for r, name in enumerate(names):
        s = sets.examples[name]
        for c in range(classes):
            ax = axes[r, c]
            rows = np.flatnonzero(s.labels == c)
            if len(rows):
                image = np.clip(s.pixels[rows[0]].reshape(shape), 0, 1).transpose(1, 2, 0)
                if shape[0] == 1:
                    ax.imshow(image[..., 0], cmap="gray_r", vmin=0, vmax=1)
                else:
                    ax.imshow(image)
                ax.set_title(f"{s.sources[rows[0]]}→{c}" if name in EDITS else str(c), fontsize=6)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=7, rotation=0, ha="right")
    fig.suptitle("example images of every set (label = the class whose statistics the image carries)")
    return fig


# --- Claims and the sentences that state them ---


def _per_arch(shapes: pd.DataFrame, names: tuple[str, ...], test) -> pd.DataFrame:
    """Per (arch, set): seeds passing `test` (a row → bool) and seeds in all."""
    sub = shapes[shapes.set.isin(names)]
    return (
        sub.assign(passed=sub.apply(test, axis=1))
        .groupby(["arch", "set"], as_index=False)
        .agg(passed=("passed", "sum"), seeds=("passed", "size"))
    )


def _cells(table: pd.DataFrame) -> str:
    return "; ".join(f"{r.arch} {r.set} {r.passed}/{r.seeds}" for r in table.itertuples())


def _numbers(table: pd.DataFrame, name: str) -> dict[str, int]:
    """Seeds passing per (arch, set), as claim numbers named `<name>_<arch>_<set>`."""
    return {f"{name}_{r.arch}_{r.set}": int(r.passed) for r in table.itertuples()}


def _in_most_seeds(table: pd.DataFrame) -> bool:
    return bool((table.passed * 2 > table.seeds).all())


def _seed_claim(cid: str, shapes: pd.DataFrame, names: tuple[str, ...], test, description: str, label: str) -> Claim:
    """A claim that holds when, per architecture and set, most seeds pass `test`; numbers per (arch, set)."""
    table = _per_arch(shapes, names, test)
    detail = f"{label}: {_cells(table)}"
    return judged(
        cid,
        STATEMENTS[cid],
        description,
        _in_most_seeds(table),
        detail,
        **_numbers(table, label.lower().replace(" ", "_").replace("-", "_")),
    )


def early_competence_claim(shapes: pd.DataFrame, chance: float) -> Claim:
    return _seed_claim(
        "simplicity_bias_images.early_competence",
        shapes,
        MAX_ENTROPY,
        lambda r: r.best_ci95_low > chance,
        f"per architecture and maximum-entropy set, in most seeds the best accuracy over training has its Wilson 95% "
        f"lower bound above chance ({chance:.2f})",
        "seeds passing",
    )


def lost_later_claim(shapes: pd.DataFrame) -> Claim:
    cid = "simplicity_bias_images.lost_later"
    table = _per_arch(shapes, MAX_ENTROPY, lambda r: r.fell)
    real = shapes[shapes.set == REAL]
    real_fell = real.groupby("arch").fell.sum()
    passed = _in_most_seeds(table) and not real.fell.any()
    falls = shapes[shapes.set.isin(MAX_ENTROPY)].groupby(["arch", "set"]).fall.median()
    return judged(
        cid,
        STATEMENTS[cid],
        "per architecture and maximum-entropy set, in most seeds the final accuracy is below the best by more than "
        f"the half-width of their difference ({PAIRED_BOOTSTRAP}); and in no seed does real validation accuracy fall "
        "so",
        passed,
        f"seeds where it fell: {_cells(table)}; median fall "
        + ", ".join(f"{a} {s} {v:+.3f}" for (a, s), v in falls.items())
        + "; real validation fell in "
        + ", ".join(f"{a} {int(v)}" for a, v in real_fell.items()),
        **_numbers(table, "seeds_fell"),
        real_fell=int(real.fell.sum()),
    )


def loss_u_claim(shapes: pd.DataFrame) -> Claim:
    return _seed_claim(
        "simplicity_bias_images.loss_u_shaped",
        shapes,
        MAX_ENTROPY,
        lambda r: r.loss_u_shaped,
        "per architecture and maximum-entropy set, the mean loss is U-shaped in most seeds (curves.u_shape: a first "
        "minimum, then a rise beyond the half-width of the difference, paired bootstrap over images)",
        "seeds U-shaped",
    )


def increasing_order_claim(shapes: pd.DataFrame) -> Claim:
    cid = "simplicity_bias_images.increasing_order"
    wide = shapes.pivot(index=["arch", "run"], columns="set", values="near_best_step")
    orders = [names for names in ([n for n in o if n in wide.columns] for o in ORDERS) if names]  # those scored
    pairs = [(wide[a].max(axis=1), wide[b].min(axis=1)) for a, b in zip(orders, orders[1:])]
    ok = pd.concat([lo <= hi for lo, hi in pairs], axis=1).all(axis=1).groupby(level="arch").agg(["sum", "size"])
    strict = pd.concat([lo < hi for lo, hi in pairs], axis=1).all(axis=1).groupby(level="arch").sum()
    passed = bool((ok["sum"] * 2 > ok["size"]).all())  # per arch, over its runs
    return judged(
        cid,
        STATEMENTS[cid],
        "per run, the earliest step whose accuracy is within the paired half-width of the best comes no later on "
        "every first-order set (independent, max-entropy) than on any second-order set (Gaussian, truncated "
        "normal), and no later on every second-order set than on the third-order set (where it was scored); in "
        "most seeds of every architecture",
        passed,
        "seeds in order: "
        + "; ".join(f"{a} {r['sum']}/{r['size']} ({strict[a]} strictly earlier)" for a, r in ok.iterrows()),
        **{f"seeds_in_order_{a}": int(n) for a, n in ok["sum"].items()},
        **{f"seeds_strictly_earlier_{a}": int(n) for a, n in strict.items()},
    )


def ot_edits_claim(shapes: pd.DataFrame, chance: float) -> Claim:
    return _seed_claim(
        "simplicity_bias_images.ot_edits",
        shapes,
        ("ot-edit",),
        lambda r: r.best_ci95_low > chance and r.fell,
        f"per architecture, in most seeds the best target-class accuracy on optimal-transport edits has its Wilson "
        f"lower bound above chance ({chance:.2f}) and the final is below the best by more than the paired half-width",
        "seeds passing",
    )


def real_control_claim(shapes: pd.DataFrame, chance: float) -> Claim:
    cid = "simplicity_bias_images.real_control"
    real = shapes[shapes.set == REAL]
    if real.empty:
        return untestable(cid, STATEMENTS[cid], "real validation scored", "no real validation images were scored")
    ok = (real.best_ci95_low > chance) & ~real.fell
    return judged(
        cid,
        STATEMENTS[cid],
        f"in every run, real validation accuracy's best has its Wilson lower bound above chance ({chance:.2f}) and the "
        "final is not below the best by more than the paired half-width",
        bool(ok.all()),
        f"{int(ok.sum())}/{len(ok)} runs; final accuracy "
        + ", ".join(f"{a} {v:.3f}" for a, v in real.groupby("arch").final_accuracy.median().items())
        + " (median over seeds)",
        runs_passing=int(ok.sum()),
    )


def claims(shapes: pd.DataFrame, chance: float) -> list[Claim]:
    """Every claim of the image half, judged per architecture across seeds on the curves' shapes."""
    return [
        early_competence_claim(shapes, chance),
        lost_later_claim(shapes),
        loss_u_claim(shapes),
        increasing_order_claim(shapes),
        ot_edits_claim(shapes, chance),
        real_control_claim(shapes, chance),
    ]


# --- The notebook's analysis, section by section ---


CURVE_NOTES = {
    "ci95_low": intervals.WILSON,
    "ci95_high": intervals.WILSON,
    "loss_ci95_low": intervals.BOOTSTRAP.replace("sequences", "images"),
    "loss_ci95_high": intervals.BOOTSTRAP.replace("sequences", "images"),
}
SHAPE_NOTES = {"fall_half_width": PAIRED_BOOTSTRAP, "best_ci95_low": intervals.WILSON}


def analyse(result: Result, **params: Any) -> None:
    """Build the sets, score every checkpoint, then the curves, their shapes and the claims."""
    result.section("sets")
    if result.profile == "published":
        raise NotImplementedError("the authors released no per-checkpoint vision results: use the micro profile")
    if result.profile in vision.DATASETS:
        vision.ensure_built(result.profile)  # trained here, in this process, when no sweep trained it first
    scored = score_suite(result.profile, result.writer, **params)
    suite, sets = scored.suite, scored.sets
    spec = next(iter(suite.models.values()))
    chance = 1 / spec.classes
    result.table("set_moments", sets.moments)
    moments = sets.moments.groupby(["set", "order"], as_index=False)[
        ["mean_error", "covariance_error", "coskewness_error"]
    ].median()
    result.show(moments.sort_values("order").round(3))
    result.figure("examples", examples_figure(sets, sets.pixels.shape[1:], spec.classes))
    r = scored.report
    result.show(
        f"{len(r.scored)} checkpoints scored now, {len(r.cached)} read from the cache; "
        + ", ".join(f"{name} {len(s.labels)}" for name, s in sets.examples.items())
        + " images; relative errors are medians over classes (the real row is the sampling noise of the split)"
    )

    points, shapes = curves(scored.per_row, params.get("seed", 0))
    result.table("curves", points, CURVE_NOTES)
    result.table("curve_shapes", shapes, SHAPE_NOTES)
    summary = shapes.groupby(["arch", "set"], as_index=False).agg(
        best_accuracy=("best_accuracy", "median"),
        near_best_step=("near_best_step", "median"),
        final_accuracy=("final_accuracy", "median"),
        fall=("fall", "median"),
        seeds_fell=("fell", "sum"),
        seeds_loss_u_shaped=("loss_u_shaped", "sum"),
        seeds=("run", "size"),
    )
    for section, names in (("accuracy", (REAL, *MAX_ENTROPY)), ("edits", (REAL, *EDITS))):
        result.section(section)
        if section == "accuracy":
            for arch in sorted(set(points.arch)):
                result.figure(f"curves_{arch}", curves_figure(points, arch, chance))
        result.show(summary[summary.set.isin(names)].round(3))
        if section == "accuracy":
            result.section("loss")
            loss = ["run", "set", "loss_u_shaped", "loss_first_min_step", "loss_rise", "loss_rise_threshold"]
            result.show(shapes[shapes.set.isin((REAL, *MAX_ENTROPY))][loss].round(3))

    result.section("claims")
    result.judge({result.profile: claims(shapes, chance)})
