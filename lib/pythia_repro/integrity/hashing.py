"""Content hashes used for provenance and cache keys."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

PROGRESS_BYTES = 1 << 30  # files at least this large show a progress bar while hashed


def sha256_file(path: str | Path, chunk: int = 1 << 20, progress: str | None = None) -> str:
    """Hex sha256 of a file, read in chunks; with `progress` (a label), a bar for files of 1 GiB or more."""
    return sha256_files([path], chunk, progress)


def sha256_files(paths: list[str | Path], chunk: int = 1 << 20, progress: str | None = None) -> str:
    """Hex sha256 of files read one after the other, as if joined (shards hash like the file they split)."""
    from tqdm.auto import tqdm

    h = hashlib.sha256()
    size = sum(Path(path).stat().st_size for path in paths)
    disable = progress is None or size < PROGRESS_BYTES
    with tqdm(total=size, unit="B", unit_scale=True, desc=progress, disable=disable) as bar:
        for path in paths:
            with open(path, "rb") as f:
                while block := f.read(chunk):
                    h.update(block)
                    bar.update(len(block))
    return h.hexdigest()


def content_key(obj: Any) -> str:
    """Stable hex key of a JSON-serialisable object (sorted keys), for caches."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()
