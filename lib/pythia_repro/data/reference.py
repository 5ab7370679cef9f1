"""The authors' released results and tokenizer: fetched from their public origin, pinned and hash-checked.

Every file is identified by its path under the reference tree (e.g.
``published/term_frequency/pythia-13b-deduped.csv``), its sha256 and its origin
(raw file at a pinned commit). Set ``PYTHIA_REPRO_DATA`` to a local copy of the
tree to read from there instead of downloading; every file is checked either way.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import pooch
import requests

from .. import settings
from ..errors import Explained
from ..integrity import atomic
from ..integrity.hashing import sha256_file
from ..paths import cache_home
from .names import V0_NAMES

DERIVED_PREFIX = "derived:"


class ReferenceDataError(Explained, RuntimeError):
    """A reference file is unknown, missing, or does not match its pinned hash."""


@dataclass(frozen=True)
class ReferenceFile:
    path: str
    sha256: str
    origin: str


@lru_cache(maxsize=1)
def registry() -> dict[str, ReferenceFile]:
    """All known reference files, keyed by path."""
    text = files("pythia_repro").joinpath("reference_files.csv").read_text()
    return {row["path"]: ReferenceFile(**row) for row in csv.DictReader(io.StringIO(text))}


def entry(path: str) -> ReferenceFile:
    """The registry entry of one file, or a clear error listing what exists."""
    try:
        return registry()[path]
    except KeyError:
        folders = sorted({p.rsplit("/", 1)[0] for p in registry()})
        raise ReferenceDataError(f"unknown reference file {path!r}; known folders: {', '.join(folders)}") from None


def paths(prefix: str) -> list[str]:
    """Registered paths under a folder, sorted."""
    return sorted(p for p in registry() if p.startswith(prefix.rstrip("/") + "/"))


def fetch(path: str) -> Path:
    """Local path of a verified reference file: from the mirror, the cache, or downloaded now."""
    item = entry(path)
    mirror = settings.path("reference_data")
    if mirror:
        local = Path(mirror) / path
        if not local.is_file():
            raise ReferenceDataError(
                f"{settings.variable('reference_data')}={mirror} has no file {path}; point it at a complete copy "
                f"of the reference tree, or unset it to download from {item.origin}"
            )
    else:
        local = cache_home() / "reference" / path
        if not local.is_file():
            _download(item, local)
    verify(local, item)
    return local


def verify(local: Path, item: ReferenceFile) -> None:
    """Raise unless the file's sha256 is the pinned one."""
    actual = sha256_file(local)
    if actual != item.sha256:
        raise ReferenceDataError(
            f"{local}: sha256 {actual} does not match the pinned sha256 {item.sha256} of {item.path}; "
            "the file was not used. Replace it with the released file (delete it to re-download)."
        )


def _download(item: ReferenceFile, local: Path) -> None:
    local.parent.mkdir(parents=True, exist_ok=True)
    try:
        if item.origin.startswith(DERIVED_PREFIX):
            _derive_confusion_matrices(item.origin.removeprefix(DERIVED_PREFIX), local)
            return
        pooch.retrieve(
            item.origin,
            known_hash=f"sha256:{item.sha256}",
            fname=local.name,
            path=local.parent,
            progressbar=False,
        )
    except ValueError as err:  # pooch's hash mismatch; it already removed the download
        raise ReferenceDataError(f"download of {item.path} from {item.origin} failed its check: {err}") from err
    except requests.RequestException as err:  # offline, or the origin is unreachable
        raise ReferenceDataError(
            f"cannot download {item.path} from {item.origin} ({type(err).__name__}); without a network, set "
            f"{settings.variable('reference_data')} to a folder holding the reference tree (e.g. ../shared/data), "
            f"or copy the file to {local}"
        ) from None


# -- confusion matrices, derived from the cells printed in the authors' SVG figures -------------

SVG_FOLDERS = {
    "checkpoint_predicts_final": "memorization_early_checkpoint_predict_last_checkpoint",
    "smaller_model_predicts_largest": "memorization_small_model_predict_large_model",
}
CHECKPOINTS_MILLION_SEQUENCES = (23, 44, 65, 85, 105, 126, 146)
_CELL = re.compile(r"<!--\s*([0-9]+(?:\.[0-9]+)?)%\s*-->")


def parse_confusion_svg(text: str) -> tuple[str, str, str, str]:
    """The four percentages (tp, fn, fp, tn, as the figure lists them) printed in one matrix figure."""
    cells = _CELL.findall(text)
    if len(cells) != 4:
        raise ReferenceDataError(f"expected 4 percentage cells in the confusion-matrix figure, found {len(cells)}")
    return tuple(cells)  # type: ignore[return-value]


def confusion_csv(cells: dict[tuple[str, str, int], tuple[str, str, str, str]]) -> str:
    """The confusion-matrix table, from percentage cells keyed by (experiment, model, million sequences)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "experiment",
            "model",
            "model_v0_name",
            "checkpoint_million_sequences",
            "tp",
            "fn",
            "fp",
            "tn",
            "precision",
            "recall",
        ]
    )
    for experiment in SVG_FOLDERS:
        for model, v0 in V0_NAMES.items():
            for ckpt in CHECKPOINTS_MILLION_SEQUENCES:
                tp, fn, fp, tn = (float(c) / 100 for c in cells[(experiment, model, ckpt)])
                writer.writerow(
                    [experiment, model, v0, ckpt, tp, fn, fp, tn, round(tp / (tp + fp), 4), round(tp / (tp + fn), 4)]
                )
    return out.getvalue()


def _derive_confusion_matrices(base_url: str, local: Path) -> None:
    svg_dir = local.parent / "svg"
    cells = {}
    for experiment, folder in SVG_FOLDERS.items():
        for model, v0 in V0_NAMES.items():
            for ckpt in CHECKPOINTS_MILLION_SEQUENCES:
                name = f"graph_{v0.removeprefix('pythia-')}_{ckpt}m.svg"
                svg = pooch.retrieve(
                    f"{base_url}{folder}/{name}",
                    known_hash=None,
                    fname=f"{folder}-{name}",
                    path=svg_dir,
                    progressbar=False,
                )
                cells[(experiment, model, ckpt)] = parse_confusion_svg(Path(svg).read_text())
    atomic.write_text(local, confusion_csv(cells))
