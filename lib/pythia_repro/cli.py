"""The `pythia-repro` command: reproduce, plan, sweep, verify, fetch reference data, build suites, check the cache."""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from . import __version__, settings
from .findings import DEFAULT_PROFILE, all_findings, profiles
from .paths import unwritable


def parse_parameters(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs; values are Python literals when they parse as one, else strings."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit(f"parameter {pair!r} is not of the form key=value")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def _at_least(least: int):
    """An argparse type: a whole number >= `least` (0: a retry count; 1: a count of notebooks at a time)."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {least}, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {least}, got {value}")
        return value

    return whole


def _gpu_share(text: str) -> float:
    """An argparse type: a GPU share per checkpoint, a finite number above 0 (0.25: four checkpoints a GPU)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number above 0 such as 0.25 or 1, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0 such as 0.25 or 1, got {text!r}")
    return value


def _checked(args) -> dict[str, dict[str, Any]]:
    """The -p parameters, checked against the selected findings' declarations before any work starts."""
    from .findings import check
    from .parameters import BadParameter, not_scored

    try:
        checked = check(list(dict.fromkeys(f for f, _ in _selection(args))), parse_parameters(args.p))
        for finding, profile in _selection(args):
            not_scored(profile, checked[finding])
        return checked
    except BadParameter as err:
        raise SystemExit(f"pythia-repro: {err}") from None


def _merged(checked: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: value for params in checked.values() for name, value in params.items()}


def _selection(args) -> list[tuple[str, str]]:
    findings = all_findings()
    chosen = args.finding or list(findings)
    unknown = set(chosen) - set(findings)
    if unknown:
        raise SystemExit(f"unknown finding(s) {sorted(unknown)}; known: {', '.join(findings)}")
    return [(f, p) for p in (args.profile or [DEFAULT_PROFILE]) for f in chosen]


def _executor(args):
    from .sweep.executors import EXECUTORS, LocalExecutor

    if args.engine == "local":
        return LocalExecutor(retries=args.retries, budget=_budget(args))
    if args.disk_budget:
        raise SystemExit("--disk-budget scores one checkpoint at a time on this machine: use it with --engine local")
    _require_engine(args.engine)
    return EXECUTORS[args.engine](address=args.address, retries=args.retries, gpus=args.gpus_per_checkpoint)


def _require_engine(engine: str) -> None:
    """Exit with the install command when the engine's package (ray) is missing."""
    if engine != "local" and importlib.util.find_spec(engine) is None:
        raise SystemExit(
            f"--engine {engine} needs the {engine} package: pip install -e '.[{engine}]' (make install includes it)"
        )


def _budget(args):
    """The disk budget of --disk-budget, or None."""
    from .sweep.hub import DiskBudget, parse_size

    if not args.disk_budget:
        return None
    try:
        return DiskBudget(parse_size(args.disk_budget))
    except ValueError as err:
        raise SystemExit(f"pythia-repro: {err}") from None


def _sweep(args, params: dict[str, Any]):
    """Run the sweep of every selected profile; the summary of each, and whether all succeeded."""
    from .findings import SweepPlan

    executor, ok, devices = _executor(args), True, set()
    for profile in args.profile or [DEFAULT_PROFILE]:
        if profile == "published":
            continue
        if not _precompute(args, profile, params):  # work that is not scoring: training a suite, counting terms
            ok = False
            continue
        print(f"→ sweep {profile} ({executor.name})", flush=True)
        try:
            summary = executor.run(SweepPlan(profile, tuple(args.finding or ()), params))
        except (LookupError, ValueError) as err:  # no such suite, checkpoint or data; bad parameters
            print(f"  cannot plan the {profile} sweep: {err}", file=sys.stderr, flush=True)
            ok = False
            continue
        print("  " + summary.text().replace("\n", "\n  "), flush=True)
        ok &= summary.ok
        devices |= summary.devices()
    return ok, devices


def cmd_plan(args) -> int:
    """Print what a sweep of each selected profile would do, and what it would cost, without running it."""
    from .findings import SweepPlan
    from .suites.registry import IMAGE_DATASETS
    from .sweep.costs import describe, describe_training
    from .sweep.score_cache import ScoreCache

    params = _merged(_checked(args))
    for profile in args.profile or [DEFAULT_PROFILE]:
        if profile == "published":
            print("published: the authors' files, nothing to score")
            continue
        if profile in IMAGE_DATASETS:
            from .suites import vision

            print(describe_training(profile, args.gpu_tflops))
            if not vision.is_built(profile):
                print(f"scoring the {profile} suite: planned once it is built (its evaluation sets need its data)")
                continue
        try:
            tasks = SweepPlan(profile, tuple(args.finding or ()), params).tasks()
        except (LookupError, ValueError) as err:
            print(f"cannot plan the {profile} sweep: {err}", file=sys.stderr)
            return 1
        print(describe(profile, tasks, ScoreCache(), args.gpu_tflops))
    return 0


def _precompute(args, profile: str, params: dict[str, Any]) -> bool:
    """Run each selected finding's `precompute` (work other than scoring checkpoints: counting terms over the
    training data, training an image suite) on the sweep's engine, before the sweep; False when one failed."""
    import inspect

    from .findings import finding_modules, supports

    for name, module in finding_modules().items():
        work = getattr(module, "precompute", None)
        if work is None or (args.finding and name not in args.finding) or not supports(module.FINDING, profile):
            continue
        accepted = inspect.signature(work).parameters
        print(f"→ {name}: precompute ({args.engine})", flush=True)
        try:
            work(
                profile, engine=args.engine, address=args.address, **{k: v for k, v in params.items() if k in accepted}
            )
        except (LookupError, ValueError, OSError) as err:
            print(f"  {name}: precompute failed: {err}", file=sys.stderr, flush=True)
            return False
    return True


def cmd_sweep(args) -> int:
    ok, _ = _sweep(args, _merged(_checked(args)))
    return 0 if ok else 1


def cmd_reproduce(args) -> int:
    from .integrity import workers
    from .run import NotebookFailed, previous_duration, reproduce, supported

    checked = _checked(args)
    if args.engine != "local" or args.disk_budget:  # score first (on Ray, or under the budget); notebooks read
        ok, devices = _sweep(args, _merged(checked))
        if not ok:
            print("the sweep did not finish; not executing the notebooks", file=sys.stderr)
            return 1
        for params in checked.values():
            if len(devices) == 1 and "device" not in params:
                params["device"] = next(iter(devices))  # read the scores under the keys the workers wrote
    failed = []
    steps = [(f, p) for f, p in _selection(args) if supported(f, p)]
    missing = [f"{f} ({p})" for f, p in _selection(args) if not supported(f, p)]
    own = _shares(steps, checked)
    for finding, profile in [s for s in steps if s not in own]:
        print(f"not run: {finding} ({profile}) holds none of the models or steps asked for", flush=True)
    steps = [s for s in steps if s in own]
    started, began = time.time(), {}
    calls = [(f, p, own[f, p]) for f, p in steps]
    for event, i, outcome in workers.side_by_side(reproduce, calls, _jobs(args, len(steps))):
        finding, profile = steps[i]
        if event == "start":
            previous, began[i] = previous_duration(finding, profile), time.time()
            print(
                f"→ [{i + 1}/{len(steps)}] {finding} ({profile})"
                + (f", took {_clock(previous)} last time" if previous else ""),
                flush=True,
            )
        elif isinstance(outcome, NotebookFailed):
            print(f"  FAILED: {outcome}\n  previous results left untouched", file=sys.stderr, flush=True)
            failed.append(f"{finding} ({profile})")
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            print(
                f"  wrote {outcome} in {_clock(time.time() - began[i])} ({_clock(time.time() - started)} in all)",
                flush=True,
            )
            for line in _left_out(outcome):
                print(f"  {line}", flush=True)
    if missing:
        print(f"not run on these profiles (the suite does not list the finding), skipped: {', '.join(missing)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _left_out(folder: Path) -> list[str]:
    """The doubted checkpoints a finished run left out, from its manifest, one line each with why."""
    from .findings.base import LEFT_OUT
    from .report.results import MANIFEST_FILE

    inputs = json.loads((folder / MANIFEST_FILE).read_text())["inputs"]
    return [f"left out {i['model']}@{i['revision']}: {i['reason']}" for i in inputs if i["kind"] == LEFT_OUT]


def _shares(steps: list[tuple[str, str]], checked: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict]:
    """(finding, profile) → the parameters its run takes: of the models and steps asked for, those its suite holds
    (`findings.shared`); a value no selected finding holds stops the command before any work."""
    from .findings import shared
    from .parameters import BadParameter

    out = {}
    for profile in dict.fromkeys(p for _, p in steps):
        names = [f for f, p in steps if p == profile]
        try:
            split = shared(profile, names, _merged({f: checked[f] for f in names}))
        except BadParameter as err:
            raise SystemExit(f"pythia-repro: {err}") from None
        out |= {(f, profile): {k: v for k, v in split[f].items() if k in checked[f]} for f in split}
    return out


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}m{int(seconds) % 60:02d}s"


def cmd_verify(args) -> int:
    from .integrity import workers
    from .run import supported, verify

    checked = _checked(args)
    steps = []
    for finding, profile in _selection(args):
        if supported(finding, profile):
            steps.append((finding, profile))
        else:
            print(f"{finding} ({profile}): nothing re-run (the profile does not run this finding)")
    bad = 0
    calls = [(f, p, checked[f]) for f, p in steps]
    for event, i, found in workers.side_by_side(verify, calls, _jobs(args, len(steps))):
        if event == "start":
            continue
        if isinstance(found, BaseException):
            raise found
        finding, profile = steps[i]
        status = found.status if not found.problems else f"{len(found.problems)} difference(s); {found.status}"
        print(f"{finding} ({profile}): {status}", flush=True)
        for problem in found.problems:
            print("  " + problem.replace("\n", "\n  "), flush=True)
        bad += bool(found.problems)
    if not steps:
        print("nothing re-run: no selected finding runs on the selected profiles", file=sys.stderr)
    return 1 if bad or not steps else 0


def _jobs(args, count: int) -> int:
    """Notebooks to execute side by side (`workers.notebook_jobs`: --jobs, else the `jobs` setting or the machine's
    share). Several at once register the kernel first."""
    from .integrity import workers
    from .run import ensure_kernel

    jobs = workers.notebook_jobs(count, args.jobs)
    if jobs > 1:
        ensure_kernel()  # once, here, not by every worker at once
        print(f"{jobs} notebooks at a time (--jobs; each in its own kernel, the same tables whatever the number)")
    return jobs


MEMORIZED_EVALS = "memorized-evals"


def cmd_fetch(args) -> int:
    from .data import memorized_evals
    from .data.reference import ReferenceDataError, fetch, registry

    if args.paths == [MEMORIZED_EVALS]:
        try:
            print(memorized_evals.fetch())
        except memorized_evals.MemorizedEvalsMissing as err:
            print(f"pythia-repro fetch: {err}", file=sys.stderr)
            return 1
        return 0
    for path in args.paths or sorted(registry()):
        try:
            print(fetch(path))
        except ReferenceDataError as err:
            print(f"pythia-repro fetch: {err}", file=sys.stderr)
            return 1
    return 0


def cmd_suite_build(args) -> int:
    from .suites import micro, micro_gender, micro_images, vision

    if args.suite in vision.DATASETS:
        _require_engine(args.engine)
        started = time.time()
        variant = None if args.variant == "default" else args.variant
        root = vision.build(args.suite, variant, engine=args.engine, address=args.address, force=args.force)
        print(f"{args.suite} image suite ready at {root} ({time.time() - started:.0f} s)")
        return 0
    for name, build in (
        ("micro suite", micro.build),
        ("micro gender suite", micro_gender.build),
        ("micro image suite", micro_images.build),
    ):
        started = time.time()
        root = build(args.variant, force=args.force)
        print(f"{name} ({args.variant}) ready at {root} ({time.time() - started:.0f} s)")
    return 0


def cmd_cache_check(args) -> int:
    from .integrity import checked
    from .sweep.score_cache import ScoreCache

    cache = ScoreCache()
    found = cache.check(repair=args.repair) + checked.check(repair=args.repair)
    for path, problem in found:
        print(f"{'removed' if args.repair else 'BAD'} {path}: {problem}")
    entries = sum(1 for _ in cache.root.rglob("*.parquet")) if cache.root.exists() else 0
    print(
        f"score cache at {cache.root}: {entries} entries, {len(found)} problem(s) (n-gram and term counts included)"
        + ("" if args.repair or not found else "; `pythia-repro cache check --repair` removes them")
    )
    return 0 if args.repair or not found else 1


def cmd_site(args) -> int:
    from . import site
    from .paths import results_dir

    results = Path(args.results) if args.results else results_dir()
    out = site.build(results, Path(args.out) if args.out else None)
    print(
        f"site of {len(site.discover(results, skip=out))} results folders at {out}/index.html; view it with "
        f"`python -m http.server -d {out}`"
    )
    return 0


def cmd_checkpoints_audit(args) -> int:
    import pandas as pd

    from .integrity import atomic
    from .suites import audit, get_suite

    suite = get_suite(args.profile)
    if suite.local_root is not None or not all(spec.hub_id for spec in suite.models.values()):
        print(f"pythia-repro checkpoints audit: {args.profile} is not a released suite on the hub", file=sys.stderr)
        return 1
    models = args.models or [m for m, spec in suite.models.items() if spec.revision is None]
    for model in models:
        suite.spec(model)
    table = audit.audit(suite, models, online=args.online)
    path = audit.table_path(args.profile)
    atomic.write_text(path, table.to_csv(index=False))
    with pd.option_context("display.width", 160):
        print(audit.summary(table).to_string())
    flagged = table[~table.flag.isin(["ok", "not_checked"])]
    for row in flagged.itertuples():
        print(f"  {row.model}@{row.revision}: {row.flag} {row.reason}".rstrip())
    for row in table[(table.flag == "ok") & (table.embedding_of != "")].itertuples():
        print(f"  {row.model}@{row.revision}: its own files, but the input embedding of {row.embedding_of}")
    where = "the hub's metadata" if args.online else "the hub cache (offline; --online reads the hub's metadata)"
    print(f"wrote {path}: {len(table)} revisions from {where}")
    return 0


def cmd_checkpoints_facts(args) -> int:
    from .integrity import atomic
    from .suites import audit, facts, get_suite

    suite = get_suite(args.profile)
    table = facts.table(suite, args.models or list(suite.models))
    path = audit.table_path(args.profile).with_name("facts.csv")  # beside the audit's table
    atomic.write_text(path, table.to_csv(index=False))
    for key, value in facts.tokenizer_identity(suite).items():
        print(f"{key}: {value}")
    rows = facts.data_rows(suite)
    boundary = facts.epoch_boundary(suite, rows)
    if rows is None:
        where = f"set {settings.variable(suite.data_setting)}" if suite.data_setting else "the suite names none"
        print(f"data: not configured ({where}); no data pass is computed")
    elif boundary is None:
        print(f"data: {rows} rows; one pass covers training")
    else:
        print(f"data: {rows} rows; the second pass starts within step {int(boundary)}")
    for model, notes in table.groupby("model", sort=False).notes.first().items():
        print(f"  {model}: {notes}" if notes else f"  {model}")
    print(f"wrote {path}: {len(table)} checkpoints")
    return 0


def cmd_data_show(args) -> int:
    from .suites import facts, get_suite, load_tokenizer

    suite = get_suite(args.profile)
    start, _, stop = (args.rows or "0:").partition(":")
    indices, tokens = facts.batch_rows(suite, args.step, int(start or 0), int(stop) if stop else None)
    tokenizer = load_tokenizer(suite) if args.decode else None
    for position, (index, row) in enumerate(zip(indices, tokens), start=int(start or 0)):
        shown = repr(tokenizer.decode(row[: args.tokens])) if tokenizer else " ".join(map(str, row[: args.tokens]))
        print(f"step {args.step} row {position} (data row {index}): {shown}")
    return 0


def cmd_data_locate(args) -> int:
    from .suites import facts, get_suite

    places = facts.locate(get_suite(args.profile), args.index)
    for n, step, position in places[:SHOWN_PASSES]:
        print(f"data row {args.index}: pass {n}, trained at step {step}, row {position} of its batch")
    if len(places) > SHOWN_PASSES:
        print(f"data row {args.index}: and {len(places) - SHOWN_PASSES} later passes (data smaller than training)")
    return 0


SHOWN_PASSES = 4  # `data locate` on data far smaller than training (a replica) would print a line per pass


def cmd_list(args) -> int:
    from .suites import CheckpointNotFound, get_suite, suite_names

    for finding in all_findings().values():
        named = "".join(f"{p}, " for p in finding.profiles)
        print(f"{finding.name:22} {finding.title}  [profiles: {named}and suites listing it]")
    print("suites (profiles scored here):")
    for name in suite_names():
        try:
            suite = get_suite(name)
            print(f"  {name:16} {', '.join(suite.findings) or f'no finding of its own: {suite.description}'}")
        except CheckpointNotFound as err:
            print(f"  {name:16} not available: {err}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .suites.registry import IMAGE_DATASETS

    parser = argparse.ArgumentParser(prog="pythia-repro", description=__doc__)
    parser.add_argument("--version", action="version", version=f"pythia-repro {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def selection(p):
        p.add_argument(
            "--profile",
            action="append",
            choices=profiles(),
            help=f"profile to run: published, or a suite to score (repeatable; default {DEFAULT_PROFILE})",
        )
        p.add_argument("--finding", action="append", help="finding to run (repeatable; default all)")
        p.add_argument("-p", action="append", default=[], metavar="KEY=VALUE", help="notebook parameter")

    def engine(p, default):
        p.add_argument(
            "--engine",
            choices=["local", "ray"],
            default=default,
            help=f"where checkpoints are scored (default {default}; ray needs the [ray] extra)",
        )
        p.add_argument("--address", help="ray: join this running cluster (host:port or auto); default: start one here")
        p.add_argument(
            "--retries", type=_at_least(0), default=2, help="retries of a checkpoint after a transient error (>= 0)"
        )
        p.add_argument(
            "--disk-budget",
            metavar="SIZE",
            help="keep the hub cache's checkpoints under SIZE (e.g. 200GB): fetch each revision just before it is "
            "scored, evict it after (local engine)",
        )
        p.add_argument(
            "--gpus-per-checkpoint",
            type=_gpu_share,
            help="ray: GPU share per checkpoint (default by model size: 0.25 up to 500M parameters, "
            "0.5 up to 3B, else 1)",
        )

    def jobs(p):
        p.add_argument(
            "--jobs",
            type=_at_least(1),
            help="notebooks executed side by side, each in its own kernel (default: the "
            f"{settings.variable('jobs')} setting, else one per core and 3 GiB of memory, 1 with a GPU)",
        )

    p = sub.add_parser("reproduce", help="execute finding notebooks into results/<profile>/<finding>/")
    selection(p)
    engine(p, "local")
    jobs(p)
    p.set_defaults(func=cmd_reproduce)
    p = sub.add_parser("sweep", help="score every checkpoint a profile needs into the score cache (resumable)")
    selection(p)
    engine(p, "local")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("plan", help="print the checkpoints, downloads, rows, tokens and GPU hours a sweep needs")
    selection(p)
    p.add_argument("--gpu-tflops", type=float, help="effective TFLOP/s of the scorers on your GPU (else assumed)")
    p.set_defaults(func=cmd_plan)
    p = sub.add_parser("verify", help="re-execute and compare every table with the committed results")
    selection(p)
    jobs(p)
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("fetch", help="download and check the authors' reference files")
    p.add_argument(
        "paths",
        nargs="*",
        help=f"reference paths (default: all), or {MEMORIZED_EVALS!r}: the authors' per-sequence memorization "
        "results from the hub (about 4 GB; says how much first)",
    )
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("suite", help="build a locally trained suite")
    suite_sub = p.add_subparsers(dest="action", required=True)
    b = suite_sub.add_parser("build", help="build (or find already built) a suite")
    b.add_argument(
        "suite",
        choices=["micro", *IMAGE_DATASETS],
        help="micro (with its gender and image companions), or an image dataset's suite of the authors' setting "
        "(trained on a GPU); Pythia is loaded, not built",
    )
    b.add_argument(
        "--variant",
        default="default",
        help="micro: default (the micro profile) or tiny (for tests); image suites: authors or tiny (default: the "
        f"{settings.variable('vision_variant')} setting)",
    )
    b.add_argument("--engine", choices=["local", "ray"], default="local", help="image suites: one Ray task per run")
    b.add_argument("--address", help="image suites, ray: the cluster to join (default: start one here)")
    b.add_argument("--force", action="store_true", help="rebuild even if a complete build exists")
    b.set_defaults(func=cmd_suite_build)
    p = sub.add_parser("cache", help="inspect the score cache")
    cache_sub = p.add_subparsers(dest="action", required=True)
    c = cache_sub.add_parser("check", help="check every entry against its record (key, rows, checksum)")
    c.add_argument("--repair", action="store_true", help="remove bad entries and leftovers (the next sweep re-scores)")
    c.set_defaults(func=cmd_cache_check)
    p = sub.add_parser("site", help="build the results site (claims matrix, pages, figures) into results/site/")
    p.add_argument("--results", help="results folder to read (default: the project's results/)")
    p.add_argument("--out", help="folder to build into (default: <results>/site)")
    p.set_defaults(func=cmd_site)
    p = sub.add_parser("checkpoints", help="check the released checkpoints are what they claim")
    checkpoints_sub = p.add_subparsers(dest="action", required=True)
    a = checkpoints_sub.add_parser(
        "audit", help="group every revision by its weight files' hashes and flag duplicates, shared shards, gaps"
    )
    a.add_argument("--profile", required=True, help="a released suite: pythia, pythia-deduped or gpt-neox-20b")
    a.add_argument("--models", nargs="+", help="models to audit (default: all)")
    a.add_argument("--online", action="store_true", help="read the hub's metadata (nothing downloaded)")
    a.set_defaults(func=cmd_checkpoints_audit)
    f = checkpoints_sub.add_parser(
        "facts", help="per checkpoint: step, rows and tokens seen, data pass, precision, notes; the tokenizer"
    )
    f.add_argument("--profile", required=True, help="a suite")
    f.add_argument("--models", nargs="+", help="models (default: all)")
    f.set_defaults(func=cmd_checkpoints_facts)
    p = sub.add_parser("data", help="the training rows: what a step trained on, where a row was trained")
    data_sub = p.add_subparsers(dest="action", required=True)
    d = data_sub.add_parser("show", help="the rows of the batch trained at a step")
    d.add_argument("--profile", required=True, help="a suite whose training data is configured")
    d.add_argument("--step", type=int, required=True, help="the training step (0 … final step − 1)")
    d.add_argument("--rows", help="rows a:b of the batch (default: all)")
    d.add_argument("--tokens", type=int, default=32, help="tokens of each row shown (default: 32)")
    d.add_argument("--decode", action="store_true", help="show text through the suite's tokenizer, not token ids")
    d.set_defaults(func=cmd_data_show)
    d = data_sub.add_parser("locate", help="the step and batch position at which a data row was trained")
    d.add_argument("--profile", required=True, help="a suite")
    d.add_argument("--index", type=int, required=True, help="the row's index in the training data")
    d.set_defaults(func=cmd_data_locate)
    p = sub.add_parser("list", help="list findings and the profiles they support")
    p.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; an error that explains itself (an unbuilt or unknown suite or variant, a refused lock) is one
    line on stderr and exit status 1, never a traceback."""
    from .errors import Explained

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Explained as err:
        print(f"pythia-repro {args.command}: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        if (why := unwritable(err)) is None:
            raise
        print(f"pythia-repro {args.command}: {why}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
