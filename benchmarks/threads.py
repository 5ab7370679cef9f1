"""How many torch threads to score with: the same forward passes with 1 … N threads, on an idle CPU, beside a
CPU-bound process on every core, and beside another torch job using every core (as on a shared machine: CI runners,
laptops, cluster nodes, two sweeps at once).

A GPT-NeoX forward pass of the micro suite's largest shape (micro-l: 4 layers, hidden 160, 320 positions, a
freshly initialised model: the time does not depend on the weights) over batches of 64 rows, the shape the
package's scorers use on a CPU. Prints seconds per batch, median of the repeats, and each against 1 thread.

    .venv/bin/python benchmarks/threads.py [--repeats 5] [--max-threads N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

import torch

from pythia_repro.suites import ModelSpec


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def _torch_job(stop) -> None:
    a = torch.randn(512, 512)
    while not stop.is_set():
        a = torch.tanh(a @ a)


def timed(model, batch: torch.Tensor, threads: int, repeats: int) -> float:
    torch.set_num_threads(threads)
    with torch.inference_mode():
        model(input_ids=batch)  # warm-up
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            model(input_ids=batch)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    from transformers import GPTNeoXForCausalLM

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(ModelSpec("micro-l", 4, 160, 8, vocab=512, seq_len=320).config()).eval()
    batch = torch.randint(0, 512, (64, 320))
    counts = range(1, args.max_threads + 1)
    print(f"torch {torch.__version__}, {os.cpu_count()} cores, batch 64 x 320, micro-l shape; median of {args.repeats}")
    results = {}
    loads = {"idle": [], "spinners": [_spin] * (os.cpu_count() or 1), "torch job": [_torch_job]}
    for load, targets in loads.items():
        context = multiprocessing.get_context("spawn")  # a forked child of a process that ran OpenMP can hang
        stop = context.Event()
        spinners = [context.Process(target=target, args=(stop,)) for target in targets]
        for p in spinners:
            p.start()
        try:
            results[load] = {n: timed(model, batch, n, args.repeats) for n in counts}
        finally:
            stop.set()
            for p in spinners:
                p.join()
    header = "".join(f"{load + ' s':>14} {'vs 1':>6} {'/ idle':>7}" for load in loads)
    print(f"{'threads':>7}{header}")
    for n in counts:
        cells = "".join(
            f"{results[load][n]:14.3f} {results[load][n] / results[load][1]:6.2f} "
            f"{results[load][n] / results['idle'][n]:7.2f}"
            for load in loads
        )
        print(f"{n:>7}{cells}")
    print(
        "spinners: one CPU-bound Python process per core; torch job: another process multiplying matrices with "
        "torch's default threads (every core)"
    )


if __name__ == "__main__":
    main()
