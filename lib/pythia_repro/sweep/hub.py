"""Checkpoints in the Hugging Face cache under a disk budget: fetch one revision, score it, evict it.

A sweep with a budget fetches each revision just before it is scored (`snapshot_download`, config and
safetensors only) and evicts it once every finding that needs it has its scores, through huggingface_hub's
cache API. Commits it fetched are written to a ledger in the package cache once their fetch has finished, so
a sweep killed halfway evicts them when it resumes; commits the user had before the sweep (under any name),
points a ref at since, or fetches by hand after an interrupted fetch are never deleted, and count against the
budget like everything else in the model repos of the cache (datasets, such as the Pile, are not counted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Explained
from ..integrity import atomic
from ..paths import cache_home, hf_cache
from ..suites import Checkpoint, get_suite

WEIGHT_FILES = ["config.json", "*.safetensors", "*.safetensors.index.json"]
STORED_BYTES_PER_PARAM = 2  # the released checkpoints are stored in fp16
LEDGER_FORMAT = 2  # ledger keyed by commit (format 1, keyed by revision, is read and rewritten)
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


def commits(cache: Path, repo_id: str) -> dict[str, set[str]]:
    """Commit → the refs that point to it, for every revision of a model repo in the cache (a download by commit
    hash has no ref: an empty set)."""
    from huggingface_hub import scan_cache_dir

    if not cache.is_dir():
        return {}
    return {
        revision.commit_hash: set(revision.refs)
        for repo in scan_cache_dir(cache).repos
        if repo.repo_type == "model" and repo.repo_id == repo_id
        for revision in repo.revisions
    }


@dataclass
class DiskBudget:
    """Keeps the model repos of the hub cache under `limit` bytes while a sweep fetches and scores revisions.

    A commit is the package's to evict only if it was absent from the cache before the package fetched it, the
    fetch finished, and no ref but those the package fetched points to it when it is evicted: the user's copies
    (under any name, by commit hash, or fetched by hand after an interrupted sweep) are never deleted."""

    limit: int
    cache: Path = field(default_factory=hf_cache)
    fetch: Callable[[str, str, Path], None] = download
    ledger: Path = field(default_factory=lambda: cache_home() / "hub-budget" / "fetched.json")

    def _fetched(self) -> dict[str, dict[str, list[str]]]:
        """The ledger: repo → commit this package fetched under a budget and has not evicted → the revisions it
        fetched it as. A ledger of an older version (keyed by revision) keeps only finished fetches."""
        try:
            ledger = json.loads(self.ledger.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(ledger, dict):
            return {}
        if ledger.get("format") == LEDGER_FORMAT:
            return {repo: {c: list(r) for c, r in held.items()} for repo, held in ledger["fetched"].items()}
        old: dict[str, dict[str, list[str]]] = {}
        for repo, revisions in ledger.items():
            for revision, commit in revisions.items() if isinstance(revisions, dict) else ():
                if isinstance(commit, str):  # None: a download that never finished, not ours
                    old.setdefault(repo, {}).setdefault(commit, []).append(revision)
        return old

    def _record(self, fetched: dict[str, dict[str, list[str]]]) -> None:
        kept = {
            repo: {commit: sorted(set(revisions)) for commit, revisions in sorted(held.items())}
            for repo, held in sorted(fetched.items())
            if held
        }
        atomic.write_text(self.ledger, json.dumps({"format": LEDGER_FORMAT, "fetched": kept}, indent=1))

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
        before = set(commits(self.cache, repo))
        self.fetch(repo, revision, self.cache)  # interrupted (any exception, Ctrl-C): the ledger is as it was
        commit = cached_revisions(self.cache).get((repo, revision), (None, 0))[0]
        if commit is None or commit in before:
            return  # the user had this commit already (as `main`, by hash, …): theirs, never evicted
        fetched = self._fetched()
        fetched.setdefault(repo, {}).setdefault(commit, []).append(revision)
        self._record(fetched)

    def release(self, checkpoint: Checkpoint) -> None:
        """Evict the checkpoint's revision if this package fetched its commit and nothing of the user's points to it."""
        repo = repo_of(checkpoint)
        held = self._fetched().get(repo, {})
        self._evict({repo: [c for c, revisions in held.items() if checkpoint.revision in revisions]})

    def evict_all(self) -> None:
        """Evict every commit the ledger holds (left by a sweep that was stopped before releasing them)."""
        self._evict({repo: list(held) for repo, held in self._fetched().items()})

    def _evict(self, wanted: dict[str, list[str]]) -> None:
        from huggingface_hub import scan_cache_dir

        fetched, doomed = self._fetched(), []
        for repo, chosen in wanted.items():
            present = commits(self.cache, repo)
            for commit in chosen:
                ours = set(fetched.get(repo, {}).get(commit, ()))
                if commit in present and present[commit] <= ours:  # another ref: the user's too, so kept
                    doomed.append(commit)
                fetched.get(repo, {}).pop(commit, None)
        if doomed:
            scan_cache_dir(self.cache).delete_revisions(*doomed).execute()
        self._record(fetched)
