"""Workers of the package's process pools die with their parent (a killed build leaves nothing running)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pythia_repro import settings

PARENT = textwrap.dedent(
    """
    import os, sys, time
    from pythia_repro.integrity import workers

    def report_and_wait(path):
        with open(path, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(600)

    if __name__ == "__main__":
        with workers.pool(1, sys.argv[2]) as pool:
            pool.submit(report_and_wait, sys.argv[1])
            time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"  # a zombie is dead, only not reaped yet


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_a_killed_parent_leaves_no_worker_running(tmp_path, start):
    script, marker = tmp_path / "parent.py", tmp_path / "worker.pid"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), str(marker), start])
    deadline = time.time() + 60
    while not (marker.is_file() and marker.read_text()):
        assert time.time() < deadline and parent.poll() is None, "the worker never started"
        time.sleep(0.1)
    worker = int(marker.read_text())
    assert alive(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while alive(worker) and time.time() < deadline:
        time.sleep(0.1)
    assert not alive(worker), "the worker died with its parent"


KILLED_WHILE_STARTING = textwrap.dedent(
    """
    import os, signal, sys, time
    from pythia_repro.integrity import workers

    def report_and_wait(path):
        with open(path, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(600)

    if __name__ == "__main__":
        pool = workers.pool(1, sys.argv[2])
        pool.submit(report_and_wait, sys.argv[1])  # starts the worker process
        os.kill(os.getpid(), signal.SIGKILL)  # before (spawn) or about when (fork) the worker is up
    """
)


def tagged(tag: str) -> list[int]:
    """Live processes started with `tag` in their environment (the parent below, its workers and their helpers)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if tag.encode() in f.read().split(b"\0") and alive(int(entry)):
                    found.append(int(entry))
        except (ValueError, OSError):  # not a process, or one that ended while being read
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_a_parent_killed_while_its_worker_starts_leaves_no_worker_running(tmp_path, start):
    script, marker = tmp_path / "parent.py", tmp_path / "worker.pid"
    script.write_text(KILLED_WHILE_STARTING)
    tag = f"WORKER_TEST_TAG={tmp_path.name}-{start}"  # every process the parent starts inherits it
    name, value = tag.split("=")
    parent = subprocess.run(
        [sys.executable, str(script), str(marker), start], env={**os.environ, name: value}, timeout=60
    )
    assert parent.returncode == -signal.SIGKILL
    deadline = time.time() + 15  # longer than a worker takes to start here
    while (left := tagged(tag)) and time.time() < deadline:
        time.sleep(0.1)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "a worker outlived its parent"
    assert not (marker.is_file() and marker.read_text()), "an orphaned worker started its task"


def test_scoring_threads_default_to_one_and_honour_the_settings(monkeypatch):
    from pythia_repro.integrity import workers

    monkeypatch.delenv("PYTHIA_REPRO_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert workers.threads() == workers.DEFAULT_THREADS == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert workers.threads() == 3, "a scheduler's share is used when nothing else is said"
    monkeypatch.setenv("PYTHIA_REPRO_THREADS", "8")
    assert workers.threads() == 3, "never more than the share"
    monkeypatch.setenv("PYTHIA_REPRO_THREADS", "2")
    assert workers.threads() == 2
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("PYTHIA_REPRO_THREADS", bad)
        with pytest.raises(workers.BadThreads, match="PYTHIA_REPRO_THREADS"):
            workers.threads()


def test_scoring_runs_with_the_chosen_threads(monkeypatch, micro_suite):
    import pandas as pd
    import torch

    from pythia_repro.sweep.plan import Job, ScoringTask, score_checkpoint
    from pythia_repro.sweep.score_cache import ScoreCache

    seen = []

    def score(model, start, stop, params):
        seen.append(torch.get_num_threads())
        return pd.DataFrame({"x": range(start, stop)})

    ckpt = micro_suite.checkpoint("micro-xs", micro_suite.final_step)
    task = ScoringTask(
        finding="t",
        suite="micro",
        data="rows",
        scorer="v1",
        jobs=[Job(ckpt, 2, ())],
        score=score,
        available=lambda c: 2,
        chunk_rows=2,
        device="cpu",
        build="b",
    )
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("PYTHIA_REPRO_THREADS", "2")
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        score_checkpoint([task], ckpt, ScoreCache())
        assert seen == [2]
    finally:
        torch.set_num_threads(before)


def test_scores_do_not_depend_on_the_thread_count(tiny_model):
    import numpy as np
    import torch

    from pythia_repro.scoring import token_losses

    model, _ = tiny_model
    rows = np.random.default_rng(0).integers(1, 300, size=(8, 64))
    before = torch.get_num_threads()
    try:
        losses = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            losses.append(token_losses(model, rows, batch_size=8))
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(losses[0], losses[1]), "the default thread count changes no published number"


def test_the_numeric_identity_names_the_kernel_path_and_what_overrides_it(monkeypatch):
    import torch

    from pythia_repro.integrity import numerics

    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    found = numerics.identity()
    assert found["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert found["torch"] == torch.__version__ and found["overrides"]["MKL_CBWR"] == "COMPATIBLE"
    assert numerics.same(found, found) == []
    assert numerics.same({**found, "cpu_capability": "ZVECTOR"}, found) == [
        f"cpu_capability: ZVECTOR here {found['cpu_capability']}"
    ]
    assert numerics.same(None, found) == ["not recorded"]
    amd, intel = {**found, "cpu": "AMD EPYC 7B13"}, {**found, "cpu": "Intel(R) Xeon(R) Processor"}
    assert numerics.same(amd, {**amd, "cpu": "AMD EPYC"}) == []  # another model of the same vendor: the same bits
    assert numerics.same(amd, intel) == ["cpu vendor: AMD here Intel"]


def test_portable_numerics_refuse_kernels_chosen_before_the_package_and_key_their_builds(monkeypatch):
    from pythia_repro.integrity import kernels
    from pythia_repro.suites import micro

    if not kernels.portable():
        pytest.skip("the portable numerics do not apply on this CPU (not x86-64 with AVX2)")
    late = "import torch; torch.ones(2).exp(); from pythia_repro.integrity import numerics; numerics.check()"
    env = {k: v for k, v in os.environ.items() if k not in kernels.PORTABLE}
    run = subprocess.run([sys.executable, "-c", late], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "the portable AVX2 kernels are not in force" in run.stderr
    first = "from pythia_repro.integrity import numerics; import torch; torch.ones(2).exp(); numerics.check()"
    assert subprocess.run([sys.executable, "-c", first], env=env, timeout=120).returncode == 0
    config = micro.variant_config("tiny")
    portable = config.key()
    monkeypatch.setenv(settings.variable("numerics"), "native")
    assert config.key() != portable, "a native build is another build"
    monkeypatch.setenv(settings.variable("numerics"), "avx9")
    with pytest.raises(kernels.BadNumerics, match="expected one of portable, native"):
        config.key()


def test_notebooks_at_a_time_follow_the_setting_the_cores_the_memory_and_a_gpu(monkeypatch):
    import torch

    from pythia_repro.integrity import workers

    monkeypatch.delenv("PYTHIA_REPRO_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("PYTHIA_REPRO_JOBS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(workers, "available_memory", lambda: 64 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert workers.notebook_jobs(10) == 8, "one per core at one scoring thread each"
    assert workers.notebook_jobs(3) == 3, "never more than there are notebooks"
    monkeypatch.setenv("PYTHIA_REPRO_THREADS", "2")
    assert workers.notebook_jobs(10) == 4, "a core share per scoring thread"
    monkeypatch.setattr(workers, "available_memory", lambda: 7 * 2**30)
    assert workers.notebook_jobs(10) == 2, "as many as memory holds at 3 GiB each"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert workers.notebook_jobs(10) == 1, "notebooks would share the GPU"
    monkeypatch.setenv("PYTHIA_REPRO_JOBS", "5")
    assert workers.notebook_jobs(10) == 5 and workers.notebook_jobs(2) == 2, "the setting, capped by the count"
    for bad in ("0", "many"):
        monkeypatch.setenv("PYTHIA_REPRO_JOBS", bad)
        with pytest.raises(workers.BadThreads, match="PYTHIA_REPRO_JOBS"):
            workers.notebook_jobs(10)


@pytest.mark.parametrize("jobs", [1, 2])
def test_side_by_side_calls_each_once_starts_no_more_than_asked_and_returns_errors(jobs):
    import operator

    from pythia_repro.integrity import workers

    calls = [(6, 3), (1, 0), (8, 2), (9, 3)]
    running = most = 0
    outcomes = {}
    for event, i, outcome in workers.side_by_side(operator.truediv, calls, jobs):
        running += 1 if event == "start" else -1
        most = max(most, running)
        if event == "done":
            outcomes[i] = outcome
    assert most == jobs and running == 0
    assert {i: v for i, v in outcomes.items() if i != 1} == {0: 2.0, 2: 4.0, 3: 3.0}
    assert isinstance(outcomes[1], ZeroDivisionError), "an error is an outcome, not the end of the others"
