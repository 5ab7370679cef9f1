"""The micro results under the portable numerics (the default) against the native ones: the micro suites rebuilt
from empty caches in each mode, side by side in one run (build time, weights digests), every micro finding re-run
natively, and the outcome set beside the committed `results/micro`: verdicts, design targets, and how far the
numbers for papers moved.

    .venv/bin/python benchmarks/numerics.py [--out DIR]           # both builds, then the micro findings natively
    .venv/bin/python benchmarks/numerics.py --builds-only         # the two builds' times and digests only
    .venv/bin/python benchmarks/numerics.py --rebuilt DIR         # compare results/micro with results made elsewhere

`--out` keeps the rebuilt results (clones of this checkout whose `results/micro` is rewritten); the default is a
temporary folder. `--rebuilt` names a results folder laid out as `results/micro` (another machine's, or a native
run's) and compares without building.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from pythia_repro import settings
from pythia_repro.integrity.kernels import PORTABLE
from pythia_repro.integrity.numerics import weights_digest
from pythia_repro.report import numbers

CHECKOUT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("pythia-repro"))
MODES = ("portable", "native")


def rebuild(out: Path, mode: str, findings: bool) -> dict[str, float | str]:
    """Build the micro suites in `out` under `mode` (and run every micro finding); seconds per step and the digest
    of the micro suite's weights."""
    root = out / mode / "root"
    subprocess.run(["git", "clone", "--quiet", str(CHECKOUT), str(root)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in PORTABLE}  # the package sets them again when portable
    env |= {settings.variable("numerics"): mode, "PYTHIA_REPRO_HOME": str(out / mode / "home")}
    env |= {"PYTHIA_REPRO_ROOT": str(root)}
    steps = [("build", ["suite", "build", "micro"])] + [("findings", ["reproduce", "--profile", "micro"])] * findings
    outcome: dict[str, float | str] = {}
    for label, command in steps:
        started = time.perf_counter()
        subprocess.run([CLI, *command], env=env, cwd=root, check=True, stdout=subprocess.DEVNULL)
        outcome[label] = time.perf_counter() - started
    outcome["digest"] = weights_digest(next((out / mode / "home" / "suites" / "micro").glob("default-*")))
    return outcome


def verdicts(folder: Path) -> pd.DataFrame:
    if not (folder / "claims.csv").exists():
        return pd.DataFrame(columns=["profile", "id", "verdict"])
    return pd.read_csv(folder / "claims.csv", keep_default_na=False)[["profile", "id", "verdict"]]


def compare(committed: Path, rebuilt: Path) -> None:
    """Print verdicts that moved, every design target side by side, and the moves of the numbers for papers."""
    print("\n| finding | claims | verdicts moved | numbers | identical | largest move (macro: committed → other) |")
    print("|---|---|---|---|---|---|")
    for folder in sorted(p for p in committed.iterdir() if p.is_dir()):
        other = rebuilt / folder.name
        before, after = verdicts(folder), verdicts(other)
        merged = before.merge(after, on=["profile", "id"], how="outer", suffixes=("", "_other"))
        moved = merged[merged.verdict != merged.verdict_other]
        a, b = numbers.read(folder), numbers.read(other)
        same, shared, largest = numbers.compared(a, b)
        move = f"{largest}: {a[largest]} → {b[largest]}" if largest else "–"
        print(f"| {folder.name} | {len(merged)} | {len(moved)} | {shared} | {same} | {move} |")
        for row in moved.itertuples():
            print(f"|   | {row.profile} {row.id}: {row.verdict} → {row.verdict_other} | | | | |")
    print("\n| design target | required | committed | other |")
    print("|---|---|---|---|")
    for path in sorted(committed.glob("*/micro_targets.csv")):
        before = pd.read_csv(path)
        after = pd.read_csv(rebuilt / path.parent.name / path.name)
        for (_, x), (_, y) in zip(before.iterrows(), after.iterrows()):
            print(f"| {x.target} | {x.required} | {x.measured:.4g} ({x.met}) | {y.measured:.4g} ({y.met}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="keep the rebuilt results here (default: a temporary folder)")
    parser.add_argument("--builds-only", action="store_true", help="time the two builds; run no finding")
    parser.add_argument("--rebuilt", type=Path, help="compare with this results folder instead of rebuilding")
    args = parser.parse_args()
    committed = CHECKOUT / "results" / "micro"
    if args.rebuilt:
        compare(committed, args.rebuilt)
        return
    with tempfile.TemporaryDirectory(prefix="numerics-") as scratch:
        out = args.out or Path(scratch)
        runs = {mode: rebuild(out, mode, findings=mode == "native" and not args.builds_only) for mode in MODES}
        print(f"{os.cpu_count()} cores; portable: {', '.join(f'{k}={v}' for k, v in PORTABLE.items())}")
        print("\n| numerics | micro suites built | weights digest (micro) |\n|---|---|---|")
        for mode, run in runs.items():
            print(f"| {mode} | {run['build']:.0f} s | {str(run['digest'])[:16]} |")
        print(f"portable / native build time: ×{runs['portable']['build'] / runs['native']['build']:.3f}")
        if "findings" in runs["native"]:
            print(f"native micro findings run in {runs['native']['findings']:.0f} s")
            compare(committed, out / "native" / "root" / "results" / "micro")


if __name__ == "__main__":
    main()
