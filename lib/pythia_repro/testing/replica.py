"""A miniature of the Pythia release, laid out exactly as it is published, for testing the `pythia` profiles offline.

`write_replica(root)` writes a Hugging Face cache (`root/hub`) as `hf download` leaves it:
  * model repos `EleutherAI/pythia-<size>` and `EleutherAI/pythia-<size>-deduped`, one branch per checkpoint
    (`refs/step<N>`, a snapshot of symlinks into `blobs/`), holding `config.json` and `model.safetensors` of a
    tiny random GPT-NeoX of the real one's shape family (rotary on a quarter of each head, parallel residual,
    untied embeddings, the real padded vocabulary), saved in fp16 as released; and `EleutherAI/gpt-neox-20b` at
    `main`;
  * dataset repos `EleutherAI/pile-standard-pythia-preshuffled` and `EleutherAI/pile-deduped-pythia-preshuffled`
    at `main`: `document.idx` and the tokens split as released, `document-00000-of-00020.bin` …
    `document-00020-of-00020.bin` (the "of" number is the last index), cut at a fixed odd byte size so that the
    cuts fall inside rows and inside tokens;
  * the image datasets of the authors' vision setting (`suites.vision`), tiny images, as `datasets` writes them;
and, beside it, held-out rows (`root/heldout/document`), which the release does not include.
The training rows are real text with numbers in it, tokenized with the suite's tokenizer, so every finding has
something to count and score.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.tokens import write_mmap
from ..suites.loading import quiet_weight_loading

DATASETS = {
    "standard": "EleutherAI/pile-standard-pythia-preshuffled",
    "deduped": "EleutherAI/pile-deduped-pythia-preshuffled",
}
SHARDS = 21  # as released: document-00000-of-00020.bin … document-00020-of-00020.bin
ROW_LEN = 2049
MODELS = ("pythia-70m", "pythia-160m")
STEPS = (1000, 143000)
_WORDS = ("the", "of", "a", "in", "is", "and", "was", "to", "for", "on", "at", "by", "it", "as", "from", "with")


@dataclass(frozen=True)
class Replica:
    """Where a written replica lies: the hub cache, and the held-out rows' prefix."""

    root: Path
    hub: Path
    heldout: Path

    def environment(self) -> dict[str, str]:
        """The variables that point huggingface_hub and this package at the replica, offline."""
        return {
            "HF_HOME": str(self.root),
            "HF_HUB_CACHE": str(self.hub),
            "HF_HUB_OFFLINE": "1",
            "PYTHIA_REPRO_HELDOUT": str(self.heldout),
        }


def hub_entry(hub: Path, repo_id: str, revision: str, files: dict[str, bytes], repo_type: str = "model") -> Path:
    """Lay out files as the hub cache does: content-addressed blobs, a snapshot of symlinks, a ref to the commit.
    A revision may be a branch with slashes (`refs/pr/1`, `refs/convert/parquet`) and a file may lie in folders; a
    revision that is a full commit is the snapshot's own name, with no ref (as a download by commit leaves it)."""
    repo = hub / f"{repo_type}s--{repo_id.replace('/', '--')}"
    if re.fullmatch(r"[0-9a-f]{40}", revision):
        commit = revision
    else:
        commit = hashlib.sha1(f"{repo_id}@{revision}".encode()).hexdigest()
        ref = repo / "refs" / revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, blob in files.items():
        digest = hashlib.sha256(blob).hexdigest()
        (repo / "blobs" / digest).write_bytes(blob)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(Path(*[".."] * (len(Path(name).parts) + 1), "blobs", digest))
    return snapshot


