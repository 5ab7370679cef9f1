"""The micro results under another machine's numerics: the micro suites rebuilt from empty caches with torch, MKL
and oneDNN held to their AVX2 kernels (the path an AVX2-only x86-64 CPU takes), every micro finding re-run, and
the outcome set beside the committed `results/micro`: build time, verdicts, design targets, and how far the
numbers for papers moved.

    .venv/bin/python benchmarks/numerics.py [--out DIR]

`--out` keeps the rebuilt results (a clone of this checkout whose `results/micro` is rewritten); the default is a
temporary folder.
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

from pythia_repro import numbers
from pythia_repro.numerics import AVX2

CHECKOUT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("pythia-repro"))


def rebuild(out: Path) -> dict[str, float]:
    """Build the micro suites and run every micro finding in `out` under the AVX2 path; seconds per step."""
    root = out / "root"
    subprocess.run(["git", "clone", "--quiet", str(CHECKOUT), str(root)], check=True)
    env = {**os.environ, **AVX2, "PYTHIA_REPRO_HOME": str(out / "home"), "PYTHIA_REPRO_ROOT": str(root)}
    seconds = {}
    for label, command in [("build", ["suite", "build", "micro"]), ("findings", ["reproduce", "--profile", "micro"])]:
        started = time.perf_counter()
        subprocess.run([CLI, *command], env=env, cwd=root, check=True, stdout=subprocess.DEVNULL)
        seconds[label] = time.perf_counter() - started
    return seconds


def verdicts(folder: Path) -> pd.DataFrame:
    if not (folder / "claims.csv").exists():
        return pd.DataFrame(columns=["profile", "id", "verdict"])
    return pd.read_csv(folder / "claims.csv", keep_default_na=False)[["profile", "id", "verdict"]]


def compare(committed: Path, rebuilt: Path) -> None:
    """Print verdicts that moved, every design target side by side, and the moves of the numbers for papers."""
    print("\n| finding | claims | verdicts moved | numbers | identical | largest move (macro: committed → AVX2) |")
    print("|---|---|---|---|---|---|")
    for folder in sorted(p for p in committed.iterdir() if p.is_dir()):
        other = rebuilt / folder.name
        before, after = verdicts(folder), verdicts(other)
        merged = before.merge(after, on=["profile", "id"], how="outer", suffixes=("", "_avx2"))
        moved = merged[merged.verdict != merged.verdict_avx2]
        a, b = numbers.read(folder), numbers.read(other)
        same, shared, largest = numbers.compared(a, b)
        move = f"{largest}: {a[largest]} → {b[largest]}" if largest else "–"
        print(f"| {folder.name} | {len(merged)} | {len(moved)} | {shared} | {same} | {move} |")
        for row in moved.itertuples():
            print(f"|   | {row.profile} {row.id}: {row.verdict} → {row.verdict_avx2} | | | | |")
    print("\n| design target | required | committed | AVX2 |")
    print("|---|---|---|---|")
    for path in sorted(committed.glob("*/micro_targets.csv")):
        before = pd.read_csv(path)
        after = pd.read_csv(rebuilt / path.parent.name / path.name)
        for (_, x), (_, y) in zip(before.iterrows(), after.iterrows()):
            print(f"| {x.target} | {x.required} | {x.measured:.4g} ({x.met}) | {y.measured:.4g} ({y.met}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="keep the rebuilt results here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="numerics-") as scratch:
        out = args.out or Path(scratch)
        seconds = rebuild(out)
        print(f"AVX2 path ({', '.join(f'{k}={v}' for k, v in AVX2.items())}), {os.cpu_count()} cores")
        print(f"micro suites built in {seconds['build']:.0f} s; micro findings run in {seconds['findings']:.0f} s")
        compare(CHECKOUT / "results" / "micro", out / "root" / "results" / "micro")


if __name__ == "__main__":
    main()
