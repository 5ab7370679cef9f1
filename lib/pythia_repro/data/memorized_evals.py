"""The authors' per-sequence memorization results: the hub dataset EleutherAI/pythia-memorized-evals, pinned.

Each split holds the sequences one checkpoint memorized (all 32 continuation tokens reproduced greedily from 32
tokens of context): `duped.<size>` and `deduped.<size>` for the fully trained models, and `<suite>.12b.<step>` for
the 12b checkpoints this revision holds. Its `index` column is the row's position in the pre-shuffled training
data (`document.bin` of EleutherAI/pile-{standard,deduped}-pythia-preshuffled), the order in which training read
the rows: the authors' `eval_memorization.py` (EleutherAI/pythia, `predictable-memorization/`) scores
`mmap_ds[i : i + batch]` for i from 0 to step × 1024 − 1 and writes each row's i, so row i was trained on at
step i // 1024. Only that column is read. The finding never downloads it (about 4 GB): `pythia-repro fetch
memorized-evals` does, after saying how much; until then the figures that need it say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import settings
from ..errors import Explained
from ..paths import hf_cache

REPO = "EleutherAI/pythia-memorized-evals"
REVISION = (
    "d6c511c15a3928a692e8333b6fe5248749ceb76f"  # a full commit ("Update README.md"); main later added `.new` splits
)
ROWS_PER_STEP = 1024
FINAL_STEP = 143000
_SPLIT = re.compile(r"^(?P<suite>duped|deduped)\.(?P<size>\d+(?:\.\d+)?[mb])(?:\.(?P<step>\d+))?$")


class MemorizedEvalsMissing(Explained, FileNotFoundError):
    """The dataset (or one of its splits) is not in the hub cache."""


@dataclass(frozen=True)
class Split:
    """One split: its name, the model and checkpoint it holds, the rows it was evaluated on, its row count."""

    name: str
    model: str
    step: int
    examples: int

    @property
    def deduplicated(self) -> bool:
        return self.model.endswith("-deduped")

    @property
    def rows_evaluated(self) -> int:
        """Rows [0, step × 1024) were scored: every row the checkpoint had been trained on."""
        return self.step * ROWS_PER_STEP


def parse_card(text: str) -> tuple[list[Split], int, list[str]]:
    """The splits a dataset card declares (`dataset_info.splits`, with `num_examples`), its download size in
    bytes, and the names of splits whose form this reader does not know (left unread, and said so)."""
    import yaml

    if not text.startswith("---"):
        raise MemorizedEvalsMissing(f"{REPO}@{REVISION}: README.md has no dataset card header")
    info = yaml.safe_load(text.split("---")[1])["dataset_info"]
    found, unknown = [], []
    for split in info["splits"]:
        match = _SPLIT.match(split["name"])
        if match is None:
            unknown.append(split["name"])
            continue
        model = f"pythia-{match['size']}" + ("-deduped" if match["suite"] == "deduped" else "")
        step = int(match["step"] or FINAL_STEP)
        found.append(Split(split["name"], model, step, int(split["num_examples"])))
    return found, int(info.get("download_size", 0)), unknown


def _download(patterns: list[str], local_only: bool) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(
                REPO,
                repo_type="dataset",
                revision=REVISION,
                allow_patterns=patterns,
                cache_dir=hf_cache(),
                local_files_only=local_only or settings.enabled("hub_offline"),
            )
        )
    except LocalEntryNotFoundError as err:
        if local_only:
            raise MemorizedEvalsMissing(
                f"{REPO}@{REVISION[:7]} is not in the hub cache ({hf_cache()}); run `pythia-repro fetch "
                "memorized-evals` once online (it says how much it downloads)"
            ) from err
        raise MemorizedEvalsMissing(
            f"{REPO}@{REVISION[:7]}: the hub cannot be reached ({type(err).__name__}) and the files are not in the "
            f"hub cache ({hf_cache()}); run `pythia-repro fetch memorized-evals` again with a network"
            + (f" and without {settings.variable('hub_offline')}=1" if settings.enabled("hub_offline") else "")
        ) from err


def card(local_only: bool = True) -> tuple[list[Split], int, list[str]]:
    """`parse_card` of the pinned revision's README (from the cache unless `local_only` is False)."""
    return parse_card((_download(["README.md"], local_only) / "README.md").read_text())


def read(split: Split, local_only: bool = True) -> np.ndarray:
    """The sorted `index` column of one split, checked against the row count its card declares."""
    import pyarrow.parquet as pq

    pattern = f"data/{split.name}-*.parquet"
    files = sorted((_download([pattern], local_only)).glob(pattern))
    if not files:
        raise MemorizedEvalsMissing(f"{REPO}@{REVISION[:7]}: no file {pattern} in the cached snapshot")
    index = np.sort(np.concatenate([pq.read_table(f, columns=["index"]).column(0).to_numpy() for f in files]))
    if len(index) != split.examples:
        raise MemorizedEvalsMissing(
            f"{REPO}@{REVISION[:7]}/{pattern}: {len(index)} rows where the card declares {split.examples}; the "
            "download is incomplete or damaged: delete it from the hub cache and fetch it again"
        )
    return index


def load() -> dict[Split, np.ndarray]:
    """Every split this reader knows, from the hub cache; `MemorizedEvalsMissing` when it is not there."""
    splits, _, _ = card()
    return {split: read(split) for split in splits}


def fetch() -> Path:
    """Download the pinned revision's files into the hub cache, after printing how much that is."""
    splits, size, unknown = card(local_only=False)
    print(f"{REPO}@{REVISION[:7]}: {len(splits)} splits, {size / 1e9:.1f} GB to download (once)", flush=True)
    if unknown:
        print(f"  not read by this package: {', '.join(unknown)}", flush=True)
    return _download(["README.md", "data/*.parquet"], local_only=False)
