"""Writing a finding's outputs: tables, figures, recorded inputs, the manifest, atomic publication.

Inside a notebook, `ResultWriter(output_dir)` saves tables (CSV) and figures (PNG
and PDF) and records the inputs it was given. With `output_dir=None` (a user
exploring in JupyterLab) it only displays. The runner (`pythia_repro.run`) then
adds `manifest.json` and moves the folder into `results/` in one rename.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..integrity import atomic, numerics
from ..integrity.environment import installed_against_lock
from ..integrity.hashing import content_key, sha256_file

INPUTS_FILE = "inputs.json"
MANIFEST_FILE = "manifest.json"
TABLE_FLOAT_FORMAT = "%.10g"
# Without the dates and versions that would make re-runs differ byte for byte.
FIGURE_FORMATS = {"png": {"dpi": 150, "metadata": {"Software": None}}, "pdf": {"metadata": {"CreationDate": None}}}
LIBRARIES = (
    "torch",
    "transformers",
    "tokenizers",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "papermill",
)


class ResultWriter:
    """Saves a notebook's tables and figures into `output_dir` and records what went in."""

    def __init__(self, output_dir: str | Path | None, title_note: str | None = None):
        self.dir = Path(output_dir) if output_dir else None
        self.title_note = title_note  # said in every figure's title, e.g. whose numbers it shows
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
            atomic.write_text(self.dir / f"{name}.csv", df.to_csv(index=False, float_format=TABLE_FLOAT_FORMAT))
        return df

    def figure(self, name: str, fig) -> None:
        """Save a matplotlib figure as `<name>.png` and `<name>.pdf`, its title ending with the writer's note."""
        if self.title_note:
            title = fig.get_suptitle()
            if title:
                fig._suptitle.set_text(f"{title} ({self.title_note})")
            else:
                fig.suptitle(self.title_note, y=1.02, fontsize=10)
        if self.dir:
            for kind, options in FIGURE_FORMATS.items():
                atomic.write_with(
                    self.dir / f"{name}.{kind}", partial(fig.savefig, format=kind, bbox_inches="tight", **options)
                )

    def text(self, name: str, text: str) -> None:
        """Save a text output (e.g. `numbers.tex`) under its file name."""
        if self.dir:
            atomic.write_text(self.dir / name, text)

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
            atomic.write_text(self.dir / INPUTS_FILE, json.dumps(data, indent=1, default=str))


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


def write_manifest(
    folder: Path,
    *,
    profile: str,
    finding: str,
    parameters: dict[str, Any],
    started: datetime,
    finished: datetime,
    root: Path,
) -> dict[str, Any]:
    """Write `manifest.json` for a finished run folder, folding in the notebook's recorded inputs."""
    recorded = {"inputs": [], "runtime": {}, "table_notes": {}}
    inputs_path = folder / INPUTS_FILE
    if inputs_path.exists():
        recorded = json.loads(inputs_path.read_text())
        inputs_path.unlink()
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
        "numerics": numerics.identity(),
        "environment": installed_against_lock(),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "outputs": {name: sha256_file(folder / name) for name in _published_files(folder)},
    }
    manifest = json.loads(json.dumps(manifest, default=str))
    manifest["digest"] = manifest_digest(manifest)
    atomic.write_text(folder / MANIFEST_FILE, json.dumps(manifest, indent=1) + "\n")
    return manifest


def _published_files(folder: Path) -> list[str]:
    """Every file under a results folder but its manifest (symbolic links are no published files), as relative paths."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.name != MANIFEST_FILE
    )


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The sha256 of a manifest's content without its own digest: an edit that does not update it shows."""
    return content_key({k: v for k, v in manifest.items() if k != "digest"})


def check_published(folder: Path) -> list[str]:
    """What is wrong with a published results folder: an edited manifest, a file missing, unlisted or changed."""
    path = folder / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text())
        outputs = manifest["outputs"]
        if not isinstance(outputs, dict):
            raise TypeError(f"its outputs are {type(outputs).__name__}, not a table of files and sha256")
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [f"{path}: unreadable manifest ({type(err).__name__}: {err}); re-run `pythia-repro reproduce`"]
    problems = [
        f"{p.relative_to(folder)}: a symbolic link, not a published file"
        for p in sorted(folder.rglob("*"))
        if p.is_symlink()
    ]
    problems += [
        f"{p.relative_to(folder)}/: a folder that holds no published file"
        for p in sorted(folder.rglob("*"))
        if p.is_dir()
        and not p.is_symlink()
        and not any(name.startswith(f"{p.relative_to(folder)}/") for name in outputs)
    ]
    if manifest.get("digest") != manifest_digest(manifest):
        problems.append(f"{path}: edited after it was written (its digest does not match its content)")
    present = set(_published_files(folder))
    problems += [f"{name}: listed in the manifest but missing" for name in sorted(set(outputs) - present)]
    problems += [f"{name}: present but not in the manifest" for name in sorted(present - set(outputs))]
    problems += [
        f"{name}: changed since it was published (sha256 differs from the manifest)"
        for name in sorted(present & set(outputs))
        if sha256_file(folder / name) != outputs[name]
    ]
    return problems


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def staging_dir(final: Path) -> Iterator[Path]:
    """A temporary sibling of `final`; removed on error, else swapped into place atomically (`atomic.publish_dir`)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic.temp_name(final)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atomic.publish_dir(tmp, final)
