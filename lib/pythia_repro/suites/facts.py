"""A suite's facts in one registry: per checkpoint its revision, step, rows and tokens seen, the pass over the data
its batch comes from, its training precision and the notes that silently change results; and its tokenizer's
fingerprint, which every released checkpoint must carry.

The rows a step trains on are `[rows_per_step·step, rows_per_step·(step+1))` of the data in training order; a suite
whose data holds fewer rows than it trained on (the deduplicated Pile: about 1.5 passes, the first half seen twice in
the same order, EleutherAI/pythia#144) takes its later batches from a second pass, which starts where the data
ends (`epoch_boundary`, computed from the configured data).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .. import settings
from ..data import known_issues
from ..data.names import EVALUATION_NAMES, V0_NAMES
from ..parameters import BadParameter
from ..paths import hf_cache
from .base import Checkpoint, Suite

PYTHIA_README = "https://github.com/EleutherAI/pythia#models"
NOTES = {  # model → what a user must know before comparing it with the others, with the source
    "pythia-1b": f"trained in bf16, every other size in fp16 (fp16 diverged late in training; {PYTHIA_README})",
    "pythia-6.9b": "initialised differently from the other sizes (https://github.com/EleutherAI/pythia/issues/135)",
    "pythia-12b": "initialised differently from the other sizes (https://github.com/EleutherAI/pythia/issues/135)",
}
V0_NOTE = "named {old} in v0 and in the authors' earlier files"


def tokenizer_content(path: Path) -> tuple[dict[str, int], list[str]]:
    """What a tokenizer maps: token → id (its vocabulary and its added tokens) and its merges, as text."""
    spec = json.loads(Path(path).read_text())
    model = spec.get("model", {})
    vocab = dict(model.get("vocab", {})) | {t["content"]: t["id"] for t in spec.get("added_tokens", [])}
    return vocab, [" ".join(m) if isinstance(m, list) else m for m in model.get("merges", [])]


def tokenizer_fingerprint(path: Path) -> str:
    """The sha256 of what a tokenizer maps (`tokenizer_content`), not of its file's bytes: two serialisations of one
    tokenizer share it."""
    vocab, merges = tokenizer_content(path)
    return hashlib.sha256(json.dumps([sorted(vocab.items()), merges], ensure_ascii=False).encode()).hexdigest()


def tokenizer_identity(suite: Suite) -> dict[str, object]:
    """The suite's tokenizer as a run records it: its fingerprint and its end-of-document and padding ids."""
    if suite.tokenizer_file is None:
        return {}
    fingerprint = tokenizer_fingerprint(suite.tokenizer_file())
    return {"tokenizer_sha256": fingerprint, "eod_id": suite.eod_id, "pad_id": suite.pad_id}


def tokenizer_mismatch(suite: Suite, checkpoint: Checkpoint) -> str | None:
    """Why a released revision's own `tokenizer.json` is not the suite's, or None: the same merges, and every token
    both know at the same id (one may know tokens the other lacks), or the revision carries none, or it is offline
    and not in the hub cache."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    if suite.tokenizer_file is None:
        return None
    try:
        path = hf_hub_download(
            suite.spec(checkpoint.model).hub_id,
            "tokenizer.json",
            revision=checkpoint.revision,
            cache_dir=hf_cache(),
            local_files_only=settings.enabled("hub_offline"),
        )
    except (OSError, EntryNotFoundError):
        return None
    (theirs, their_merges), (ours, our_merges) = (
        tokenizer_content(Path(path)),
        tokenizer_content(suite.tokenizer_file()),
    )
    moved = sorted(t for t in theirs.keys() & ours.keys() if theirs[t] != ours[t])
    if not moved and their_merges == our_merges:
        return None
    what = f"{len(moved)} tokens at other ids (e.g. {moved[0]!r})" if moved else "other merges"
    return f"its tokenizer is not the {suite.name} suite's: {what}, so its token ids mean other text"


def data_rows(suite: Suite) -> int | None:
    """The rows one pass of the suite's configured training data holds (None: no data configured)."""
    if suite.data_prefix is None:
        return None
    return suite.training_rows().n_rows


def epoch_boundary(suite: Suite, rows: int | None) -> float | None:
    """The step at which training starts a second pass over `rows` rows of data (None: unknown, or never)."""
    if not rows or rows >= suite.rows_per_step * suite.final_step:
        return None
    return rows / suite.rows_per_step


def table(suite: Suite, models: list[str]) -> pd.DataFrame:
    """One row per (model, checkpoint): revision, step, rows and tokens seen by it, the pass over the data that the
    batch trained at that step comes from (1, or 2 on data that holds fewer rows than training used; empty when no
    data is configured), the training precision, the notes and the known issues."""
    rows = data_rows(suite)
    out = []
    for model in models:
        spec = suite.spec(model)
        base = model.removesuffix("-deduped")
        old = V0_NAMES.get(base)
        notes = [NOTES[model]] if model in NOTES else []
        notes += [V0_NOTE.format(old=old + model[len(base) :])] if old else []
        notes += [
            f"named {name} in the authors' evaluation files" for name, m in EVALUATION_NAMES.items() if m == model
        ]
        steps = (suite.final_step,) if spec.revision else suite.steps
        for step in steps:
            revision = spec.revision or suite.revision(step)
            start = suite.rows_per_step * step
            out.append(
                {
                    "model": model,
                    "revision": revision,
                    "step": step,
                    "rows_seen": start,
                    "tokens_seen": suite.tokens_seen(step),
                    "batch_pass": "" if not rows else start // rows + 1,
                    "precision": spec.train_dtype,
                    "notes": "; ".join(notes),
                    "known_issues": " ".join(i.id for i in known_issues.of(model, revision)),
                }
            )
    return pd.DataFrame(out)


def batch_rows(suite: Suite, step: int, start: int = 0, stop: int | None = None) -> tuple[list[int], np.ndarray]:
    """Rows [start, stop) of the batch trained at `step` (default: all of it): their indices in the data, and
    their tokens. On data that holds fewer rows than training used, a later batch's rows are the second pass's,
    the data read again from its start in the same order (EleutherAI/pythia#144)."""
    stop = suite.rows_per_step if stop is None else stop
    if not 0 <= start < stop <= suite.rows_per_step:
        raise BadParameter(f"rows {start}:{stop} are not within a batch of {suite.rows_per_step} rows")
    if not 0 <= step < suite.final_step:
        raise BadParameter(
            f"no batch was trained at step {step}: the {suite.name} suite trained steps 0 to {suite.final_step - 1} "
            f"(checkpoint step{suite.final_step} is the model after the last)"
        )
    data = suite.training_rows()
    first = suite.rows_per_step * step
    indices = [(first + i) % data.n_rows for i in range(start, stop)]
    return indices, np.stack([data.rows(i, i + 1)[0] for i in indices])


def locate(suite: Suite, index: int) -> list[tuple[int, int, int]]:
    """Where the row at `index` of the training data was trained: (pass, step, position in the batch), each time
    training read it (twice for rows of the repeated part of the deduplicated data)."""
    rows = data_rows(suite)
    if rows is not None and not 0 <= index < rows:
        raise BadParameter(f"index {index} is not a row of the {suite.name} suite's data, which holds {rows} rows")
    total = suite.rows_per_step * suite.final_step
    places, at, n = [], index, 1
    while at < total:
        places.append((n, *divmod(at, suite.rows_per_step)))
        if rows is None:
            break
        at, n = at + rows, n + 1
    return places
