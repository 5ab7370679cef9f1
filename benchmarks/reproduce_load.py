"""What a shared CPU costs a whole `make reproduce`: each of its steps timed from empty caches on an idle machine,
then again with CPU-bound processes beside it, and the ratio per step.

Each mode gets a fresh `PYTHIA_REPRO_HOME` (suites built and every score computed again) and a fresh clone of
this checkout as `PYTHIA_REPRO_ROOT` (its `results/` rewritten there, never here). The steps are the ones
`make reproduce` runs after the install (timed apart: it is pip's download, not the CPU): the micro suites'
build, the published profile, each finding on micro, and the site.

    .venv/bin/python benchmarks/reproduce_load.py [--spinners 1] [--modes idle,shared]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pythia_repro.findings import all_findings

CHECKOUT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("pythia-repro"))


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def steps() -> list[tuple[str, list[str]]]:
    """The commands of `make reproduce` after the install, one per finding on micro."""
    micro = [(f"micro {name}", ["reproduce", "--profile", "micro", "--finding", name]) for name in all_findings()]
    return [
        ("build micro suites", ["suite", "build", "micro"]),
        ("published (all findings)", ["reproduce", "--profile", "published"]),
        *micro,
        ("site", ["site"]),
    ]


def run_mode(spinners: int) -> dict[str, float]:
    """Seconds per step from empty caches, with `spinners` CPU-bound processes running throughout."""
    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(spinners)]
    for process in busy:
        process.start()
    seconds = {}
    try:
        with tempfile.TemporaryDirectory(prefix="reproduce-load-") as scratch:
            root = Path(scratch) / "root"
            subprocess.run(["git", "clone", "--quiet", str(CHECKOUT), str(root)], check=True)
            env = {**os.environ, "PYTHIA_REPRO_HOME": str(Path(scratch) / "home"), "PYTHIA_REPRO_ROOT": str(root)}
            for label, command in steps():
                started = time.perf_counter()
                subprocess.run([CLI, *command], env=env, cwd=root, check=True, stdout=subprocess.DEVNULL)
                seconds[label] = time.perf_counter() - started
                print(f"  {label}: {seconds[label]:.0f} s (load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        stop.set()
        for process in busy:
            process.join()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spinners", type=int, default=1, help="CPU-bound processes beside the shared run")
    parser.add_argument("--modes", default="idle,shared", help="comma-separated: idle, shared")
    args = parser.parse_args()
    modes = args.modes.split(",")
    print(f"{os.cpu_count()} cores; shared = {args.spinners} CPU-bound process(es) beside every step")
    timings = {}
    for mode in modes:
        print(f"{mode}:", flush=True)
        timings[mode] = run_mode(args.spinners if mode == "shared" else 0)
    print("\n| step | " + " | ".join(modes) + (" | shared / idle |" if len(modes) == 2 else " |"))
    print("|---" * (len(modes) + (2 if len(modes) == 2 else 1)) + "|")
    for label, _ in [*steps(), ("total", [])]:
        row = [sum(t.values()) if label == "total" else t[label] for t in timings.values()]
        cells = " | ".join(f"{value:.0f} s" for value in row)
        ratio = f" | ×{row[1] / row[0]:.2f}" if len(row) == 2 else ""
        print(f"| {label} | {cells}{ratio} |")


if __name__ == "__main__":
    main()
