"""Sweeps: one plan for every finding, local and Ray executors, retries, and resuming after a crash."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pythia_repro.cli import main
from pythia_repro.findings import (
    SweepPlan,
    gender_bias,
    memorization,
    scoring_tasks,
    shared,
    simplicity_bias,
    term_frequency,
)
from pythia_repro.parameters import BadParameter
from pythia_repro.sweep.executors import LocalExecutor, RayExecutor, gpu_share
from pythia_repro.sweep.plan import checkpoints, missing
from pythia_repro.sweep.score_cache import ScoreCache

pytestmark = pytest.mark.xdist_group("ray")  # one Ray cluster at a time on this machine

OPTIONS = {"models": ["micro-xs", "micro-l"], "steps": [8, 32], "shots": [0], "operands": [3, 17], "n_sequences": 8}
CLI_OPTIONS = [arg for k, v in OPTIONS.items() for arg in ("-p", f"{k}={v!r}")]
CHECKPOINTS = 4 + 2  # every finding's: 2 models × 2 steps of the micro suite, and micro-xs's 2 of the gender suite


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray cluster for every Ray test in this module: one CPU and one GPU resource, so tasks take the
    fractional-GPU path (they still run on the CPU: torch sees no CUDA device here) one at a time. Each Ray worker
    starts by importing torch and the package; two at once on the 2-core machine took 154 core-seconds over these
    tests where one takes 93, and no test here asks for two tasks in flight."""
    import ray

    context = ray.init(num_cpus=1, num_gpus=1, include_dashboard=False, log_to_driver=False)
    yield context.address_info["gcs_address"]
    ray.shutdown()


def cache_frames(root: Path) -> dict[str, pd.DataFrame]:
    """Every cache entry under a root, by its path relative to the root."""
    return {str(p.relative_to(root)): pd.read_parquet(p) for p in sorted(root.rglob("*.parquet"))}


def assert_same_cache(a: Path, b: Path) -> None:
    left, right = cache_frames(a), cache_frames(b)
    assert left and sorted(left) == sorted(right), "the same chunks, each exactly once"
    for name, frame in left.items():
        pd.testing.assert_frame_equal(frame, right[name], obj=name)


def local_reference(tmp_path: Path, findings: tuple[str, ...] | None = None) -> Path:
    root = tmp_path / "local"
    summary = LocalExecutor().run(SweepPlan("micro", findings, OPTIONS), ScoreCache(root), progress=False)
    assert summary.ok and summary.done and not summary.skipped
    return root


def test_one_plan_loads_each_checkpoint_once_for_every_finding(tiny):
    tasks = scoring_tasks("micro", None, {**OPTIONS, "progress": False})
    assert [t.finding for t in tasks] == ["gender_bias", "memorization", "simplicity_bias", "term_frequency"], (
        "the image suite holds none of the models asked for: left out of the sweep"
    )
    ckpts = checkpoints(tasks)
    assert len(ckpts) == len(set(ckpts)) == CHECKPOINTS, "the micro suite's shared by three findings"
    assert scoring_tasks("published", None, OPTIONS) == [], "the published profile scores nothing"
    with pytest.raises(ValueError, match="unknown finding"):
        scoring_tasks("micro", ["no_such_finding"])
    with pytest.raises(BadParameter, match=r"the micro profile has no 'micro-nope'; valid: micro-xs"):
        scoring_tasks("micro", None, {**OPTIONS, "models": ["micro-xs", "micro-nope"], "progress": False})


def test_cli_sweep_then_notebook_scoring_reads_only_the_cache(tiny, capsys):
    assert main(["sweep", "--profile", "micro", *CLI_OPTIONS]) == 0
    assert f"{CHECKPOINTS} checkpoint(s) scored" in capsys.readouterr().out
    assert main(["sweep", "--profile", "micro", *CLI_OPTIONS]) == 0
    assert f"0 checkpoint(s) scored (0 chunk(s) written), {CHECKPOINTS} skipped" in capsys.readouterr().out
    modules = (gender_bias, memorization, simplicity_bias, term_frequency)
    own = shared("micro", [m.FINDING.name for m in modules], OPTIONS)
    assert own["gender_bias"]["models"] == ["micro-xs"], "the models the gender suite holds"
    for module in modules:
        accepted = inspect.signature(module.prepare).parameters
        options = own[module.FINDING.name]
        scored = module.score_suite("micro", progress=False, **{k: v for k, v in options.items() if k in accepted})
        assert scored.report.cached and not scored.report.scored and not scored.report.loaded, module.__name__


