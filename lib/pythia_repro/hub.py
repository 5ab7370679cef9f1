"""Checkpoints in the Hugging Face cache under a disk budget: fetch one revision, score it, evict it.

A sweep with a budget fetches each revision just before it is scored (`snapshot_download`, config and
safetensors only) and evicts it once every finding that needs it has its scores, through huggingface_hub's
cache API. Revisions it fetched are written to a ledger in the package cache, so a sweep killed halfway
evicts them when it resumes; revisions the user had before the sweep are never deleted, and count against
the budget like everything else in the model repos of the cache (datasets, such as the Pile, are not counted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import atomic
from .errors import Explained
from .paths import cache_home
from .suites import Checkpoint, get_suite
from .suites.loading import hf_cache

WEIGHT_FILES = ["config.json", "*.safetensors", "*.safetensors.index.json"]
STORED_BYTES_PER_PARAM = 2  # the released checkpoints are stored in fp16
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B|B)?\s*$", re.IGNORECASE)


class DiskBudgetExceeded(Explained):
    """A checkpoint does not fit under the disk budget even after evicting what the sweep fetched (not retried)."""


def parse_size(text: str) -> int:
    """Bytes in "200GB", "1.5TB", "500MiB" or "123456" (decimal units; KiB, MiB, GiB binary)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"disk budget {text!r} is not a size such as 200GB, 1.5TB or 500MiB")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").upper()])


def human(size: float) -> str:
    """A byte count in GB/MB/kB, for messages and plans."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{int(size)} B"


def repo_of(checkpoint: Checkpoint) -> str:
    """The hub repo id that holds a checkpoint; an error for a suite that loads from a local folder."""
    suite = get_suite(checkpoint.suite)
    hub_id = suite.spec(checkpoint.model).hub_id
    if suite.local_root is not None or hub_id is None:
        raise ValueError(
            f"{checkpoint.model} loads from a local folder ({suite.local_root}), not the hub: a disk budget manages "
            "the Hugging Face cache only; unset the mirror setting or drop --disk-budget"
        )
    return hub_id


def estimated_bytes(checkpoint: Checkpoint) -> int:
    """Bytes of a checkpoint's weights as released: parameters × 2 (fp16 safetensors)."""
    return get_suite(checkpoint.suite).spec(checkpoint.model).params * STORED_BYTES_PER_PARAM


def cached_revisions(cache: Path) -> dict[tuple[str, str], tuple[str, int]]:
    """(repo id, revision) → (commit, bytes on disk) of every model revision in the cache, found by its ref."""
    from huggingface_hub import scan_cache_dir

    if not cache.is_dir():
        return {}
    found = {}
    for repo in scan_cache_dir(cache).repos:
        if repo.repo_type != "model":
            continue
        for revision in repo.revisions:
            for ref in revision.refs:
                found[(repo.repo_id, ref)] = (revision.commit_hash, revision.size_on_disk)
    return found


def model_bytes(cache: Path) -> int:
    """Bytes the model repos of the cache take on disk (blobs shared by revisions counted once)."""
    from huggingface_hub import scan_cache_dir

    if not cache.is_dir():
        return 0
    return sum(repo.size_on_disk for repo in scan_cache_dir(cache).repos if repo.repo_type == "model")


def download(repo_id: str, revision: str, cache: Path) -> None:
    """Fetch a revision's config and safetensors weights into the cache (huggingface_hub; offline: the cache)."""
    from huggingface_hub import snapshot_download

    snapshot_download(repo_id, revision=revision, allow_patterns=WEIGHT_FILES, cache_dir=cache)


@dataclass
class DiskBudget:
    """Keeps the model repos of the hub cache under `limit` bytes while a sweep fetches and scores revisions."""

    limit: int
    cache: Path = field(default_factory=hf_cache)
    fetch: Callable[[str, str, Path], None] = download
    ledger: Path = field(default_factory=lambda: cache_home() / "hub-budget" / "fetched.json")

    def _fetched(self) -> dict[str, dict[str, str | None]]:
        """The ledger: revisions this package fetched under a budget and has not evicted yet, repo → revision →
        the commit it downloaded (None while a download is under way, or after one was killed)."""
        try:
            ledger = json.loads(self.ledger.read_text())
        except (OSError, ValueError):
            return {}
        return {repo: dict.fromkeys(v) if isinstance(v, list) else dict(v) for repo, v in ledger.items()}

    def _record(self, fetched: dict[str, dict[str, str | None]]) -> None:
        kept = {repo: dict(sorted(revisions.items())) for repo, revisions in sorted(fetched.items()) if revisions}
        atomic.write_text(self.ledger, json.dumps(kept, indent=1))

    def acquire(self, checkpoint: Checkpoint) -> None:
        """Make the checkpoint's revision present: reuse it, or evict what earlier fetches left and fetch it."""
        repo, revision = repo_of(checkpoint), checkpoint.revision
        if (repo, revision) in cached_revisions(self.cache):
            return
        self.evict_all()
        need, used = estimated_bytes(checkpoint), model_bytes(self.cache)
        if need > self.limit:
            raise DiskBudgetExceeded(
                f"{checkpoint.model}@{revision} needs about {human(need)}, more than the whole {human(self.limit)} "
                "budget; raise --disk-budget (`pythia-repro plan` prints the largest checkpoint of a sweep)"
            )
        if used + need > self.limit:
            raise DiskBudgetExceeded(
                f"{checkpoint.model}@{revision} needs about {human(need)} but the hub cache's model repos at "
                f"{self.cache} already hold {human(used)} of the {human(self.limit)} budget, none of it fetched by "
                "a sweep; raise --disk-budget or delete revisions you no longer need (`hf cache delete`)"
            )
        fetched = self._fetched()
        fetched.setdefault(repo, {})[revision] = None
        self._record(fetched)  # before the download: a kill mid-download still evicts its part on resume
        try:
            self.fetch(repo, revision, self.cache)
        except Exception:
            fetched[repo].pop(revision)  # nothing of ours: a later copy is the user's
            self._record(fetched)
            raise
        fetched[repo][revision] = cached_revisions(self.cache).get((repo, revision), (None, 0))[0]
        self._record(fetched)

    def release(self, checkpoint: Checkpoint) -> None:
        """Evict the checkpoint's revision if this package fetched it, and it is still the commit it fetched."""
        self._evict({repo_of(checkpoint): [checkpoint.revision]})

    def evict_all(self) -> None:
        """Evict every revision the ledger holds (left by a sweep that was stopped before releasing them)."""
        self._evict(self._fetched())

    def _evict(self, wanted: dict[str, list[str]]) -> None:
        from huggingface_hub import scan_cache_dir

        fetched = self._fetched()
        present = cached_revisions(self.cache)
        commits = [
            present[(repo, revision)][0]
            for repo, revisions in wanted.items()
            for revision in revisions
            if revision in fetched.get(repo, {})
            and (repo, revision) in present
            and fetched[repo][revision] in (None, present[(repo, revision)][0])  # None: our killed download
        ]
        if commits:
            scan_cache_dir(self.cache).delete_revisions(*commits).execute()
        for repo, revisions in wanted.items():
            fetched[repo] = {r: c for r, c in fetched.get(repo, {}).items() if r not in revisions}
        self._record(fetched)
