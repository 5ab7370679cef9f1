"""Writing a finding's outputs: tables, figures, recorded inputs, the manifest, atomic publication.

Inside a notebook, `ResultWriter(output_dir)` saves tables (CSV) and figures (PNG
and PDF) and records the inputs it was given. With `output_dir=None` (a user
exploring in JupyterLab) it only displays. The runner (`pythia_repro.run`) then
adds `manifest.json` and moves the folder into `results/` in one rename.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from . import __version__, atomic
from .hashing import sha256_file

INPUTS_FILE = "inputs.json"
MANIFEST_FILE = "manifest.json"
TABLE_FLOAT_FORMAT = "%.10g"
LIBRARIES = ("torch", "transformers", "tokenizers", "numpy", "scipy", "pandas", "pyarrow",
             "statsmodels", "matplotlib", "seaborn", "papermill")


class ResultWriter:
    """Saves a notebook's tables and figures into `output_dir` and records what went in."""

    def __init__(self, output_dir: str | Path | None):
        self.dir = Path(output_dir) if output_dir else None
        self.inputs: list[dict[str, Any]] = []
        self.runtime: dict[str, Any] = {}
        self.notes: dict[str, dict[str, str]] = {}
        if self.dir:
            self.dir.mkdir(parents=True, exist_ok=True)

    def table(self, name: str, df: pd.DataFrame, notes: dict[str, str] | None = None) -> pd.DataFrame:
        """Save `df` as `<name>.csv` (fixed float format, so re-runs compare exactly) and return it.

        `notes` say what a column holds where its name cannot (e.g. the method of an interval); they go
        into the manifest under `table_notes`."""
        if notes:
            missing = set(notes) - set(df.columns)
            if missing:
                raise ValueError(f"notes for columns {sorted(missing)} that table {name!r} does not have")
            self.notes[name] = dict(notes)
            self._flush()
        if self.dir:
            df.to_csv(self.dir / f"{name}.csv", index=False, float_format=TABLE_FLOAT_FORMAT)
        return df

    def figure(self, name: str, fig) -> None:
        """Save a matplotlib figure as `<name>.png` and `<name>.pdf`."""
        if self.dir:
            fig.savefig(self.dir / f"{name}.png", dpi=150, bbox_inches="tight", metadata={"Software": None})
            fig.savefig(self.dir / f"{name}.pdf", bbox_inches="tight", metadata={"CreationDate": None})

    def record_input(self, kind: str, **identity: Any) -> None:
        """Note an input (reference file, model revision, dataset) with its identity and hash."""
        self.inputs.append({"kind": kind, **identity})
        self._flush()

    def record_runtime(self, **info: Any) -> None:
        """Note device, dtype and similar facts of the run."""
        self.runtime.update(info)
        self._flush()

    def _flush(self) -> None:
        if self.dir:
            data = {"inputs": self.inputs, "runtime": self.runtime, "table_notes": self.notes}
            (self.dir / INPUTS_FILE).write_text(json.dumps(data, indent=1, default=str))


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_state(root: Path) -> dict[str, Any]:
    """Commit and dirty flag of the checkout (None outside git)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--", ".", ":!results"))}
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"commit": None, "dirty": None}


def write_manifest(folder: Path, *, profile: str, finding: str, parameters: dict[str, Any],
                   started: datetime, finished: datetime, root: Path) -> dict[str, Any]:
    """Write `manifest.json` for a finished run folder, folding in the notebook's recorded inputs."""
    recorded = {"inputs": [], "runtime": {}, "table_notes": {}}
    inputs_path = folder / INPUTS_FILE
    if inputs_path.exists():
        recorded = json.loads(inputs_path.read_text())
        inputs_path.unlink()
    outputs = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST_FILE}
    manifest = {
        "package": "pythia-repro",
        "version": __version__,
        "git": git_state(root),
        "profile": profile,
        "finding": finding,
        "parameters": parameters,
        "inputs": recorded["inputs"],
        "table_notes": recorded.get("table_notes", {}),
        "runtime": {"device": "cpu", "dtype": None, **recorded["runtime"], "platform": platform.platform()},
        "libraries": library_versions(),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "outputs": outputs,
    }
    atomic.write_text(folder / MANIFEST_FILE, json.dumps(manifest, indent=1, default=str) + "\n")
    return manifest


def now() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def staging_dir(final: Path) -> Iterator[Path]:
    """A temporary sibling of `final`; removed on error, else swapped into place atomically."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish_dir(tmp, final)


def publish_dir(tmp: Path, final: Path) -> None:
    """Replace `final` by `tmp`: old folder renamed aside, new one renamed in, old one removed."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        final.rename(old)
    try:
        tmp.rename(final)
    except BaseException:
        if old is not None:
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
