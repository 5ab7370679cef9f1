"""Content hashes used for provenance and cache keys."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

PROGRESS_BYTES = 1 << 30  # files at least this large show a progress bar while hashed


def sha256_file(path: str | Path, chunk: int = 1 << 20, progress: str | None = None) -> str:
    """Hex sha256 of a file, read in chunks; with `progress` (a label), a bar for files of 1 GiB or more."""
    from tqdm.auto import tqdm

    h = hashlib.sha256()
    size = Path(path).stat().st_size
    with (
        open(path, "rb") as f,
        tqdm(
            total=size, unit="B", unit_scale=True, desc=progress, disable=progress is None or size < PROGRESS_BYTES
        ) as bar,
    ):
        while block := f.read(chunk):
            h.update(block)
            bar.update(len(block))
    return h.hexdigest()


def content_key(obj: Any) -> str:
    """Stable hex key of a JSON-serialisable object (sorted keys), for caches."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()
