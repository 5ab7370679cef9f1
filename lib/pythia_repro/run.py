"""Executing finding notebooks with papermill into `results/<profile>/<finding>/`, and verifying them."""

from __future__ import annotations

import difflib
import json
import multiprocessing
import os
import stat
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .findings import all_findings, finding_modules, notebook_of, supports
from .findings import check as check_parameters
from .findings import used as used_parameters
from .integrity import numerics
from .integrity.atomic import lock_file, locked, recover_dir
from .integrity.hashing import sha256_file
from .paths import project_root, results_dir
from .report import numbers
from .report.results import MANIFEST_FILE, check_published, now, staging_dir, write_manifest

KERNEL_NAME = "pythia-repro"
KERNEL_START_RETRIES = 2


class NotebookFailed(RuntimeError):
    """A notebook raised in a cell, or its kernel could not be started."""


def kernel_specs():
    """The kernel specs of this interpreter's prefix only: a spec of the same name elsewhere on JUPYTER_PATH (another
    user's, a world-writable folder's) is never the one run."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager(kernel_dirs=[str(Path(sys.prefix) / "share" / "jupyter" / "kernels")])


def ensure_kernel() -> str:
    """Register an ipykernel for this interpreter (inside its prefix) unless one already points at it."""
    from jupyter_client.kernelspec import NoSuchKernel

    try:
        spec = kernel_specs().get_kernel_spec(KERNEL_NAME)
        if spec.argv and Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="Python (pythia-repro)", prefix=sys.prefix)
    return KERNEL_NAME


def kernel_folder() -> Path:
    """The folder of this user's kernel sockets (created private), refused unless it is a folder of this user that
    no one else can write to: a socket in another's folder could be replaced under the run."""
    folder = Path(tempfile.gettempdir()) / f"pythia-repro-kernels-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise NotebookFailed(
            f"the kernel socket folder {folder} is not a private folder of this user (mode "
            f"{stat.filemode(info.st_mode)}): remove it and run again"
        )
    return folder


def local_kernel_manager() -> type:
    """A kernel manager that talks to its kernel over local sockets (IPC), not TCP: no open port, no warning; and
    that starts the kernels of this interpreter's prefix only (`kernel_specs`)."""
    from jupyter_client.manager import KernelManager

    class LocalSocketKernelManager(KernelManager):
        def __init__(self, **kwargs):
            folder = kernel_folder()
            kwargs.setdefault("kernel_spec_manager", kernel_specs())
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", str(folder / f"kernel-{uuid.uuid4().hex[:12]}"))
            super().__init__(**kwargs)

    return LocalSocketKernelManager


def execute(finding: str, profile: str, output_dir: Path, parameters: dict[str, Any]) -> Path:
    """Run a finding's notebook with papermill, writing the executed copy and outputs into `output_dir`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = notebook_of(finding)
    if not source.is_file():
        raise NotebookFailed(f"no notebook {source}")
    executed = output_dir / f"{finding}.ipynb"
    params = {**parameters, "profile": profile, "output_dir": str(output_dir)}
    kernel = ensure_kernel()
    for attempt in range(KERNEL_START_RETRIES + 1):
        try:
            papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=params,
                kernel_name=kernel,
                cwd=str(source.parent),
                # a bar per cell, unless notebooks run side by side (a worker): their bars would share a line
                progress_bar=sys.stderr.isatty() and multiprocessing.parent_process() is None,
                start_timeout=120,
                kernel_manager_class=local_kernel_manager(),
            )
            return executed
        except PapermillExecutionError as err:
            raise NotebookFailed(
                f"{finding} ({profile}) failed in cell {err.exec_count}: {err.ename}: {err.evalue}"
            ) from err
        except (RuntimeError, TimeoutError) as err:  # the kernel did not start or died
            if attempt == KERNEL_START_RETRIES:
                raise NotebookFailed(f"{finding} ({profile}): kernel failed {attempt + 1} times: {err}") from err
            print(f"kernel failed to start ({err}); retrying", file=sys.stderr)
            time.sleep(2)
    raise AssertionError("unreachable")


def reproduce(finding: str, profile: str, parameters: dict[str, Any] | None = None) -> Path:
    """Execute one finding for one profile and publish its folder atomically; old results survive a failure.

    Parameters are checked first (`BadParameter`); the manifest records every parameter's value as used."""
    parameters = check_parameters([finding], dict(parameters or {}))[finding]
    final = results_dir() / profile / finding
    recover(final)
    started = now()
    with staging_dir(final) as tmp:
        execute(finding, profile, tmp, parameters)
        write_manifest(
            tmp,
            profile=profile,
            finding=finding,
            parameters=used_parameters(finding, parameters),
            started=started,
            finished=now(),
            root=project_root(),
        )
    return final


