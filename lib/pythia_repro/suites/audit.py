"""An integrity audit of a released suite: every revision's weight files by content hash, grouped, and flagged.

A revision's weight files (`*.safetensors`, `pytorch_model*.bin`) are identified by their LFS sha256, read from the
hub's metadata (`HfApi.list_repo_tree`, one listing per revision, nothing downloaded, cached on disk as it comes so
a killed audit resumes) or, offline, from the hub cache, whose blobs of LFS files are named by that hash. Each
revision is then flagged:
  * `duplicate`: its weight files are all another revision's (`main` and the final step excepted: one checkpoint);
  * `shared_shard`: some, not all, of its weight files are another revision's;
  * `missing`: the suite lists it and the hub has no such branch (online only);
  * `no_weights`: the branch holds no weight file;
  * `unexpected_files`: its own weights, but under other file names than most revisions (an extra or a missing
    shard, pickled weights where the others hold safetensors);
  * `not_checked`: offline, and not in the hub cache;
  * `ok`: unique weights.
The known issues (`data.known_issues`) of each revision are listed beside its flag. For revisions in the hub
cache, a cheap tensor check reads the input embedding alone (safetensors, memory-mapped): its fingerprint, the
median norm of its rows and their median cosine to step 0's, so that a discontinuity like EleutherAI/pythia#206's
(a mid-training step whose embedding is the final model's) shows on any suite, with or without a reported issue;
`embedding_of` names the other revisions whose embedding is bit-identical.

The audit's table (`table_path`) and the known issues decide which checkpoints are doubted (`doubt`): `screen` leaves
them out of a finding's scoring, or, with the `checkpoints` setting `all`, keeps them marked; once a revision is
fetched, `fetched_twin` refuses files that are another step's.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from .. import settings
from ..data import known_issues
from ..integrity import atomic
from ..paths import cache_home, hf_cache, results_dir
from .base import Checkpoint, Suite

WEIGHT_SUFFIXES = (".safetensors", ".bin")
EMBEDDING = "gpt_neox.embed_in.weight"
RETRIES = 4
TABLE = "checkpoints/audit.csv"  # under a suite's results folder
DOUBTED = ("duplicate", "shared_shard", "no_weights")  # the audit's flags that make a checkpoint doubted
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


def alike(model: str, final: str) -> list[set[str]]:
    """Revisions that are one checkpoint under several names: the final step and `main`, and those a `note` of the
    known issues says hold identical weights (steps 0, 1 and 2, EleutherAI/pythia#83)."""
    return [
        {final, "main"},
        *(set(i.revisions) for i in known_issues.issues() if i.kind == "note" and i.model in ("*", model)),
    ]


def flags(
    listings: dict[str, Listing | None], final: str, absent: str = "not_checked", noted: list[set[str]] = ()
) -> pd.DataFrame:
    """Each revision's flag and the reason, from the listings of one model (`final`: its last step's revision,
    one checkpoint with `main`; `noted`: other groups of revisions known to be one checkpoint; `absent`: the flag
    of a revision with no listing)."""
    groups = [{final, "main"}, *noted]
    owners = defaultdict(set)  # sha256 → revisions serving it
    for revision, listing in listings.items():
        for sha in (listing or {}).values():
            owners[sha].add(revision)
    layouts = Counter(frozenset(listing) for listing in listings.values() if listing)  # weight file names → count
    usual = max(layouts, key=lambda names: (layouts[names], sorted(names))) if layouts else frozenset()
    rows = []
    for revision, listing in listings.items():
        if not listing:
            rows.append((revision, absent if listing is None else "no_weights", "", 0, ""))
            continue
        same = set().union({revision}, *(g for g in groups if revision in g))
        others = [owners[sha] - same for sha in listing.values()]
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
        elif layouts[frozenset(listing)] < layouts[usual]:
            extra, lacking = sorted(set(listing) - usual), sorted(usual - set(listing))
            kind = "unexpected_files"
            reason = (
                "; ".join(
                    part
                    for part in (
                        f"holds {', '.join(extra)}" if extra else "",
                        f"lacks {', '.join(lacking)}" if lacking else "",
                    )
                    if part
                )
                + f", unlike {layouts[usual]} other revisions"
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
        final = suite.revision(suite.final_step)
        table = flags(listings, final, "missing" if online else "not_checked", alike(model, final)[1:])
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


def table_path(suite: str) -> Path:
    """Where `pythia-repro checkpoints audit` writes a suite's table, which findings then read."""
    return results_dir() / suite / TABLE


def _audited(suite: str) -> pd.DataFrame | None:
    path = table_path(suite)
    return pd.read_csv(path, keep_default_na=False).set_index(["model", "revision"]) if path.is_file() else None


def released(suite: Suite, model: str) -> bool:
    """Whether a model's checkpoints are the hub's (doubts apply) rather than a local folder's or a local build's."""
    return suite.local_root is None and bool(suite.spec(model).hub_id)


def doubt(suite: Suite, checkpoint: Checkpoint, table: pd.DataFrame | None = None) -> str | None:
    """Why a released checkpoint is not what it claims (one line), or None: a known issue of a refused kind, else
    the audit's flag (`table`, default: the suite's audit as written; the final step and `main` are one checkpoint,
    so a step equal to them is the doubted one)."""
    if not released(suite, checkpoint.model):
        return None
    if why := known_issues.doubt(checkpoint.model, checkpoint.revision):
        return why
    table = _audited(suite.name) if table is None else table
    key = (checkpoint.model, checkpoint.revision)
    if table is None or key not in table.index or checkpoint.step == suite.final_step:
        return None
    row = table.loc[key]
    if row.flag in DOUBTED:
        return f"the audit flags it {row.flag}: {row.reason or 'no weight files'} ({table_path(suite.name)})"
    return None


def screen(suite: Suite, checkpoints: list[Checkpoint]) -> tuple[dict[Checkpoint, str], dict[Checkpoint, str]]:
    """The doubted checkpoints among `checkpoints`, with why: (left out, scored anyway and marked). With the
    `checkpoints` setting `verified` (default) every doubted one is left out; with `all` every one is marked."""
    table = _audited(suite.name)  # read once for every checkpoint
    doubted = {c: why for c in dict.fromkeys(checkpoints) if (why := doubt(suite, c, table))}
    return ({}, doubted) if settings.value("checkpoints") == "all" else (doubted, {})


def fetched_twin(suite: Suite, checkpoint: Checkpoint) -> str | None:
    """After a released revision is fetched: why its weight files are not its own (one or all of them are another
    cached step's, that step not one checkpoint with it (`alike`), or they differ from what the audit listed for it),
    or None. The final step is the original of whatever equals it."""
    spec = suite.spec(checkpoint.model)
    if not released(suite, checkpoint.model):
        return None
    own = cached_listing(cached_snapshot(spec.hub_id, checkpoint.revision))
    if not own:
        return None
    hashes = set(own.values())
    table = _audited(suite.name)
    key = (checkpoint.model, checkpoint.revision)
    if table is not None and key in table.index and table.loc[key].sha256_prefixes:
        listed = set(table.loc[key].sha256_prefixes.split())
        if listed != {h[:12] for h in hashes}:
            return f"its weight files are not those the audit listed ({table_path(suite.name)}); re-run the audit"
    if checkpoint.step == suite.final_step:  # `main`: a step that equals it is the doubted one
        return None
    same = set().union(
        *(g for g in alike(checkpoint.model, suite.revision(suite.final_step)) if checkpoint.revision in g)
    )
    for step in (suite.final_step, *suite.steps[:-1]):  # the original of what equals the final step is the final step
        other = suite.revision(step)
        if other == checkpoint.revision or other in same:
            continue
        listing = cached_listing(cached_snapshot(spec.hub_id, other)) or {}
        shared = sorted(name for name, sha in own.items() if sha in set(listing.values()))
        if shared:
            what = "weight files are" if len(shared) == len(own) else f"{', '.join(shared)} (of {len(own)} files) is"
            return f"its {what} {other}'s (the same LFS sha256)"
    return None


def checkpoint_folder(suite: Suite, checkpoint: Checkpoint) -> Path | None:
    """Where a checkpoint's files lie on this machine: its local folder, or its hub cache snapshot (None: nowhere)."""
    if suite.loader is not None:  # not a transformers checkpoint (the image suites)
        return None
    if suite.local_root is not None:
        folder = suite.local_root / checkpoint.model / checkpoint.revision
        return folder if folder.is_dir() else None
    spec = suite.spec(checkpoint.model)
    return cached_snapshot(spec.hub_id, checkpoint.revision) if spec.hub_id else None


def embedding_record(suite: Suite, checkpoints: list[Checkpoint]) -> dict[Checkpoint, dict[str, object]]:
    """The cheap tensor check of each checkpoint whose files are on this machine, as a manifest records it: its
    input embedding's fingerprint, median row norm and median cosine to the model's step 0 (when that is here too),
    so a step carrying another's embedding (#206) shows on any suite, audited or not."""
    from safetensors import SafetensorError

    out = {}
    for model in dict.fromkeys(c.model for c in checkpoints):
        ours = [c for c in checkpoints if c.model == model]
        first = suite.checkpoint(model, suite.steps[0]) if suite.spec(model).revision is None else None
        embeddings = {}
        for ckpt in dict.fromkeys([*([first] if first else []), *ours]):
            folder = checkpoint_folder(suite, ckpt)
            try:
                embeddings[ckpt.revision] = input_embedding(folder) if folder else None
            except SafetensorError:
                embeddings[ckpt.revision] = None
        table = embedding_checks(embeddings, first.revision if first else "").set_index("revision")
        for ckpt in ours:
            row = table.loc[ckpt.revision]
            if row.embedding_sha256:
                out[ckpt] = {
                    "embedding_sha256": row.embedding_sha256,
                    "embedding_median_norm": round(float(row.embedding_median_norm), 6),
                    "embedding_cosine_to_step0": None
                    if np.isnan(row.embedding_cosine_to_step0)
                    else round(float(row.embedding_cosine_to_step0), 6),
                }
    return out