@dataclasses.dataclass
class Flaky:
    """A plan whose scoring raises `error` on the first `failures` chunks (counted in this process)."""

    inner: SweepPlan
    error: type[Exception]
    failures: int

    def tasks(self):
        calls = []

        def wrap(score):
            def flaky(*args):
                calls.append(1)
                if len(calls) <= self.failures:
                    raise self.error("injected failure")
                return score(*args)

            return flaky

        return [dataclasses.replace(t, score=wrap(t.score)) for t in self.inner.tasks()]


def test_local_executor_retries_transient_errors_and_reports_the_rest(tiny, tmp_path):
    plan = SweepPlan("micro", ("memorization",), OPTIONS)
    transient = LocalExecutor(retries=2).run(Flaky(plan, OSError, 2), ScoreCache(tmp_path / "a"), progress=False)
    assert transient.ok and len(transient.done) == 4
    permanent = LocalExecutor(retries=2).run(Flaky(plan, ValueError, 1), ScoreCache(tmp_path / "b"), progress=False)
    assert [f.reason for f in permanent.failed] == ["ValueError: injected failure"], "not retried, reported"
    assert len(permanent.done) == 3 and "FAILED micro-xs@step8" in permanent.text()
    exhausted = LocalExecutor(retries=1).run(Flaky(plan, OSError, 10), ScoreCache(tmp_path / "c"), progress=False)
    assert len(exhausted.failed) == 4 and all("after 2 attempts" in f.reason for f in exhausted.failed)


def test_gpu_share_by_model_size():
    assert gpu_share(70e6) == 0.25 and gpu_share(1.0e9) == 0.5 and gpu_share(6.9e9) == 1.0


def test_ray_sweep_equals_the_local_one_asking_a_gpu_share_by_model_size(tiny, tmp_path, ray_cluster, monkeypatch):
    import ray

    asked, real_remote = [], ray.remote

    class Recording:
        """`ray.remote` as it is, noting the resources each task asks for."""

        def __init__(self, fn):
            self.remote_fn = real_remote(fn)

        def options(self, **options):
            asked.append(options)
            return self.remote_fn.options(**options)

    reference = local_reference(tmp_path)
    monkeypatch.setattr(ray, "remote", Recording)
    summary = RayExecutor(address=ray_cluster).run(
        SweepPlan("micro", None, OPTIONS), ScoreCache(tmp_path / "ray"), progress=False
    )
    assert summary.ok and len(summary.done) == CHECKPOINTS and summary.devices() == {"cpu"}
    assert_same_cache(reference, tmp_path / "ray")
    assert len(asked) == CHECKPOINTS
    assert {(o["num_gpus"], o["num_cpus"], o["max_retries"]) for o in asked} == {(0.25, 1, 2)}, (
        "micro models share a GPU"
    )
    again = RayExecutor(address=ray_cluster).run(
        SweepPlan("micro", None, OPTIONS), ScoreCache(tmp_path / "ray"), progress=False
    )
    assert not again.done and len(again.skipped) == CHECKPOINTS and len(asked) == CHECKPOINTS


@dataclasses.dataclass
class KillOnce:
    """A plan whose worker kills its own process (SIGKILL) on the second chunk it scores, once per `marker`."""

    inner: SweepPlan
    marker: str

    def tasks(self):
        calls = []

        def wrap(score):
            def killing(*args):
                calls.append(1)
                if len(calls) == 2:
                    try:
                        os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
                    except FileExistsError:
                        return score(*args)
                    os.kill(os.getpid(), signal.SIGKILL)
                return score(*args)

            return killing

        return [dataclasses.replace(t, score=wrap(t.score)) for t in self.inner.tasks()]


def test_ray_worker_killed_mid_checkpoint_is_retried(tiny, tmp_path, ray_cluster):
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    several = ("memorization", "simplicity_bias", "term_frequency")  # several chunks on each checkpoint
    reference = local_reference(tmp_path, several)
    marker = tmp_path / "killed"
    source = KillOnce(SweepPlan("micro", several, OPTIONS), str(marker))
    summary = RayExecutor(address=ray_cluster).run(source, ScoreCache(tmp_path / "ray"), progress=False)
    assert marker.exists(), "a worker was killed"
    assert summary.ok and len(summary.done) == 4, summary.text()
    assert sum(len(r.cached) for r in summary.done) >= 1, "the chunk written before the kill was kept, not redone"
    assert_same_cache(reference, tmp_path / "ray")