def shard(prefix: Path, shards: int = SHARDS, last_index: bool = True) -> list[Path]:
    """Split `<prefix>.bin` as the Pile is released (files of one odd size, the last shorter, so cuts fall inside
    rows and tokens), named `-NNNNN-of-MMMMM` with MMMMM the last index (or the count); the .bin is removed."""
    bin_path = prefix.with_name(prefix.name + ".bin")
    blob = bin_path.read_bytes()
    size = -(-len(blob) // shards) | 1
    of = shards - 1 if last_index else shards
    paths = [prefix.with_name(f"{prefix.name}-{i:05d}-of-{of:05d}.bin") for i in range(shards)]
    for i, path in enumerate(paths):
        path.write_bytes(blob[i * size : (i + 1) * size])
    bin_path.unlink()
    return paths


def text_rows(tokenizer_file: Path, n_rows: int, seed: int, row_len: int = ROW_LEN) -> np.ndarray:
    """`n_rows` rows of `row_len` tokens of text with numbers in it ("… 12 of the 7 …"), documents ending in the
    end-of-document token 0, tokenized with the suite's tokenizer, and a few repeated rows (memorizable)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    rng = np.random.default_rng(seed)
    stream: list[int] = []
    while len(stream) < n_rows * row_len:
        docs = n_rows * row_len // 200 + 8
        words = np.asarray(_WORDS, dtype=object)[rng.integers(len(_WORDS), size=(docs, 200))]
        numbers = rng.random((docs, 200)) < 0.2
        words[numbers] = np.minimum(rng.zipf(1.3, numbers.sum()), 99_999).astype(str)
        for encoding in tokenizer.encode_batch([" ".join(doc) for doc in words]):
            stream += [*encoding.ids, 0]
    rows = np.asarray(stream[: n_rows * row_len], dtype=np.uint16).reshape(n_rows, row_len)
    rows[1::7] = rows[0]  # duplicates across the data: rows a model can come to reproduce
    return rows


def random_neox(
    seed: int = 0,
    vocab: int = 64,
    hidden: int = 16,
    layers: int = 1,
    heads: int = 2,
    intermediate: int | None = None,
    positions: int = 2048,
    **config,
):
    """A seeded, randomly initialised GPT-NeoX of Pythia's architecture (rotary on a quarter of each head, parallel
    residual, untied embeddings), in eval mode; `config` sets any other GPTNeoXConfig field."""
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    torch.manual_seed(seed)
    config = GPTNeoXConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate or 4 * hidden,
        max_position_embeddings=positions,
        rotary_pct=0.25,
        use_parallel_residual=True,
        tie_word_embeddings=False,
        **config,
    )
    return GPTNeoXForCausalLM(config).eval()


def saved_files(model, **options) -> dict[str, bytes]:
    """A model's files as `save_pretrained` writes them (config.json, model.safetensors or its shards and index),
    for `hub_entry`; `options` go to `save_pretrained` (e.g. `max_shard_size`)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="replica-") as tmp, quiet_weight_loading():
        model.save_pretrained(tmp, safe_serialization=True, **options)
        return {f.name: f.read_bytes() for f in Path(tmp).iterdir()}


def tiny_weights(seed: int, vocab: int, hidden: int, **options) -> dict[str, bytes]:
    """`config.json` and `model.safetensors` (or shards, with `max_shard_size`) of a tiny random GPT-NeoX shaped like
    the real models, in fp16."""
    model = random_neox(seed, vocab, hidden, layers=2, bos_token_id=0, eos_token_id=0, torch_dtype="float16")
    return saved_files(model.half(), **options)


FAULTY = "pythia-14m"  # the replica's model whose branches carry the release's reported faults
FAULTS = {  # revision → what is wrong with it (`write_faults`); step0, step1000 and the final step are sound
    "step2000": "duplicate: serves main's weights, every file (as pythia-2.8b's, EleutherAI/pythia#205)",
    "step3000": "shared_shard: serves the final model's first shard, which holds embed_in (as pythia-12b's, #206)",
    "step4000": "missing: no such branch (as #94, #107)",
    "step5000": "tokenizer: its tokenizer.json maps two tokens to each other's ids",
}


