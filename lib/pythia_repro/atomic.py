"""Atomic file writes: a reader sees the old file or the whole new one, never a partial write."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A hidden sibling to write, renamed over `path` on success and removed on failure.

    The name is unique per writer, also across machines sharing the folder (Ray workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically."""
    with _replacing(path) as tmp:
        tmp.write_text(text)


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write `frame` (without its index) to `path` atomically."""
    with _replacing(path) as tmp:
        frame.to_parquet(tmp, index=False)