def recover(folder: Path) -> None:
    """Undo, under the folder's lock, what a crashed publish left around a results folder (and say so)."""
    with locked(lock_file(folder), f"recovering {folder}"):
        for line in recover_dir(folder):
            print(line, file=sys.stderr)


def previous_duration(finding: str, profile: str) -> float | None:
    """Seconds the published run of a finding took, from its manifest (None when there is none)."""
    try:
        manifest = json.loads((results_dir() / profile / finding / MANIFEST_FILE).read_text())
        return (
            datetime.fromisoformat(manifest["finished"]) - datetime.fromisoformat(manifest["started"])
        ).total_seconds()
    except (OSError, ValueError, KeyError, TypeError):
        return None


def supported(finding: str, profile: str) -> bool:
    return supports(all_findings()[finding], profile)


def compare_outputs(expected_dir: Path, actual_dir: Path, max_lines: int = 40) -> list[str]:
    """Readable differences between the published files of two result folders (empty when identical): a unified
    diff for tables, the sha256 for figures; the executed notebook, which records run times, is not compared."""
    problems = []
    expected = _compared(expected_dir)
    actual = _compared(actual_dir) - {"inputs.json"}
    for name in sorted(expected - actual):
        problems.append(f"{name}: committed but not produced by the re-run")
    for name in sorted(actual - expected):
        problems.append(f"{name}: produced by the re-run but not committed")
    for name in sorted(expected & actual):
        if name.endswith(".csv"):
            old = (expected_dir / name).read_text().splitlines(keepends=True)
            new = (actual_dir / name).read_text().splitlines(keepends=True)
            if old != new:
                diff = list(difflib.unified_diff(old, new, f"committed/{name}", f"re-run/{name}"))
                shown = "".join(diff[:max_lines]) + (
                    f"... ({len(diff) - max_lines} more diff lines)\n" if len(diff) > max_lines else ""
                )
                problems.append(f"{name} differs:\n{shown}")
        elif sha256_file(expected_dir / name) != sha256_file(actual_dir / name):
            problems.append(f"{name} differs (sha256) from the re-run's")
    return problems


def _compared(folder: Path) -> set[str]:
    """The files of a results folder `verify` compares: all but the manifest and the executed notebook."""
    skip = {MANIFEST_FILE, *(p.name for p in folder.glob("*.ipynb"))}
    return {p.name for p in folder.iterdir() if p.is_file()} - skip


