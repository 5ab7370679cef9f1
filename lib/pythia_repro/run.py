"""Executing finding notebooks with papermill into `results/<profile>/<finding>/`, and verifying them."""

from __future__ import annotations

import difflib
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from .atomic import lock_file, locked, recover_dir
from .findings import all_findings, notebook_of, supports
from .findings import check as check_parameters
from .findings import used as used_parameters
from .paths import project_root, results_dir
from .results import MANIFEST_FILE, check_published, now, staging_dir, write_manifest

KERNEL_NAME = "pythia-repro"
KERNEL_START_RETRIES = 2


class NotebookFailed(RuntimeError):
    """A notebook raised in a cell, or its kernel could not be started."""


def ensure_kernel() -> str:
    """Register an ipykernel for this interpreter (inside its prefix) unless one already points at it."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if spec.argv and Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="Python (pythia-repro)", prefix=sys.prefix)
    return KERNEL_NAME


def local_kernel_manager() -> type:
    """A kernel manager that talks to its kernel over local sockets (IPC), not TCP: no open port, no warning."""
    from jupyter_client.manager import KernelManager

    class LocalSocketKernelManager(KernelManager):
        def __init__(self, **kwargs):
            folder = Path(tempfile.gettempdir()) / f"pythia-repro-kernels-{os.getuid()}"
            folder.mkdir(mode=0o700, exist_ok=True)
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
                progress_bar=sys.stderr.isatty(),
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


def compare_tables(expected_dir: Path, actual_dir: Path, max_lines: int = 40) -> list[str]:
    """Readable differences between the CSV tables of two result folders (empty when identical)."""
    problems = []
    expected = {p.name for p in expected_dir.glob("*.csv")}
    actual = {p.name for p in actual_dir.glob("*.csv")}
    for name in sorted(expected - actual):
        problems.append(f"{name}: committed but not produced by the re-run")
    for name in sorted(actual - expected):
        problems.append(f"{name}: produced by the re-run but not committed")
    for name in sorted(expected & actual):
        old = (expected_dir / name).read_text().splitlines(keepends=True)
        new = (actual_dir / name).read_text().splitlines(keepends=True)
        if old != new:
            diff = list(difflib.unified_diff(old, new, f"committed/{name}", f"re-run/{name}"))
            shown = "".join(diff[:max_lines]) + (
                f"... ({len(diff) - max_lines} more diff lines)\n" if len(diff) > max_lines else ""
            )
            problems.append(f"{name} differs:\n{shown}")
    return problems


def verify(finding: str, profile: str, parameters: dict[str, Any] | None = None) -> list[str]:
    """Check every published file against the manifest, then re-execute the notebook and compare every table."""
    committed = results_dir() / profile / finding
    recover(committed)
    if not committed.is_dir():
        return [f"no committed results at {committed}; run `pythia-repro reproduce --profile {profile}` first"]
    problems = check_published(committed)
    parameters = check_parameters([finding], dict(parameters or {}))[finding]
    with tempfile.TemporaryDirectory(prefix=f"verify-{finding}-") as tmp:
        try:
            execute(finding, profile, Path(tmp), parameters)
        except NotebookFailed as err:
            return problems + [f"the re-run failed: {err}"]
        return problems + compare_tables(committed, Path(tmp))
