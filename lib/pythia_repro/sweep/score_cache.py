"""A content-keyed cache of per-row scores (Parquet), filled by the sweeps of `pythia_repro.sweep.plan`.

A cache entry holds the scores of one checkpoint on one chunk of rows. Each entry is written
atomically and proves itself with a JSON record (its key, row count and checksum), so a crash,
a damaged file or a stale entry is never used, and any process (or Ray worker) sharing the
folder can fill it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..integrity import atomic
from ..integrity.hashing import content_key, sha256_file
from ..paths import cache_home

ENTRY_FORMAT = 2  # version of an entry's record
BAD = ".bad"  # where entries found bad are moved aside


@dataclass(frozen=True)
class ScoreKey:
    """Everything that determines a chunk of scores."""

    finding: str
    suite: str
    model: str
    revision: str
    data: str
    start: int
    stop: int
    scorer: str
    params: tuple[tuple[str, Any], ...]

    def digest(self) -> str:
        return content_key(asdict(self))


class ScoreCache:
    """Parquet files under `<cache>/scores/<finding>/<model>/<revision>/<digest>.parquet`, each with a JSON record.

    The record holds the entry's full key, its row count and the sha256 of the Parquet file, written after
    the file: an entry is used only when the record exists and matches the key asked for, the checksum and
    the rows. A bad entry is reported and moved aside under `.bad/`, so the next sweep scores it again."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else cache_home() / "scores"
        self._verified: dict[Path, tuple[int, int]] = {}  # path -> (size, mtime) of entries checked whole

    def path(self, key: ScoreKey) -> Path:
        return self.root / key.finding / key.model / key.revision / f"{key.digest()}.parquet"

    def get(self, key: ScoreKey) -> pd.DataFrame | None:
        """The entry's scores, or None when absent or bad (a bad entry is moved aside)."""
        path = self.path(key)
        if not path.is_file():
            return None
        frame, problem = _read_entry(path, _key_record(key))
        if problem:
            self._evict(path, problem)
            return None
        return frame

    def has(self, key: ScoreKey) -> bool:
        """Whether a good entry exists (checked against its record; a bad one is moved aside)."""
        path = self.path(key)
        if not path.is_file():
            return False
        stat = path.stat()
        if self._verified.get(path) == (stat.st_size, stat.st_mtime_ns):
            return True
        _, problem = _read_entry(path, _key_record(key))
        if problem:
            self._evict(path, problem)
            return False
        self._verified[path] = (stat.st_size, stat.st_mtime_ns)
        return True

    def put(self, key: ScoreKey, frame: pd.DataFrame) -> None:
        """Write the scores, then the record that makes them an entry."""
        path = self.path(key)
        with atomic.replacing(path) as tmp:
            frame.to_parquet(tmp, index=False)
            digest = sha256_file(tmp)
        record = {"format": ENTRY_FORMAT, "key": _key_record(key), "rows": len(frame), "sha256": digest}
        atomic.write_text(record_path(path), json.dumps(record, indent=1))

    def check(self, repair: bool = False) -> list[tuple[Path, str]]:
        """Every bad entry, record without scores and leftover of a killed writer in the cache, with what is wrong.

        With `repair` each is deleted, and so are the entries earlier reads moved aside (`.bad/`)."""
        found = []
        for path in self._files("*.parquet"):
            record = _read_record(record_path(path))
            expected = record.get("key") if isinstance(record, dict) else None
            problem = _read_entry(path, expected)[1] if isinstance(expected, dict) else "no record of its key beside it"
            if not problem and self.path(ScoreKey(**{**expected, "params": _tuples(expected["params"])})) != path:
                problem = "stored under another key's name"
            if problem:
                found.append((path, problem))
        found += [
            (p, "a record without its scores") for p in self._files("*.json") if not p.with_suffix(".parquet").exists()
        ]
        found += [(p, "a leftover of a killed writer") for p in self._files(".*.tmp-*") if atomic.owner_gone(p)]
        if repair:
            for path, _ in found:
                path.unlink(missing_ok=True)
                if path.suffix == ".parquet":
                    record_path(path).unlink(missing_ok=True)
            shutil.rmtree(self.root / BAD, ignore_errors=True)
        return found

    def _files(self, pattern: str) -> list[Path]:
        return sorted(p for p in self.root.rglob(pattern) if p.is_file() and BAD not in p.relative_to(self.root).parts)

    def _evict(self, path: Path, problem: str) -> None:
        aside = self.root / BAD / f"{path.relative_to(self.root)}.{time.strftime('%Y%m%dT%H%M%S')}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        for source, target in ((path, aside), (record_path(path), aside.with_name(aside.name + ".json"))):
            with contextlib.suppress(FileNotFoundError):  # another process moved it first
                source.rename(target)
        self._verified.pop(path, None)
        print(
            f"score cache: ignored {path} ({problem}); moved to {aside}; it will be scored again",
            file=sys.stderr,
            flush=True,
        )


def record_path(entry: Path) -> Path:
    """The JSON record beside a cache entry."""
    return entry.with_suffix(".json")


def _key_record(key: ScoreKey) -> dict[str, Any]:
    """The key as its record stores it (JSON types)."""
    return json.loads(json.dumps(asdict(key), default=str))


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _read_record(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_entry(path: Path, expected_key: dict[str, Any]) -> tuple[pd.DataFrame | None, str | None]:
    """The entry's scores and None, or None and what is wrong with it."""
    record = _read_record(record_path(path))
    if not isinstance(record, dict) or record.get("format") != ENTRY_FORMAT:
        return None, "no readable record of its key (written by an older version, or cut off)"
    if record.get("key") != expected_key:
        return None, "its record names another key"
    if sha256_file(path) != record.get("sha256"):
        return None, "its content does not match the checksum in its record"
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for damaged files
        return None, f"unreadable ({type(err).__name__})"
    start, stop = expected_key["start"], expected_key["stop"]
    if (
        len(frame) != record.get("rows")
        or len(frame) != stop - start
        or "row" not in frame
        or not np.array_equal(frame["row"].to_numpy(), np.arange(start, stop))
    ):
        return None, f"its rows are not rows [{start}, {stop})"
    return frame, None
