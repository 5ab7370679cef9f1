"""An integrity audit of a released suite: every revision's weight files by content hash, grouped, and flagged.

A revision's weight files (`*.safetensors`, `pytorch_model*.bin`) are identified by their LFS sha256, read from the
hub's metadata (`HfApi.list_repo_tree`, one listing per revision, nothing downloaded, cached on disk as it comes so
a killed audit resumes) or, offline, from the hub cache, whose blobs of LFS files are named by that hash. Each
revision is then flagged:
  * `duplicate`: its weight files are all another revision's (`main` and the final step excepted: one checkpoint);
  * `shared_shard`: some, not all, of its weight files are another revision's;
  * `missing`: the suite lists it and the hub has no such branch (online only);
  * `no_weights`: the branch holds no weight file;
  * `not_checked`: offline, and not in the hub cache;
  * `ok`: unique weights.
The known issues (`data.known_issues`) of each revision are listed beside its flag. For revisions in the hub
cache, a cheap tensor check reads the input embedding alone (safetensors, memory-mapped): its fingerprint, the
median norm of its rows and their median cosine to step 0's, so that a discontinuity like EleutherAI/pythia#206's
(a mid-training step whose embedding is the final model's) shows on any suite, with or without a reported issue;
`embedding_of` names the other revisions whose embedding is bit-identical.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import known_issues
from ..integrity import atomic
from ..paths import cache_home, hf_cache
from .base import Suite

WEIGHT_SUFFIXES = (".safetensors", ".bin")
EMBEDDING = "gpt_neox.embed_in.weight"
RETRIES = 4
Listing = dict[str, str]  # weight file → sha256


def is_weight_file(name: str) -> bool:
    return name.endswith(WEIGHT_SUFFIXES) and not name.endswith("training_args.bin")


def cached_snapshot(repo_id: str, revision: str) -> Path | None:
    """A revision's folder in the hub cache (None: not there)."""
    repo = hf_cache() / f"models--{repo_id.replace('/', '--')}"
    ref = repo / "refs" / revision
    snapshot = repo / "snapshots" / (ref.read_text().strip() if ref.is_file() else revision)
    return snapshot if snapshot.is_dir() else None


def cached_listing(snapshot: Path | None) -> Listing | None:
    """A cached revision's weight files and hashes, read from its snapshot (None: the revision is not there)."""
    if snapshot is None:
        return None
    return {
        str(path.relative_to(snapshot)): Path(path.readlink()).name
        for path in sorted(snapshot.rglob("*"))
        if path.is_symlink() and is_weight_file(path.name)
    }


def hub_listing(api, repo_id: str, revision: str) -> Listing:
    """A revision's weight files and LFS hashes from the hub's metadata, retried with backoff."""
    for attempt in range(RETRIES):
        try:
            entries = api.list_repo_tree(repo_id, revision=revision, recursive=True)
            return {e.path: e.lfs.sha256 for e in entries if getattr(e, "lfs", None) and is_weight_file(e.path)}
        except OSError:  # requests' errors and huggingface_hub's HTTP errors are OSErrors
            if attempt == RETRIES - 1:
                raise
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def _online(api, repo_id: str, revisions: list[str], progress: bool) -> dict[str, Listing | None]:
    """Every revision's listing, each cached on disk as it is fetched (None: no such branch on the hub)."""
    from tqdm.auto import tqdm

    branches = {ref.name for ref in api.list_repo_refs(repo_id).branches}
    folder = cache_home() / "audit" / repo_id.replace("/", "--")
    out = {}
    for revision in tqdm(revisions, desc=f"{repo_id} listings", disable=not progress):
        if revision not in branches:
            out[revision] = None
            continue
        stored = folder / f"{revision}.json"
        if not stored.is_file():
            atomic.write_text(stored, json.dumps(hub_listing(api, repo_id, revision), sort_keys=True))
        out[revision] = json.loads(stored.read_text())
    return out


def input_embedding(snapshot: Path) -> np.ndarray | None:
    """The input embedding of a cached revision, read alone from its safetensors file (None: no safetensors file
    holds it; pickled `.bin` weights are never opened)."""
    from safetensors import safe_open

    index = snapshot / "model.safetensors.index.json"
    name = json.loads(index.read_text())["weight_map"].get(EMBEDDING) if index.is_file() else "model.safetensors"
    if name is None or not (snapshot / name).is_file():
        return None
    with safe_open(snapshot / name, framework="pt") as f:  # torch: bf16 weights too (numpy has no bf16)
        return f.get_tensor(EMBEDDING).float().numpy() if EMBEDDING in set(f.keys()) else None