def write_faults(hub: Path, tokenizer_file: Path, seed: int = 0) -> None:
    """`FAULTY`'s branches as the faulty release serves them (`FAULTS`), in shards of two files, each revision with
    the suite's tokenizer.json but step5000's."""
    from ..suites import get_suite

    spec = get_suite("pythia").spec(FAULTY)
    tokenizer = Path(tokenizer_file).read_bytes()
    shards = {"max_shard_size": "1MB"}  # embed_in alone fills the first shard
    final = tiny_weights(seed + 14, spec.vocab, 16, **shards)
    first = next(name for name in final if name.startswith("model-00001-"))
    swapped = json.loads(tokenizer)
    vocab = swapped["model"]["vocab"]
    vocab["the"], vocab["of"] = vocab["of"], vocab["the"]
    branches = {
        "step0": tiny_weights(seed + 140, spec.vocab, 16, **shards),
        "step1000": tiny_weights(seed + 141, spec.vocab, 16, **shards),
        "step2000": final,
        "step3000": tiny_weights(seed + 143, spec.vocab, 16, **shards) | {first: final[first]},
        "step5000": tiny_weights(seed + 145, spec.vocab, 16, **shards),
        "step143000": final,
        "main": final,
    }
    for revision, files in branches.items():
        own = json.dumps(swapped).encode() if revision == "step5000" else tokenizer
        hub_entry(hub, spec.hub_id, revision, files | {"tokenizer.json": own})


