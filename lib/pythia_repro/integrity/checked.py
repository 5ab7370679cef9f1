"""Derived cache files that prove themselves, like score-cache entries: n-gram counts and term-count blocks.

Each such file lies at a path made from the key of what it holds (`location`) and has a record beside it
(`<file>.record.json`: that key, its size and sha256), written after the file, so a file without its record (a
crash between the two, or an older version) is never read. A read checks the record against the key it asked for
and the bytes; a bad file (another key: a file copied with its record under another's name; another size or
checksum: a flipped byte, a cut, values changed in a still-valid file) is named, moved aside under `<cache>/bad/`
and made again. `check` lists (and with `repair` moves aside) every bad one, a file whose record's key is not
where it lies among them.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

from ..paths import cache_home
from . import atomic
from .hashing import content_key, sha256_file

RECORD = ".record.json"
KINDS = {"ngrams": "*.npz", "terms": "*.parquet"}  # folders of the package cache whose files are checked


def record_path(path: Path) -> Path:
    """The record beside a checked file."""
    return path.with_name(path.name + RECORD)


def location(kind: str, holds: dict, suffix: str) -> Path:
    """Where the file holding `holds` (a JSON-able key: what data, which counter or order, which rows) lies."""
    return cache_home() / kind / f"{content_key(holds)[:24]}{suffix}"


def seal(path: Path, holds: dict, what: str) -> None:
    """Write the record of a file just written (after the file: a file without its record is never used): the key
    of what it holds, a line saying so for a person, its size and sha256."""
    record = {"holds": holds, "what": what, "size": path.stat().st_size, "sha256": sha256_file(path)}
    atomic.write_text(record_path(path), json.dumps(record, indent=1))


def problem(path: Path, holds: dict | None = None) -> str | None:
    """What is wrong with a checked file (None: it matches its record, and the record holds `holds` when given)."""
    if not path.is_file():
        return "missing"
    try:
        record = json.loads(record_path(path).read_text())
    except (OSError, ValueError):
        return "no readable record beside it"
    if not isinstance(record, dict) or not isinstance(record.get("holds"), dict):
        return "its record does not say what it holds (an older version)"
    if holds is not None and record["holds"] != holds:
        return f"its record says it holds {json.dumps(record['holds'])}, not {json.dumps(holds)} asked for"
    if path.stat().st_size != record.get("size"):
        return f"{path.stat().st_size} bytes where its record says {record.get('size')}"
    if sha256_file(path) != record.get("sha256"):
        return "its sha256 differs from its record's"
    return None


def usable(path: Path, holds: dict) -> bool:
    """Whether a checked file holding `holds` can be read; a bad one is moved aside and named, so the caller makes
    it again."""
    if not path.exists() and not record_path(path).exists():
        return False
    why = problem(path, holds)
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
            why = problem(path)
            if why is None and location(kind, _holds(path), path.suffix) != path:
                why = "stored under another key's name (its record says it holds something else)"
            if why is not None:
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


def _holds(path: Path) -> dict:
    return json.loads(record_path(path).read_text())["holds"]