def recorded_run(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """The parameters a results folder was made with (from its manifest), and the input files a parameter named
    that changed since (their sha256 differs from the recorded one, or they are gone)."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        parameters, inputs = dict(manifest.get("parameters") or {}), list(manifest.get("inputs") or [])
    except (OSError, ValueError, TypeError, AttributeError):
        return {}, []  # check_published names an unreadable manifest
    changed = []
    for item in inputs:
        if isinstance(item, dict) and item.get("kind") == "file":
            path = Path(item.get("path", ""))
            if not path.is_file() or sha256_file(path) != item.get("sha256"):
                changed.append(f"input {path} ({item.get('parameter')}) changed or is gone since the run")
    return parameters, changed


SAME_NUMERICS = "same numerics: byte-identical"
NOTHING_RERUN = "nothing re-run"


@dataclass
class Verified:
    """What `verify` found: the problems (none: it passed) and what was promised and kept."""

    problems: list[str]
    status: str = SAME_NUMERICS


def verify(finding: str, profile: str, parameters: dict[str, Any] | None = None) -> Verified:
    """Check every published file against the manifest, then re-execute the notebook with the parameters the folder
    was made with (those given override them) and compare every published file but the executed notebook.

    Under the numerics the folder was made with (`numerics.same`) every file must be byte-identical; under other
    numerics (another kernel path, library or override) the claims' verdicts are promised, and the numbers for
    papers within the finding's stated tolerance (`NUMERICS_TOLERANCE`); other files' numbers are reported."""
    committed = results_dir() / profile / finding
    linked = [p for p in (committed, committed.parent, results_dir()) if p.is_symlink()]
    if linked:
        return Verified(
            [
                f"{linked[0]} is a symbolic link (to {linked[0].resolve()}), not the checkout's results: nothing "
                "re-run; "
                "verify the folder where it lies, or copy it here"
            ],
            NOTHING_RERUN,
        )
    recover(committed)
    if not committed.is_dir():
        return Verified(
            [f"no committed results at {committed}; run `pythia-repro reproduce --profile {profile}` first"],
            NOTHING_RERUN,
        )
    problems = check_published(committed)
    if problems and problems[0].endswith("re-run `pythia-repro reproduce`"):
        return Verified(problems, NOTHING_RERUN)  # no manifest to re-run from
    if not _compared(committed):
        return Verified(
            problems
            + [
                f"{committed}: no published file to compare (only a manifest or a notebook); re-run "
                f"`pythia-repro reproduce --profile {profile} --finding {finding}`"
            ],
            NOTHING_RERUN,
        )
    recorded, changed = recorded_run(committed)
    declared = {p.name for p in finding_modules()[finding].PARAMETERS}
    given = {k: v for k, v in recorded.items() if k in declared} | dict(parameters or {})
    parameters = check_parameters([finding], given)[finding]
    with tempfile.TemporaryDirectory(prefix=f"verify-{finding}-") as tmp:
        try:
            execute(finding, profile, Path(tmp), parameters)
        except NotebookFailed as err:
            return Verified(problems + changed + [f"the re-run failed: {err}"], "the re-run failed")
        differences = compare_outputs(committed, Path(tmp))
        other = numerics.same(_recorded_numerics(committed), numerics.identity())
        if not other or other == ["not recorded"]:
            return Verified(problems + changed + differences)
        if not differences:
            return Verified(
                problems + changed,
                f"other numerics than the committed run ({'; '.join(other)}): byte-identical all the same",
            )
        moved = _verdicts(committed) != _verdicts(Path(tmp))
        before, after = numbers.read(committed), numbers.read(Path(tmp))
        tolerance = getattr(finding_modules()[finding], "NUMERICS_TOLERANCE", None)  # a plugin may state none
        beyond = numbers.outside(before, after, tolerance) if tolerance else []
        stated = (
            f"{len(beyond) or 'none'} beyond the stated tolerance ({tolerance})"
            if tolerance
            else "the finding states no tolerance"
        )
        status = (
            f"other numerics than the committed run ({'; '.join(other)}): verdicts "
            f"{'DIFFER' if moved else 'identical'}, {len(differences)} file(s) with other numbers; "
            f"{numbers.moves(before, after)}; {stated}"
        )
        missing = [d for d in differences if "committed but not" in d or "produced by the re-run but" in d]
        verdicts = ["claims.csv: a verdict differs from the committed one"] if moved else []
        far = [f"{numbers.JSON_FILE}: beyond the stated tolerance: {', '.join(beyond[:5])}"] if beyond else []
        return Verified(problems + changed + missing + verdicts + far, status)


def _recorded_numerics(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / MANIFEST_FILE).read_text()).get("numerics")
    except (OSError, ValueError, AttributeError):
        return None


def _verdicts(folder: Path) -> list[tuple[str, str, str]]:
    """(profile, claim, verdict) of a results folder's claims.csv, in order."""
    path = folder / "claims.csv"
    if not path.exists():
        return []
    claims = pd.read_csv(path, keep_default_na=False)
    return list(zip(claims.profile, claims.id, claims.verdict))