def _parquet(frame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def write_bias_evals(hub: Path, seed: int = 0, n: int = 24) -> None:
    """CrowS-Pairs, WinoBias and LAMBADA as their Parquet exports lie in the hub cache (`bias_evals.SOURCES`),
    `n` items per set or subset, English sentences of the sets' own shapes, columns as exported."""
    import pandas as pd

    from ..evals.bias_evals import SOURCES

    rng = np.random.default_rng(seed)
    jobs = ("nurse", "developer", "secretary", "mechanic", "baker", "lawyer", "cleaner", "driver")
    categories = ("gender", "race-color", "religion", "age", "nationality", "socioeconomic")
    crows = pd.DataFrame(
        {
            "sent_more": [f"The {jobs[i % 8]} was {('careless', 'kind')[i % 2]} as always." for i in range(n)],
            "sent_less": [f"The {jobs[(i + 3) % 8]} was {('careless', 'kind')[i % 2]} as always." for i in range(n)],
            "stereo_antistereo": ["stereo" if rng.random() < 0.8 else "antistereo" for _ in range(n)],
            "bias_type": [categories[i % len(categories)] for i in range(n)],
        }
    )
    files = {SOURCES["crows_pairs"].files["english"]: _parquet(crows)}
    for subset, file in SOURCES["winobias"].files.items():
        pronoun = {"pro": ("he", "she"), "anti": ("she", "he")}[subset.split("_")[1]]
        rows = []
        for i in range(n):
            first, second = jobs[i % 8], jobs[(i + 5) % 8]
            tokens = ["The", first, "called", "the", second, "because", pronoun[i % 2], "was", "late", "."]
            rows.append(
                {
                    "document_id": f"{subset}-{i}",
                    "part_number": "0",
                    "word_number": list(range(len(tokens))),
                    "tokens": tokens,
                    "coreference_clusters": ["0", "1", "6", "6"],
                }
            )
        files[file] = _parquet(pd.DataFrame(rows))
    lambada = [
        f"She put the {jobs[i % 8]} in the box and then she closed the {('box', 'door')[i % 2]}" for i in range(n)
    ]
    files[SOURCES["lambada"].files["default"]] = _parquet(pd.DataFrame({"text": lambada}))
    for source in SOURCES.values():
        mine = {f: files[f] for f in source.files.values()}
        hub_entry(hub, source.repo, source.revision, mine, "dataset")


MEMORIZED_SIZES = ("70m", "160m", "410m", "1b", "1.4b", "2.8b", "6.9b", "12b")
MEMORIZED_STEPS = {"duped": (23000, 43000, 63000, 83000, 103000, 123000), "deduped": (23000, 43000, 63000, 83000)}


def memorized_evals_files(seed: int = 0, pool: int = 6000) -> dict[str, bytes]:
    """EleutherAI/pythia-memorized-evals as its revision lays it out: a dataset card declaring every split, and one
    Parquet file per split (`index`, 64 `tokens`, the pandas index). A pool of `pool` rows with a latent
    memorability: larger models and later checkpoints memorize more of it, the smaller within the larger's set
    mostly, and a checkpoint only rows it was trained on (index < step × 1024)."""
    import pandas as pd
    import yaml

    from ..data.memorized_evals import FINAL_STEP, ROWS_PER_STEP

    rng = np.random.default_rng(seed)
    files, splits = {}, []
    for suite, steps in MEMORIZED_STEPS.items():
        index = np.sort(rng.choice(FINAL_STEP * ROWS_PER_STEP, size=pool, replace=False))
        latent = rng.random(pool)
        for rank, size in enumerate(MEMORIZED_SIZES):
            threshold = 0.9 - 0.08 * rank
            for step in (*(steps if size == "12b" else ()), FINAL_STEP):
                late = 0.1 * (1 - step / FINAL_STEP)
                keep = (latent + 0.03 * rng.standard_normal(pool) > threshold + late) & (index < step * ROWS_PER_STEP)
                name = f"{suite}.{size}" + ("" if step == FINAL_STEP else f".{step}")
                rows = pd.DataFrame({"index": index[keep], "tokens": [[0] * 64] * int(keep.sum())})
                rows["__index_level_0__"] = np.arange(len(rows))
                files[f"data/{name}-00000-of-00001.parquet"] = _parquet(rows)
                splits.append({"name": name, "num_bytes": 532 * len(rows), "num_examples": len(rows)})
    info = {
        "dataset_info": {
            "features": [
                {"name": "index", "dtype": "int64"},
                {"name": "tokens", "sequence": "int64"},
                {"name": "__index_level_0__", "dtype": "int64"},
            ],
            "splits": splits,
            "download_size": sum(len(b) for b in files.values()),
            "dataset_size": sum(s["num_bytes"] for s in splits),
        },
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": s["name"], "path": f"data/{s['name']}-*"} for s in splits],
            }
        ],
    }
    card = f'---\n{yaml.safe_dump(info, sort_keys=False)}---\n# Dataset Card for "pythia-memorized-evals"\n'
    return {"README.md": card.encode(), **files}


def write_memorized_evals(hub: Path, seed: int = 0) -> None:
    """The authors' memorized sets (`memorized_evals_files`) in the hub cache, at the revision the package pins."""
    from ..data.memorized_evals import REPO, REVISION

    hub_entry(hub, REPO, REVISION, memorized_evals_files(seed), "dataset")


IMAGE_COLUMNS = {"cifar10": "img", "cifarnet": "img"}  # the image column of each dataset (else "image")
GREY = ("mnist", "fashion-mnist")  # stored as greyscale images (the others as RGB)


def write_image_datasets(hub: Path, seed: int = 0, train: int = 200, test: int = 100, size: int = 8) -> None:
    """The image datasets of `suites.vision` as their Parquet files lie in the hub cache: `train` and `test` tiny
    images (size × size PNGs, a class-coloured blob on noise) per split, columns and features as on the hub."""
    import datasets

    rng = np.random.default_rng(seed)
    quiet = datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()  # a bar per tiny file says nothing
    try:
        _write_images(hub, rng, train, test, size)
    finally:
        if not quiet:
            datasets.utils.enable_progress_bars()