def embedding_checks(embeddings: dict[str, np.ndarray | None], first: str) -> pd.DataFrame:
    """Per revision: a fingerprint of the input embedding's bytes, the median L2 norm of its rows, the median
    cosine of each row to the same row at `first` (step 0), and the other revisions whose embedding is
    bit-identical."""
    prints = {r: hashlib.sha256(e.tobytes()).hexdigest()[:16] for r, e in embeddings.items() if e is not None}
    start = embeddings.get(first)
    rows = []
    for revision, e in embeddings.items():
        if e is None:
            rows.append((revision, "", np.nan, np.nan, ""))
            continue
        norms = np.linalg.norm(e, axis=1)
        cosine = np.nan
        if start is not None and start.shape == e.shape:
            cosine = float(np.median((e * start).sum(1) / np.maximum(norms * np.linalg.norm(start, axis=1), 1e-12)))
        twins = sorted((r for r, p in prints.items() if p == prints[revision] and r != revision), key=_step_order)
        rows.append((revision, prints[revision], float(np.median(norms)), cosine, " ".join(twins)))
    return pd.DataFrame(
        rows,
        columns=["revision", "embedding_sha256", "embedding_median_norm", "embedding_cosine_to_step0", "embedding_of"],
    )


def flags(listings: dict[str, Listing | None], final: str, absent: str = "not_checked") -> pd.DataFrame:
    """Each revision's flag and the reason, from the listings of one model (`final`: its last step's revision,
    one checkpoint with `main`; `absent`: the flag of a revision with no listing)."""
    same = {final, "main"}
    owners = defaultdict(set)  # sha256 → revisions serving it
    for revision, listing in listings.items():
        for sha in (listing or {}).values():
            owners[sha].add(revision)
    rows = []
    for revision, listing in listings.items():
        if not listing:
            rows.append((revision, absent if listing is None else "no_weights", "", 0, ""))
            continue
        others = [owners[sha] - {revision} - (same if revision in same else set()) for sha in listing.values()]
        shared = sorted(set().union(*others), key=_step_order)
        if others and all(others):
            common = sorted(set.intersection(*others), key=_step_order)
            kind = "duplicate" if common else "shared_shard"
            reason = f"its weights are {', '.join(common[:4])}'s" if common else f"shares files with {shared[:4]}"
        elif any(others):
            kind, reason = (
                "shared_shard",
                f"shares {sum(map(bool, others))} of {len(listing)} weight files with {', '.join(shared[:4])}",
            )
        else:
            kind, reason = "ok", ""
        rows.append((revision, kind, reason, len(listing), " ".join(sorted(s[:12] for s in listing.values()))))
    return pd.DataFrame(rows, columns=["revision", "flag", "reason", "weight_files", "sha256_prefixes"])


def _step_order(revision: str) -> tuple[int, str]:
    digits = "".join(c for c in revision if c.isdigit())
    return (int(digits) if digits else -1, revision)


def audit(suite: Suite, models: list[str], online: bool = False, api=None, progress: bool = True) -> pd.DataFrame:
    """The audit table of `models` of a released suite: one row per (model, revision) with its flag and reason, and
    the known issues reported for it. Offline (default) from the hub cache; `online` from the hub's metadata."""
    from safetensors import SafetensorError

    if online and api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    frames = []
    for model in models:
        spec = suite.spec(model)
        revisions = [suite.revision(step) for step in suite.steps] + ["main"]
        snapshots = {r: cached_snapshot(spec.hub_id, r) for r in revisions}
        if online:
            listings = _online(api, spec.hub_id, revisions, progress)
        else:
            listings = {r: cached_listing(snapshot) for r, snapshot in snapshots.items()}
        table = flags(listings, suite.revision(suite.final_step), "missing" if online else "not_checked")
        embeddings, unreadable = {}, []
        for revision, snapshot in snapshots.items():
            try:
                embeddings[revision] = input_embedding(snapshot) if snapshot else None
            except SafetensorError:  # a damaged download: said so, the audit goes on
                embeddings[revision] = None
                unreadable.append(revision)
        table = table.merge(embedding_checks(embeddings, suite.revision(suite.steps[0])), on="revision")
        table.loc[table.revision.isin(unreadable), "embedding_sha256"] = "unreadable"
        table.insert(0, "model", model)
        table["known_issues"] = [" ".join(i.id for i in known_issues.of(model, r)) for r in table.revision]
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per model, how many revisions carry each flag."""
    return table.pivot_table(
        index="model", columns="flag", values="revision", aggfunc="count", fill_value=0, sort=False
    )
