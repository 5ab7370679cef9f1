"""Derived cache files that prove themselves, like score-cache entries: n-gram counts and term-count blocks.

Each such file has a record beside it (`<file>.record.json`: what it holds, its size and sha256), written after the
file, so a file without its record (a crash between the two, or an older version) is never read. A read checks the
record; a bad file (another size or checksum: a flipped byte, a cut, values changed in a still-valid file) is named,
moved aside under `<cache>/bad/` and made again. `check` lists (and with `repair` moves aside) every bad one.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

from . import atomic
from .hashing import sha256_file
from .paths import cache_home

RECORD = ".record.json"
KINDS = {"ngrams": "*.npz", "terms": "*.parquet"}  # folders of the package cache whose files are checked


def record_path(path: Path) -> Path:
    """The record beside a checked file."""
    return path.with_name(path.name + RECORD)


def seal(path: Path, what: str) -> None:
    """Write the record of a file just written (after the file: a file without its record is never used)."""
    record = {"what": what, "size": path.stat().st_size, "sha256": sha256_file(path)}
    atomic.write_text(record_path(path), json.dumps(record, indent=1))


def problem(path: Path) -> str | None:
    """What is wrong with a checked file (None: it matches its record)."""
    if not path.is_file():
        return "missing"
    try:
        record = json.loads(record_path(path).read_text())
    except (OSError, ValueError):
        return "no readable record beside it"
    if path.stat().st_size != record.get("size"):
        return f"{path.stat().st_size} bytes where its record says {record.get('size')}"
    if sha256_file(path) != record.get("sha256"):
        return "its sha256 differs from its record's"
    return None


def usable(path: Path) -> bool:
    """Whether a checked file can be read; a bad one is moved aside and named, so the caller makes it again."""
    if not path.exists() and not record_path(path).exists():
        return False
    why = problem(path)
    if why is not None:
        aside = move_aside(path)
        print(f"cache: ignored {path} ({why}); moved to {aside}; it will be made again", file=sys.stderr, flush=True)
    return why is None


def move_aside(path: Path) -> Path:
    """Move a bad file and its record under `<cache>/bad/`, stamped, and return where the file went."""
    root = cache_home()
    relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    aside = root / "bad" / f"{relative}.{time.strftime('%Y%m%dT%H%M%S')}"
    aside.parent.mkdir(parents=True, exist_ok=True)
    for source, target in ((path, aside), (record_path(path), aside.with_name(aside.name + RECORD))):
        with contextlib.suppress(FileNotFoundError):  # another process moved it first
            source.rename(target)
    return aside


def check(repair: bool = False) -> list[tuple[Path, str]]:
    """Every bad checked file (and record without its file) in the package cache, moved aside with `repair`."""
    found = []
    for kind, pattern in KINDS.items():
        folder = cache_home() / kind
        for path in sorted(folder.rglob(pattern)) if folder.is_dir() else []:
            if (why := problem(path)) is not None:
                found.append((path, why))
        for record in sorted(folder.rglob(f"*{RECORD}")) if folder.is_dir() else []:
            if not record.with_name(record.name.removesuffix(RECORD)).exists():
                found.append((record, "a record without its file"))
    if repair:
        for path, _ in found:
            if path.name.endswith(RECORD):
                path.unlink(missing_ok=True)
            else:
                move_aside(path)
    return found
