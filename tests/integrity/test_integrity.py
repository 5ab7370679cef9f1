"""Integrity under faults: damaged cache entries, changed data, tampered results, kills, races, bad parameters."""

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from pythia_repro import cli
from pythia_repro.data.tokens import data_identity
from pythia_repro.evals import ngrams
from pythia_repro.findings import check, check_notebook, memorization
from pythia_repro.integrity import atomic
from pythia_repro.integrity.hashing import sha256_file
from pythia_repro.parameters import BadParameter
from pythia_repro.report.results import check_published
from pythia_repro.run import recover
from pythia_repro.scoring import check_vocabulary
from pythia_repro.suites import get_suite, load_model, micro
from pythia_repro.sweep.score_cache import ScoreCache, record_path

from conftest import plant_failure

FORK = multiprocessing.get_context("fork")


def _flags(scored) -> pd.DataFrame:
    return scored.flags.sort_values(["model", "step", "row"]).reset_index(drop=True)


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def _half_rows(path: Path) -> None:  # still valid Parquet
    frame = pd.read_parquet(path)
    frame.iloc[: len(frame) // 2].to_parquet(path, index=False)


def _half_rows_and_matching_record(path: Path) -> None:  # as a buggy writer would leave it
    _half_rows(path)
    record = json.loads(record_path(path).read_text())
    record.update(rows=len(pd.read_parquet(path)), sha256=sha256_file(path))
    record_path(path).write_text(json.dumps(record))


def _garbage(path: Path) -> None:
    path.write_bytes(b"not parquet at all")


def _record_of_another_key(path: Path) -> None:
    record = json.loads(record_path(path).read_text())
    record["key"]["start"] += 1
    record_path(path).write_text(json.dumps(record))


def _no_record(path: Path) -> None:
    record_path(path).unlink()


DAMAGES = (
    _flip_byte,
    _truncate,
    _half_rows,
    _half_rows_and_matching_record,
    _garbage,
    _record_of_another_key,
    _no_record,
)


def test_damaged_cache_entries_are_reported_moved_aside_and_scored_again(tiny, capsys):
    first = memorization.score_suite("micro", progress=False)
    cache = ScoreCache()
    entries = sorted(cache.root.rglob("*.parquet"))
    assert len(entries) >= len(DAMAGES)
    damaged = entries[:: len(entries) // len(DAMAGES)][: len(DAMAGES)]
    for damage, path in zip(DAMAGES, damaged):
        damage(path)
    reported = dict(cache.check())
    assert set(reported) == set(damaged), "every damaged entry, and only those"
    capsys.readouterr()

    second = memorization.score_suite("micro", progress=False)
    assert len(second.report.scored) == len(DAMAGES), "each bad entry scored again, nothing else"
    pd.testing.assert_frame_equal(_flags(first), _flags(second))
    assert capsys.readouterr().err.count("score cache: ignored") == len(DAMAGES)
    assert len(list((cache.root / ".bad").rglob("*.parquet.*[0-9]"))) == len(DAMAGES), "moved aside, not deleted"
    assert cache.check() == []


def test_cache_check_command_reports_and_repairs(tiny, capsys):
    memorization.score_suite("micro", progress=False)
    cache = ScoreCache()
    entry = sorted(cache.root.rglob("*.parquet"))[0]
    _flip_byte(entry)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = atomic.temp_name(entry).with_name(
        atomic.temp_name(entry).name.replace(f"-{os.getpid()}-", f"-{ended.stdout.strip()}-")
    )
    leftover.write_bytes(b"half")
    live = atomic.temp_name(entry)
    live.write_bytes(b"being written by this process")

    assert cli.main(["cache", "check"]) == 1
    out = capsys.readouterr().out
    assert f"BAD {entry}" in out and "checksum" in out and leftover.name in out and live.name not in out
    assert cli.main(["cache", "check", "--repair"]) == 0
    assert not entry.exists() and not leftover.exists() and live.exists(), "a live writer's temporary is kept"
    capsys.readouterr()
    assert cli.main(["cache", "check"]) == 0
    assert "0 problem(s)" in capsys.readouterr().out


def test_data_identity_is_the_content_hashed_once(tiny, monkeypatch):
    import pythia_repro.data.tokens as tokens

    suite = get_suite("micro")
    before = data_identity(suite.data_prefix)
    hashed = []
    real = tokens.sha256_files
    monkeypatch.setattr(tokens, "sha256_files", lambda paths, **k: hashed.append(paths) or real(paths, **k))
    assert data_identity(suite.data_prefix) == before and not hashed, "reused while sizes and times are unchanged"

    token_file = suite.data_prefix.with_name("train.bin")
    os.utime(token_file)
    assert data_identity(suite.data_prefix) == before and len(hashed) == 2, "touched, hashed again, same content"

    scored = memorization.score_suite("micro", progress=False)
    assert scored.report.scored
    data, stamp = bytearray(token_file.read_bytes()), token_file.stat()
    data[100] ^= 1  # one token changed in place: same size, and its time put back as `touch -r` would
    token_file.write_bytes(bytes(data))
    os.utime(token_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert token_file.stat().st_size == stamp.st_size and token_file.stat().st_mtime_ns == stamp.st_mtime_ns
    assert data_identity(suite.data_prefix) != before, "the inode's change time gives the edit away: hashed again"
    again = memorization.score_suite("micro", progress=False)
    assert not again.report.cached and len(again.report.scored) == len(scored.report.scored), (
        "nothing scored on the old tokens is reused"
    )


def test_verify_checks_every_published_file_and_the_manifest(project, capsys, rerun_as):
    assert cli.main(["reproduce", "--profile", "published", "--finding", "term_frequency"]) == 0
    folder = project / "results" / "published" / "term_frequency"
    assert check_published(folder) == []
    rerun_as(folder)

    figure = folder / "heatmap.png"
    original = figure.read_bytes()
    _flip_byte(figure)
    capsys.readouterr()
    assert cli.main(["verify", "--profile", "published", "--finding", "term_frequency"]) == 1
    assert "heatmap.png: changed since it was published" in capsys.readouterr().out
    figure.write_bytes(original)

    notebook = folder / "term_frequency.ipynb"
    notebook.write_text(notebook.read_text().replace("Term", "term", 1))
    assert check_published(folder) == [
        "term_frequency.ipynb: changed since it was published (sha256 differs from the manifest)"
    ]
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["outputs"]["term_frequency.ipynb"] = sha256_file(notebook)
    manifest_path.write_text(json.dumps(manifest, indent=1))
    assert check_published(folder) == [
        f"{manifest_path}: edited after it was written (its digest does not match its content)"
    ]
    manifest["git"]["commit"] = "0" * 40
    (folder / "extra.csv").write_text("a\n")
    (folder / "mean_accuracy.csv").unlink()
    problems = check_published(folder)
    assert any("edited after it was written" in p for p in problems)
    assert "mean_accuracy.csv: listed in the manifest but missing" in problems
    assert "extra.csv: present but not in the manifest" in problems


def test_verify_of_a_failing_notebook_is_one_line_not_a_traceback(project, capsys):
    assert cli.main(["reproduce", "--profile", "published", "--finding", "term_frequency"]) == 0
    plant_failure(project, "term_frequency")
    capsys.readouterr()
    assert cli.main(["verify", "--profile", "published", "--finding", "term_frequency"]) == 1
    out = capsys.readouterr().out
    assert "the re-run failed" in out and "planted failure" in out and "Traceback" not in out


def test_concurrent_suite_builds_wait_for_each_other(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHIA_REPRO_HOME", str(tmp_path))
    env = dict(os.environ)
    final = micro.suite_dir(micro.VARIANTS["tiny"])
    command = [sys.executable, "-m", "pythia_repro.cli", "suite", "build", "micro", "--variant", "tiny"]
    errors = [tmp_path / f"build{i}.err" for i in range(2)]
    with atomic.locked(atomic.lock_file(final), "test"):  # both start while a third build holds the lock
        builds = [
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err.open("w"), text=True)
            for err in errors
        ]
        deadline = time.time() + 300  # held until both say they wait, however long they take to start
        while not all("waiting for it to finish" in e.read_text() for e in errors) and time.time() < deadline:
            assert all(b.poll() is None for b in builds), [e.read_text()[-2000:] for e in errors]
            time.sleep(0.2)
    assert [b.wait(timeout=300) for b in builds] == [0, 0], [e.read_text()[-2000:] for e in errors]
    assert all("waiting for it to finish" in e.read_text() for e in errors)
    assert micro.damage(final, checksums=True) is None, "complete: every file of the manifest, as built"
    assert not final.with_name(final.name + ".partial").exists()


def _crash_between_renames(final: Path) -> None:
    tmp, real, calls = _folder(final.parent, "new"), Path.rename, []

    def rename(self, target):
        calls.append(self)
        if len(calls) == 2:  # old folder already aside, new one not yet in
            os._exit(9)
        return real(self, target)

    Path.rename = rename
    atomic.publish_dir(tmp, final)


def _folder(parent: Path, content: str) -> Path:
    folder = atomic.temp_name(parent / "finding")
    folder.mkdir(parents=True)
    (folder / "table.csv").write_text(content)
    return folder


def test_a_kill_between_the_publish_renames_is_undone_by_the_next_run(tmp_path):
    final = tmp_path / "results" / "finding"
    final.parent.mkdir()
    atomic.publish_dir(_folder(final.parent, "old"), final)
    child = FORK.Process(target=_crash_between_renames, args=(final,))
    child.start()
    child.join()
    assert child.exitcode == 9 and not final.exists(), "the crash left no results folder"
    assert atomic.leftovers(final.parent, "finding", "old") and atomic.leftovers(final.parent, "finding", "tmp")

    recover(final)  # what `reproduce` and `verify` do first
    assert (final / "table.csv").read_text() == "old"
    assert not atomic.leftovers(final.parent, "finding", "old")
    assert not atomic.leftovers(final.parent, "finding", "tmp"), "the dead writer's temporary is removed"
    atomic.publish_dir(_folder(final.parent, "newer"), final)
    assert (final / "table.csv").read_text() == "newer"


def _publish_many(final: Path, writer: int, queue) -> None:
    try:
        for i in range(15):
            atomic.publish_dir(_folder(final.parent, f"{writer} {i}"), final)
    except BaseException as err:
        queue.put(repr(err))


def _save_many(path: Path, value: int, queue) -> None:
    try:
        for _ in range(20):
            bigrams = sp.csr_matrix(np.full((30, 30), value))
            ngrams.save_counts(path, np.full(30, value), bigrams)
    except BaseException as err:
        queue.put(repr(err))


def _load_many(path: Path, queue) -> None:
    try:
        for _ in range(60):
            if path.exists():
                unigrams, bigrams = ngrams.load_counts(path)
                assert len(set(unigrams)) == 1 and set(bigrams.data) <= set(unigrams), "one writer's whole file"
    except BaseException as err:
        queue.put(repr(err))


@pytest.mark.parametrize("case", ["publish", "counts"])
def test_concurrent_writers_never_fail_or_leave_a_mix(tmp_path, case):
    queue = FORK.Queue()
    target = tmp_path / "results" / "finding" if case == "publish" else tmp_path / "counts.npz"
    target.parent.mkdir(exist_ok=True)
    if case == "publish":
        workers = [FORK.Process(target=_publish_many, args=(target, w, queue)) for w in range(3)]
    else:
        workers = [FORK.Process(target=_save_many, args=(target, v + 1, queue)) for v in range(2)]
        workers.append(FORK.Process(target=_load_many, args=(target, queue)))
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    errors = [queue.get() for _ in range(queue.qsize())] if not queue.empty() else []
    assert errors == [] and all(w.exitcode == 0 for w in workers)
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")] == []
    if case == "publish":
        assert (target / "table.csv").read_text().split()[1] == "14", "one writer's last folder, whole"


@pytest.mark.parametrize(
    "given, message",
    [
        ("max_rows=abc", "parameter max_rows='abc': expected an integer >= 1 or None"),
        ("max_rows=-3", "parameter max_rows=-3: expected an integer >= 1"),
        ("batch_size=2.5", "parameter batch_size=2.5: expected an integer >= 1"),
        ("batch_size=-3", "parameter batch_size=-3"),
        ("operands=[]", "parameter operands=[]: expected a non-empty list of integers from 0 to 99"),
        ("operands=[500]", "parameter operands=[500]: expected a non-empty list of integers from 0 to 99"),
        (
            "max_row=5",
            "unknown parameter 'max_row' for evaluations, gender_bias, memorization, simplicity_bias, "
            "simplicity_bias_images, term_frequency: "
            "did you mean 'max_rows'?",
        ),
        ("device=gpu", "parameter device='gpu'"),
        ("device=cpu:7", "parameter device='cpu:7': expected cpu, mps, cuda or cuda:N"),
        ("device=cuda:99", "parameter device='cuda:99': torch sees"),
        ("suppress_eod=1", "parameter suppress_eod=1: expected True or False"),
        ("profile=pythia", "parameter profile cannot be set with -p: choose it with --profile"),
        ("output_dir=/tmp/x", "parameter output_dir cannot be set with -p"),
    ],
)
@pytest.mark.parametrize("command", ["reproduce", "sweep", "verify"])
def test_bad_parameters_are_one_line_before_any_work(command, given, message, monkeypatch):
    monkeypatch.setattr(memorization, "prepare", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(SystemExit) as stop:
        cli.main([command, "--profile", "micro", "-p", given])
    assert message in str(stop.value) and "\n" not in str(stop.value)


def test_single_values_of_list_parameters_are_lists_and_unused_names_are_checked_per_finding():
    assert check(["memorization"], {"steps": 8, "models": "micro-xs"}) == {
        "memorization": {"steps": [8], "models": ["micro-xs"]}
    }
    assert check(["memorization"], {"models": "['micro-s', 'micro-l']"}) == {  # papermill -p passes lists as text
        "memorization": {"models": ["micro-s", "micro-l"]}
    }
    with pytest.raises(BadParameter, match="papermill -y"):
        check(["memorization"], {"models": "['micro-s'"})
    both = check(["memorization", "simplicity_bias"], {"n_sequences": 64, "max_rows": 10})
    assert both == {"memorization": {"max_rows": 10}, "simplicity_bias": {"n_sequences": 64, "max_rows": 10}}
    with pytest.raises(BadParameter, match="unknown parameter 'n_sequences' for memorization"):
        check(["memorization"], {"n_sequences": 64})


def test_notebook_checks_what_papermill_injected():
    namespace = {
        "profile": "micro",
        "output_dir": None,
        "steps": None,
        "max_rows": None,
        "max_row": 5,
        "In": ["", "profile = 'micro'\nsteps = None", "# Parameters\nmax_row = 5\n"],
    }
    with pytest.raises(BadParameter, match="did you mean 'max_rows'"):
        check_notebook("memorization", namespace)
    del namespace["max_row"]
    namespace["In"][2] = "# Parameters\nmax_rows = -1\n"
    with pytest.raises(BadParameter, match="parameter max_rows=-1: expected an integer >= 1"):
        check_notebook("memorization", {**namespace, "max_rows": -1})
    with pytest.raises(BadParameter, match="profile='micr'"):
        check_notebook("memorization", {**namespace, "profile": "micr", "max_rows": 5})
    namespace.update(max_rows=5, models="['micro-s', 'micro-l']", steps=8)
    params = check_notebook("memorization", namespace)
    assert params["models"] == ["micro-s", "micro-l"] and params["steps"] == [8] and params["max_rows"] == 5


def test_papermill_parameters_are_checked_and_lists_may_be_text(project):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from pythia_repro.run import ensure_kernel

    with pytest.raises(PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(project / "notebooks" / "term_frequency.ipynb"),
            str(project / "out.ipynb"),
            parameters={"profile": "published", "heatmap_shot": 4},
            progress_bar=False,
            kernel_name=ensure_kernel(),
            cwd=str(project / "notebooks"),
        )
    assert err.value.ename == "BadParameter" and "did you mean 'heatmap_shots'" in err.value.evalue
    papermill.execute_notebook(
        str(project / "notebooks" / "term_frequency.ipynb"),
        str(project / "out.ipynb"),
        parameters={"profile": "published", "reported_shots": "[4]"},
        progress_bar=False,
        kernel_name=ensure_kernel(),
        cwd=str(project / "notebooks"),
    )  # a list as `-p` text


def test_notebook_parameters_cells_declare_what_the_findings_declare():
    from pythia_repro.findings import finding_modules

    for name, module in finding_modules().items():
        nb = json.loads((Path(__file__).parents[2] / "notebooks" / f"{name}.ipynb").read_text())
        cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
        namespace: dict = {}
        exec("".join(cell["source"]), namespace)
        defaults = {k: v for k, v in namespace.items() if not k.startswith("__") and k not in ("profile", "output_dir")}
        assert defaults == {p.name: p.default for p in module.PARAMETERS}, name


def test_token_ids_outside_the_vocabulary_name_row_token_and_model(tiny):
    suite = get_suite("micro")
    model = load_model(suite.checkpoint("micro-xs"), "cpu")
    vocab = model.get_input_embeddings().num_embeddings
    tokens = np.zeros((3, 64), dtype=np.int64)
    check_vocabulary(model, tokens, 100)
    tokens[2, 5] = vocab + 7
    with pytest.raises(ValueError) as err:
        check_vocabulary(model, tokens, 100, "training row")
    assert f"training row 102: token id {vocab + 7} at position 5" in str(err.value)
    assert f"({vocab} ids)" in str(err.value) and "micro-xs" in str(err.value)


def test_a_suite_missing_a_checkpoint_is_not_used_and_the_next_build_completes_it(tiny, capsys):
    weights = tiny / "micro-l" / "step8" / "model.safetensors"
    weights.unlink()
    with pytest.raises(
        LookupError,
        match="incomplete: micro-l/step8/model.safetensors is missing; run "
        "`pythia-repro suite build micro --variant tiny`",
    ):
        get_suite("micro")
    assert micro.build("tiny", progress=False) == tiny
    assert "is incomplete (micro-l/step8/model.safetensors is missing); building it again" in capsys.readouterr().err
    assert weights.is_file() and micro.damage(tiny, checksums=True) is None


def test_an_entry_copied_under_another_keys_name_is_found(tiny):
    memorization.score_suite("micro", progress=False)
    cache = ScoreCache()
    first, second = sorted(cache.root.rglob("*.parquet"))[:2]
    for source, target in ((first, second), (record_path(first), record_path(second))):
        target.write_bytes(source.read_bytes())
    assert dict(cache.check()) == {second: "stored under another key's name"}
    assert len(memorization.score_suite("micro", progress=False).report.scored) == 1, "scored again under its key"


def test_a_notebook_on_a_suite_not_built_says_the_command_in_one_line(project):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from pythia_repro.run import ensure_kernel

    with pytest.raises(PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(project / "notebooks" / "memorization.ipynb"),
            str(project / "out.ipynb"),
            parameters={"profile": "micro"},
            progress_bar=False,
            kernel_name=ensure_kernel(),
            cwd=str(project / "notebooks"),
        )
    assert err.value.ename == "CheckpointNotFound"
    assert len(err.value.traceback) == 1 and "run `pythia-repro suite build micro`" in err.value.traceback[0]


@pytest.mark.parametrize("kind", ["symlink", "folder", "hard link"])
def test_a_lock_path_that_is_not_our_file_is_refused_and_left_untouched(tmp_path, kind):
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's own words")
    lock = atomic.lock_file(tmp_path / "results" / "term_frequency")
    lock.parent.mkdir()
    if kind == "symlink":
        lock.symlink_to(victim)
    elif kind == "hard link":
        os.link(victim, lock)
    else:
        lock.mkdir()
    with pytest.raises(atomic.UnsafeLock, match="left untouched; remove it"), atomic.locked(lock, "publishing"):
        pass
    assert victim.read_text() == "the user's own words"
    assert lock.is_symlink() == (kind == "symlink")


def test_publishing_through_a_symlinked_lock_is_one_line_and_changes_nothing(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    final = tmp_path / "results" / "finding"
    staged = tmp_path / "results" / ".finding.tmp"
    staged.mkdir(parents=True)
    (staged / "table.csv").write_text("a\n1\n")
    atomic.lock_file(final).symlink_to(victim)
    with pytest.raises(atomic.UnsafeLock):
        atomic.publish_dir(staged, final)
    assert victim.read_text() == "keep" and not final.exists() and (staged / "table.csv").is_file()


@pytest.mark.parametrize("value", ["-1", "two"])
@pytest.mark.parametrize("command", ["reproduce", "sweep"])
def test_a_negative_retry_count_is_refused_before_any_work(command, value, monkeypatch, capsys):
    monkeypatch.setattr(memorization, "prepare", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(SystemExit) as stop:
        cli.main([command, "--profile", "micro", "--retries", value])
    assert stop.value.code == 2 and "--retries: expected a whole number >= 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["reproduce", "--profile", "micro", "--finding", "memorization"], "is not built; run `pythia-repro suite"),
        (["verify", "--profile", "micro", "--finding", "memorization"], "is not built; run `pythia-repro suite"),
        (["suite", "build", "micro", "--variant", "nope"], "unknown micro variant 'nope'; known: default, tiny"),
    ],
)
def test_an_unbuilt_or_unknown_suite_is_one_line_in_every_command(project, capsys, argv, message):
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("code", [30, 28])  # EROFS, ENOSPC
def test_a_read_only_or_full_folder_is_one_line_naming_the_settings(monkeypatch, capsys, code):
    import errno

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), "/cache/suites/micro/.default.lock")

    monkeypatch.setattr(micro, "build", refuse)
    assert code in (errno.EROFS, errno.ENOSPC)
    assert cli.main(["suite", "build", "micro"]) == 1
    err = capsys.readouterr().err
    assert "cannot write /cache/suites/micro/.default.lock" in err and "PYTHIA_REPRO_HOME" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["-1", "nan", "0", "inf", "half"])
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_gpu_share_that_is_not_a_positive_number_is_refused_before_any_work(engine, value, monkeypatch, capsys):
    monkeypatch.setattr(memorization, "prepare", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(SystemExit) as stop:
        cli.main(["sweep", "--profile", "micro", "--engine", engine, "--gpus-per-checkpoint", value])
    assert stop.value.code == 2 and "--gpus-per-checkpoint: expected a number above 0" in capsys.readouterr().err


@pytest.mark.parametrize("code", [30, 28])  # EROFS, ENOSPC
def test_a_read_only_or_full_cache_fails_a_checkpoint_at_once_naming_the_folder(monkeypatch, code):
    from pythia_repro.paths import cache_home
    from pythia_repro.sweep import executors

    tries = []

    def refuse(tasks, ckpt, cache):
        tries.append(ckpt)
        raise OSError(code, os.strerror(code))  # a write() that fails names no file

    monkeypatch.setattr(executors, "score_checkpoint", refuse)
    ckpt = get_suite("pythia").checkpoint("pythia-70m", 1000)
    [(_, failure)] = list(executors.LocalExecutor(retries=2)._execute([], [ckpt], None))
    assert tries == [ckpt], "not retried: no retry mends a read-only or full folder"
    assert str(cache_home()) in failure.reason and "PYTHIA_REPRO_HOME" in failure.reason


def test_a_kernel_spec_of_the_same_name_elsewhere_is_never_run(tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    from pythia_repro.run import KERNEL_NAME, ensure_kernel, local_kernel_manager

    foreign = tmp_path / "shared" / "kernels" / KERNEL_NAME
    foreign.mkdir(parents=True)
    (foreign / "kernel.json").write_text(json.dumps({"argv": ["/bin/sh", "-c", "echo owned"], "language": "sh"}))
    for folder in (foreign, foreign.parent, foreign.parent.parent):
        folder.chmod(0o777)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "shared"))
    assert KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv[0] == "/bin/sh", "jupyter itself would run it"
    manager = local_kernel_manager()(kernel_name=ensure_kernel())
    assert Path(manager.kernel_spec.argv[0]).resolve() == Path(sys.executable).resolve()
    assert Path(manager.kernel_spec.resource_dir).is_relative_to(sys.prefix)