def _write_images(hub: Path, rng: np.random.Generator, train: int, test: int, size: int) -> None:
    import datasets

    from ..suites.vision import DATASETS

    for name, source in DATASETS.items():
        files = {}
        for split, n in (("train", train), (source.test_split, test)):
            labels = np.arange(n) % 10
            pixels = rng.integers(0, 96, size=(n, size, size, 3))
            for i, label in enumerate(labels):  # a bright blob whose place and colour tell the class
                r, c = divmod(int(label), 4)
                pixels[i, 2 * r : 2 * r + 3, 2 * c : 2 * c + 3, label % 3] = 255
            images = pixels.mean(-1).astype(np.uint8) if name in GREY else pixels.astype(np.uint8)
            column = IMAGE_COLUMNS.get(name, "image")
            features = datasets.Features(
                {column: datasets.Image(), "label": datasets.ClassLabel(names=[f"class{k}" for k in range(10)])}
            )
            frame = datasets.Dataset.from_dict({column: list(images), "label": labels.tolist()}, features=features)
            buffer = io.BytesIO()
            frame.to_parquet(buffer)
            files[f"{source.folder}/{split}-00000-of-00001.parquet"] = buffer.getvalue()
        hub_entry(hub, source.repo, source.revision, files, "dataset")


def write_replica(
    root: str | Path,
    tokenizer_file: str | Path,
    models: Iterable[str] = MODELS,
    steps: Iterable[int] = STEPS,
    rows: int = 512,
    heldout_rows: int = 64,
    neox20b: bool = True,
    seed: int = 0,
    faults: bool = True,
) -> Replica:
    """Write a replica of the release under `root`: checkpoints of `models` and of their `-deduped` twins at
    `steps` (with the twins' gender-bias interventions at the final step), GPT-NeoX-20B at main, both Pile
    datasets (`rows` rows each), the gender-bias evaluation sets and held-out rows; with `faults`, `FAULTY`'s
    branches carrying the release's reported faults (`write_faults`)."""
    from ..suites import get_suite

    root, steps = Path(root), tuple(steps)
    hub = root / "hub"
    pythia, deduped = get_suite("pythia"), get_suite("pythia-deduped")
    for i, model in enumerate(models):
        for twin, suite in ((model, pythia), (f"{model}-deduped", deduped)):
            spec = suite.spec(twin)
            for step in steps:
                files = tiny_weights(seed + 1000 * i + step % 997, spec.vocab, 16 * (i + 1))
                hub_entry(hub, spec.hub_id, suite.revision(step), files)
        for run, spec in deduped.models.items():  # the interventions of the size, at their final step
            if spec.revision and run.startswith(f"{model}-deduped-") and deduped.final_step in steps:
                hub_entry(hub, spec.hub_id, spec.revision, tiny_weights(seed + 7 + 1000 * i, spec.vocab, 16 * (i + 1)))
    if faults:
        write_faults(hub, Path(tokenizer_file), seed)
    write_bias_evals(hub, seed)
    write_image_datasets(hub, seed)
    if neox20b:
        neox = get_suite("gpt-neox-20b")
        spec = neox.spec("gpt-neox-20b")
        hub_entry(hub, spec.hub_id, neox.revision(neox.final_step), tiny_weights(seed, spec.vocab, 32))
    for k, (kind, repo_id) in enumerate(DATASETS.items()):
        staging = root / "staging" / kind
        write_mmap(staging / "document", text_rows(Path(tokenizer_file), rows, seed + k))
        shard(staging / "document")
        hub_entry(hub, repo_id, "main", {f.name: f.read_bytes() for f in sorted(staging.iterdir())}, "dataset")
        for f in staging.iterdir():
            f.unlink()
        staging.rmdir()
    (root / "staging").rmdir()
    write_mmap(root / "heldout" / "document", text_rows(Path(tokenizer_file), heldout_rows, seed + 99))
    return Replica(root, hub, root / "heldout" / "document")