def test_ray_driver_killed_and_restarted_loses_and_duplicates_nothing(tiny, tmp_path, ray_cluster):
    reference = local_reference(tmp_path)
    command = [
        sys.executable,
        "-m",
        "pythia_repro.cli",
        "sweep",
        "--profile",
        "micro",
        "--engine",
        "ray",
        "--address",
        ray_cluster,
        *CLI_OPTIONS,
    ]
    cache = ScoreCache()  # the driver's default cache, under this test's PYTHIA_REPRO_HOME
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list(cache.root.rglob("*.parquet")) and driver.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    tasks = scoring_tasks("micro", None, {**OPTIONS, "progress": False})
    left = sum(missing(tasks, c, cache) for c in checkpoints(tasks))
    assert left > 0, "the driver was killed before the sweep finished"
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "0 failed" in finished.stdout
    assert not any(missing(tasks, c, cache) for c in checkpoints(tasks))
    assert_same_cache(reference, cache.root)


def test_reproduce_on_ray_sweeps_first_and_the_notebook_reads_the_cache(tiny, project, ray_cluster, capsys):
    options = ["-p", "models=['micro-xs', 'micro-l']", "-p", "steps=[8, 32]"]
    code = main(
        [
            "reproduce",
            "--profile",
            "micro",
            "--finding",
            "memorization",
            "--engine",
            "ray",
            "--address",
            ray_cluster,
            *options,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "4 checkpoint(s) scored" in out, out
    executed = (project / "results" / "micro" / "memorization" / "memorization.ipynb").read_text()
    assert "0 chunks scored now" in executed, "the notebook found every score in the cache"
    manifest = json.loads((project / "results" / "micro" / "memorization" / "manifest.json").read_text())
    assert manifest["parameters"]["device"] == "cpu", "the notebook read the keys of the device the workers used"


def test_sweep_of_a_suite_that_is_not_there_says_what_to_do(monkeypatch, capsys):
    monkeypatch.setenv("PYTHIA_REPRO_MICRO_VARIANT", "tiny")
    assert main(["sweep", "--profile", "micro"]) == 1
    assert "pythia-repro suite build micro --variant tiny" in capsys.readouterr().err


def test_ray_engine_without_ray_installed_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what a plain `pip install -e .` leaves
    with pytest.raises(SystemExit, match=r"pip install -e '\.\[ray\]'"):
        main(["sweep", "--profile", "micro", "--engine", "ray"])


def test_term_counting_on_ray_equals_the_local_count_and_resumes(micro_suite, ray_cluster, tmp_path, monkeypatch):
    from pythia_repro.evals import terms

    steps = [8, 16, 32]
    local = terms.block_counts(micro_suite, steps, ("window", "task"), max_block_rows=20, progress=False)
    monkeypatch.setenv("PYTHIA_REPRO_HOME", str(tmp_path / "ray-home"))
    counted = terms.block_counts(
        micro_suite, steps, ("window", "task"), max_block_rows=20, progress=False, engine="ray", address=ray_cluster
    )
    pd.testing.assert_frame_equal(counted, local)
    blocks = sorted((tmp_path / "ray-home" / "terms").rglob("*.parquet"))
    expected = terms.blocks(steps, micro_suite.rows_per_step, 20)
    assert len(blocks) == len(expected) == 8, "one cache file per block (empty ones too), written by its worker"
    blocks[1].unlink()
    calls = []
    monkeypatch.setattr(
        terms, "_count_on_ray", lambda tasks, *rest: calls.append(tasks) or terms._count_here(tasks, 1, None, False)
    )
    monkeypatch.setitem(terms.COUNTING_ENGINES, "ray", terms._count_on_ray)
    resumed = terms.block_counts(
        micro_suite, steps, ("window", "task"), max_block_rows=20, progress=False, engine="ray"
    )
    pd.testing.assert_frame_equal(resumed, local)
    assert [len(tasks) for tasks in calls] == [1], "only the missing block is counted again"


def test_a_sweep_counts_terms_on_its_engine(tiny, tmp_path, monkeypatch, capsys):
    engines = []
    monkeypatch.setattr(term_frequency, "operand_frequencies", lambda *a, **k: engines.append(k["engine"]))
    assert (
        main(["sweep", "--finding", "term_frequency", *CLI_OPTIONS[:2], "-p", "steps=[8, 32]", "-p", "shots=[0]"]) == 0
    )
    assert engines == ["local"] and "→ term_frequency: precompute (local)" in capsys.readouterr().out
