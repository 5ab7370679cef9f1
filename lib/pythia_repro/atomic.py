"""Atomic file writes: a reader sees the old file or the whole new one, never a partial write."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def _temporary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_text(path: Path, text: str) -> None:
    """Write `text` to a hidden sibling, then rename it over `path`."""
    tmp = _temporary(path)
    tmp.write_text(text)
    tmp.replace(path)


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write `frame` (without its index) to a hidden sibling, then rename it over `path`."""
    tmp = _temporary(path)
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
