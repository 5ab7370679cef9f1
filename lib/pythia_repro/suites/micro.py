"""The micro suite: a miniature Pythia built locally, deterministically, in minutes on a CPU.

Same formats as the real suite (tokenizer.json, an MMapIndexedDataset of training rows,
GPT-NeoX checkpoints saved with `save_pretrained` as safetensors under
`<root>/<model>/step<N>/`), the same row/step arithmetic at a smaller scale, a
Pythia-shaped schedule, and every size trained on the same rows in the same order.
Built under `<cache>/suites/micro/<variant>-<key>/`; a build holds the folder's lock, works in a
`.partial` sibling and renames it into place only once every stage is complete. A build is ready
when its manifest matches the files present (`damage`).
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import settings
from ..data.names import run_of
from ..data.tokens import MMapIndexedDataset, TrainingRows, write_mmap
from ..integrity import atomic, kernels, numerics, workers
from ..integrity.hashing import content_key, sha256_file
from ..paths import cache_home
from . import corpus
from .base import CheckpointNotFound, ModelSpec, Suite
from .registry import register_suite

FORMAT_VERSION = 2
EOD = "<|endoftext|>"
SHOTS = (0, 4, 16)  # the papers' reported shot counts, all of which fit the default variant's context
SEQUENCES = 64  # sampled sequences per n-gram set (of 320 predicted tokens): rises of tenths of a nat stand out


@dataclass(frozen=True)
class MicroConfig:
    """Everything that determines a built suite (its content key is a hash of this)."""

    variant: str
    seed: int
    vocab_size: int
    row_len: int  # tokens per row, like Pythia's 2049 (inputs row_len - 1)
    rows_per_step: int  # like Pythia's 1024
    final_step: int
    spacing: int  # evenly spaced checkpoints after the log-spaced ones (Pythia: 1000)
    sizes: tuple[tuple[str, int, int, int], ...]  # (name, layers, hidden, heads)
    duplicates: tuple[tuple[int, int], ...]  # high-entropy passages: (copies, number of passages with that many)
    natural_duplicates: tuple[tuple[int, int], ...] = ()  # natural-language passages: (copies, number of passages)
    # templated passages (near-duplicates, like a licence with different years): per template, the copies of each
    # variant; the variants share the template's first half (the memorization prompt) and differ after it
    templates: tuple[tuple[int, ...], ...] = ()
    passage_tokens: int = 64  # tokens a duplicated row repeats, from its start (memorization reads 32 + 32)
    seeds: int = 1  # runs of the smallest size, the others named `<size>-seed<N>` like Pythia's
    heldout_rows: int = 256  # rows of unseen text from the same generator (for KL on real text)
    arithmetic_share: float = 0.3
    statements: tuple[int, int] = (2, 6)  # task statements per arithmetic document (inclusive range)
    second_operands: tuple[int, int] = (1, 50)  # x2 of planted statements and of the suite's tasks (inclusive)
    zipf_exponent: float = 1.2
    lr: float = 3e-3
    # sizes whose peak learning rate is not `lr`: as in Pythia, where smaller models train at higher rates
    size_lr: tuple[tuple[str, float], ...] = ()
    warmup_steps: int = 16
    threads: int = 2  # cores: sizes train in parallel, one thread each

    @property
    def steps(self) -> tuple[int, ...]:
        return pythia_schedule(self.spacing, self.final_step)

    @property
    def n_rows(self) -> int:
        return self.final_step * self.rows_per_step

    @property
    def runs(self) -> tuple[tuple[str, int, int, int], ...]:
        """Every trained model: each size, then the extra seeds of the smallest."""
        name, *shape = self.sizes[0]
        return (*self.sizes, *((f"{name}-seed{k}", *shape) for k in range(1, self.seeds)))

    def key(self) -> str:
        return content_key(kernels.keyed({"format": FORMAT_VERSION, **asdict(self)}))[:12]


def pythia_schedule(spacing: int, final_step: int) -> tuple[int, ...]:
    """Pythia's checkpoint schedule in miniature: 0, 1, 2, 4, … below `spacing`, then every `spacing` to the end."""
    logs = [2**i for i in range(int(math.log2(spacing)) + 1) if 2**i < spacing]
    return (0, *logs, *range(spacing, final_step + 1, spacing))


# One variant per block, read as a table.
# fmt: off
VARIANTS = {
    "default": MicroConfig(
        variant="default", seed=1234, vocab_size=512, row_len=321, rows_per_step=8, final_step=1280, spacing=80,
        sizes=(("micro-xs", 2, 32, 2), ("micro-s", 2, 64, 4), ("micro-m", 4, 96, 4), ("micro-l", 4, 160, 8)),
        duplicates=((1, 4), (4, 4), (16, 2), (24, 2), (32, 2), (48, 2), (64, 2), (96, 1), (128, 2), (192, 1), (256, 1)),
        natural_duplicates=((64, 2), (128, 1), (256, 1), (512, 1)),
        templates=(
            (64, 64), (48, 24), (48, 24), (48, 24), (96, 32), (96, 32), (192, 96), (128, 64), (128, 64), (96, 64)
        ),
        seeds=3, arithmetic_share=0.45, statements=(4, 20), second_operands=(1, 10), size_lr=(("micro-xs", 6e-3),),
    ),
    "tiny": MicroConfig(
        variant="tiny", seed=7, vocab_size=300, row_len=65, rows_per_step=4, final_step=32, spacing=8,
        sizes=(("micro-xs", 1, 16, 2), ("micro-s", 1, 32, 2), ("micro-m", 2, 32, 4), ("micro-l", 2, 64, 4)),
        duplicates=((1, 2), (4, 1), (16, 1)), natural_duplicates=((2, 2), (8, 1)), templates=((4, 4), (8, 2)), seeds=2,
        warmup_steps=4, heldout_rows=16, second_operands=(1, 10), threads=1,
    ),
}
# fmt: on

# Findings' settings that depend on the variant but not on what is built, so they stay out of MicroConfig and its
# build key: the tiny variant (a quick look, and the tests' suite) scores the first 20 operands of the arithmetic
# tasks, not 100 (a fifth of the prompts; its models answer none of them anyway).
FINDING_SETTINGS = {"tiny": {"term_frequency": {"operands": list(range(20))}}}


def suite_dir(config: MicroConfig) -> Path:
    return cache_home() / "suites" / "micro" / f"{config.variant}-{config.key()}"


def companion_config(variants: dict, companion: dict[str, str], kind: str, variant: str | None = None):
    """A companion suite's config (gender, images) that goes with the micro variant in use, or the one named."""
    micro_variant = variant or settings.value("micro_variant")
    name = companion.get(micro_variant, micro_variant)
    try:
        return variants[name]
    except KeyError:
        raise CheckpointNotFound(f"unknown {kind} variant {name!r}; known: {', '.join(variants)}") from None


def variant_config(variant: str | None = None) -> MicroConfig:
    variant = variant or settings.value("micro_variant")
    try:
        return VARIANTS[variant]
    except KeyError:
        raise CheckpointNotFound(f"unknown micro variant {variant!r}; known: {', '.join(VARIANTS)}") from None


# -- building ---------------------------------------------------------------------------------


@dataclass
class _Stage:
    root: Path

    def done(self, name: str) -> bool:
        return (self.root / f".done-{name}").exists()

    def mark(self, name: str) -> None:
        (self.root / f".done-{name}").write_text("")


def staged(partial: Path, build_data) -> _Stage:
    """The stages a build has finished in `partial`, its data stage (`build_data()`) done first: a crashed build
    resumes after the stages it finished."""
    partial.mkdir(parents=True, exist_ok=True)
    stage = _Stage(partial)
    if not stage.done("data"):
        build_data()
        stage.mark("data")
    return stage


def build(variant: str | None = None, force: bool = False, progress: bool = True) -> Path:
    """Build the micro suite (skipped when a complete build with the same config exists); returns its folder."""
    config = variant_config(variant)
    return build_locked(config, suite_dir(config), _build_into, force, progress)


def build_locked(
    config, final: Path, build_into, force: bool = False, progress: bool = True, what: str = "the micro suite"
) -> Path:
    """Build a suite folder with `build_into(config, partial, progress)` unless a complete build is there.

    One build at a time per suite folder: a second waits for the first and then finds it complete."""
    if not force and damage(final, checksums=True) is None:
        return final
    numerics.check()
    with atomic.locked(atomic.lock_file(final), f"building {what} ({config.variant})"):
        for line in atomic.recover_dir(final):
            print(line, file=sys.stderr)
        problem = damage(final, checksums=True)
        if problem is None and not force:
            return final
        if final.exists() and problem:
            print(f"{what} at {final} is incomplete ({problem}); building it again", file=sys.stderr)
        build_into(config, final.with_name(final.name + ".partial"), progress)
        atomic.swap_in(final.with_name(final.name + ".partial"), final)
    return final


def _build_into(config: MicroConfig, partial: Path, progress: bool) -> None:
    """Build every stage not yet done into `partial` (a crashed build resumes), then its manifest.

    Runs train in parallel, one thread each, on `config.threads` processes (each run is deterministic alone)."""
    started = time.time()
    stage = staged(partial, lambda: _build_data(config, partial))
    todo = [(i, run) for i, run in enumerate(config.runs) if not stage.done(run[0])]
    for _, (name, *_) in todo:
        shutil.rmtree(partial / name, ignore_errors=True)
    jobs = [
        (config, _spec(config, *run), partial, progress, config.seed + i, slot, (), None)
        for slot, (i, run) in enumerate(todo)
    ]
    run_jobs(config, jobs, stage)
    losses = {name: json.loads((partial / name / "losses.json").read_text()) for name, *_ in config.runs}
    for marker in partial.glob(".done-*"):
        marker.unlink()
    _write_manifest(config, partial, losses, build_seconds=time.time() - started)


def run_jobs(config, jobs: list[tuple], stage: _Stage) -> None:
    """Train every job (`_train_run`'s arguments), in parallel on `config.threads` processes, marking each done."""
    if config.threads > 1 and len(jobs) > 1:
        jobs.sort(key=lambda job: -job[1].params)  # the largest first, so the cores stay busy to the end
        with workers.pool(config.threads) as pool:
            for job, _ in zip(jobs, pool.map(_train_run, jobs)):
                stage.mark(job[1].name)
    else:
        for job in jobs:
            _train_run(job)
            stage.mark(job[1].name)


def _train_run(job: tuple) -> None:
    """Train one run, and its branches, and write each loss curve (a process pool's unit of work)."""
    config, spec, root, progress, seed, slot, branches, swap = job
    curves = _train(config, spec, root, progress, seed=seed, position=slot, branches=branches, swap=swap)
    for name, curve in curves.items():
        atomic.write_text(root / name / "losses.json", json.dumps(curve))


def damage(root: Path, checksums: bool = False) -> str | None:
    """What is wrong with a built suite folder (None: complete): its manifest against the files present.

    Sizes are always compared; with `checksums`, contents too."""
    try:
        listed = json.loads((root / "manifest.json").read_text())["contents"]
    except FileNotFoundError:
        return "not built"
    except (OSError, ValueError, KeyError, TypeError):
        return "its manifest is unreadable or from an older version"
    for rel, (size, digest) in listed.items():
        path = root / rel
        if not path.is_file():
            return f"{rel} is missing"
        if path.stat().st_size != size or (checksums and sha256_file(path) != digest):
            return f"{rel} differs from the build's manifest"
    return None


def _spec(config: MicroConfig, name: str, layers: int, hidden: int, heads: int) -> ModelSpec:
    return ModelSpec(
        name, layers, hidden, heads, vocab=config.vocab_size, seq_len=config.row_len - 1, train_dtype="float32"
    )


def _build_data(config: MicroConfig, root: Path) -> None:
    """Corpus → tokenizer → packed rows with duplicated passages → MMapIndexedDataset + ground truth."""
    import pandas as pd

    rng = np.random.default_rng(config.seed)
    lex = corpus.make_lexicon(rng)
    plan = corpus.OperandPlan.make(rng, config.zipf_exponent)
    planted = [(copies, "planted") for copies, n in config.duplicates for _ in range(n)]
    natural_planted = [(copies, "natural") for copies, n in config.natural_duplicates for _ in range(n)]
    n_dup_rows = sum(copies for copies, _ in planted + natural_planted)
    if n_dup_rows > config.n_rows:
        raise ValueError(f"{config.variant}: {n_dup_rows} duplicated rows do not fit in {config.n_rows} rows")

    passages = [corpus.passage(rng, lex, config.passage_tokens) for _ in planted]
    # natural passages: natural-language documents (never arithmetic), as many as fill a memorization window
    natural_passages = [" ".join(corpus.natural_document(rng, lex) for _ in range(4)) for _ in natural_planted]
    documents = []
    needed_chars = config.n_rows * config.row_len * 4  # generous: tokens are ~1.5–3 characters here
    total = 0
    while total < needed_chars:
        doc = _document(config, rng, lex, plan)
        documents.append(doc)
        total += len(doc)

    tokenizer = _train_tokenizer(config, documents + passages + natural_passages)
    tokenizer.save(str(root / "tokenizer.json"))

    encoded = [[*enc.ids, 0] for enc in tokenizer.encode_batch(documents)]
    needed = config.n_rows * config.row_len
    used = int(np.searchsorted(np.cumsum([len(ids) for ids in encoded]), needed)) + 1  # documents the rows reach
    if used > len(encoded):
        raise RuntimeError("corpus too short for the configured rows; raise the character budget")
    stream = np.fromiter((t for ids in encoded[:used] for t in ids), dtype=np.int64)[:needed]
    counts = corpus.planted_counts(documents[:used])  # the last document may be cut: counted in full
    text_rows = stream.reshape(config.n_rows, config.row_len)
    head = config.passage_tokens
    # a duplicated row repeats its passage's first `passage_tokens` tokens (the memorization window), then goes on
    # with text of its own
    heads = _heads(tokenizer, passages + natural_passages, head)

    passage_counts = np.array([copies for copies, _ in planted + natural_planted])
    copies = np.repeat(np.arange(len(passage_counts)), passage_counts)
    positions = np.sort(rng.choice(config.n_rows, size=n_dup_rows, replace=False))
    passage_of_row = np.full(config.n_rows, -1)
    passage_of_row[positions] = rng.permutation(copies)
    table = pd.DataFrame({"kind": [kind for _, kind in planted + natural_planted], "copies": passage_counts})
    table["template"] = -1
    if config.templates:
        extra_heads, extra, at, which = _templates(config, lex, tokenizer, np.flatnonzero(passage_of_row < 0))
        passage_of_row[at] = len(table) + which
        heads = np.concatenate([heads, extra_heads])
        table = pd.concat([table, extra], ignore_index=True)
    duplicated = passage_of_row >= 0
    rows = text_rows.astype(np.uint16)
    rows[duplicated, :head] = heads[passage_of_row[duplicated]]
    write_mmap(root / "data" / "train", rows, dtype=np.uint16)

    write_mmap(root / "data" / "heldout", _heldout_rows(config, rng, lex, plan, tokenizer), dtype=np.uint16)

    of_row = table.reindex(passage_of_row)  # rows with no copy (passage -1) get NaN
    truth = pd.DataFrame(
        {
            "row": np.arange(config.n_rows),
            "passage": passage_of_row,
            "duplicate_count": of_row.copies.fillna(0).astype(np.int64).to_numpy(),
            "kind": of_row.kind.fillna("unique").to_numpy(),
            "template": of_row.template.fillna(-1).astype(np.int64).to_numpy(),
        }
    )
    atomic.write_parquet(root / "data" / "rows_ground_truth.parquet", truth)
    operands = pd.DataFrame(
        {
            "operand": np.arange(100),
            "times_probability": plan.times_p,
            "times_rank": np.argsort(plan.permutation),
            "plus_probability": plan.plus_p,
            "times_statements": counts["times"],
            "plus_statements": counts["plus"],
        }
    )
    atomic.write_text(root / "data" / "operands_ground_truth.csv", operands.to_csv(index=False))


def _templates(config: MicroConfig, lex, tokenizer, free: np.ndarray):
    """Templated passages placed on `free` rows: their heads, their table (kind, copies, template), and the rows
    they take with the (local) passage index of each.

    Drawn from a random stream of their own, so the rest of the corpus is the same with or without them. Each
    variant is a passage: the template's first `passage_tokens // 2` tokens (the memorization prompt), then its own."""
    import pandas as pd

    rng = np.random.default_rng([config.seed, 1])
    head = config.passage_tokens
    table = pd.DataFrame(
        [(copies, t) for t, variants in enumerate(config.templates) for copies in variants],
        columns=["copies", "template"],
    ).assign(kind="templated")
    ids = _heads(tokenizer, [corpus.passage(rng, lex, head) for _ in range(len(table))], head)
    first = table.groupby("template").cumcount().eq(0).to_numpy()
    opening = np.flatnonzero(first)[table.template.to_numpy()]  # each variant's template's first variant
    ids[:, : head // 2] = ids[opening, : head // 2]  # every variant opens like its template's first
    if table.copies.sum() > len(free):
        raise ValueError(f"{config.variant}: {table.copies.sum()} templated rows do not fit in {len(free)} free rows")
    at = np.sort(rng.choice(free, size=table.copies.sum(), replace=False))
    which = rng.permutation(np.repeat(np.arange(len(table)), table.copies))
    return ids, table, at, which


def _heads(tokenizer, texts: list[str], head: int) -> np.ndarray:
    """The first `head` token ids of each text, one row each (a duplicated row repeats its passage's head)."""
    ids = [enc.ids[:head] for enc in tokenizer.encode_batch(texts)]
    if any(len(row) < head for row in ids):
        raise RuntimeError(f"a duplicated passage is shorter than {head} tokens")
    return np.asarray(ids, dtype=np.int64).reshape(-1, head)


def _document(config: MicroConfig, rng, lex, plan) -> str:
    """One document of the corpus: arithmetic (a share `arithmetic_share`) or natural text."""
    if rng.random() < config.arithmetic_share:
        return corpus.arithmetic_document(rng, plan, config.second_operands, config.statements)
    return corpus.natural_document(rng, lex)


def _heldout_rows(config: MicroConfig, rng, lex, plan, tokenizer) -> np.ndarray:
    """Rows of fresh documents from the same generator, drawn after everything else (training data unchanged)."""
    needed, docs, total = config.heldout_rows * config.row_len, [], 0
    while total < needed:
        doc = _document(config, rng, lex, plan)
        ids = tokenizer.encode(doc).ids
        docs.append(np.asarray([*ids, 0]))
        total += len(ids) + 1
    return np.concatenate(docs)[:needed].reshape(config.heldout_rows, config.row_len)


def _train_tokenizer(config: MicroConfig, texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=config.vocab_size,
        special_tokens=[EOD],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer)
    if tok.token_to_id(EOD) != 0:
        raise RuntimeError("end-of-document token must have id 0")
    return tok


def _train(
    config,
    spec: ModelSpec,
    root: Path,
    progress: bool,
    seed: int,
    position: int = 0,
    branches: tuple[tuple[str, int], ...] = (),
    swap: np.ndarray | None = None,
) -> dict[str, list[float]]:
    """Train one size on the suite's rows in order, saving each scheduled checkpoint; then each branch
    (run name, start step) from the whole training state at its start, on the same rows mapped through `swap`
    (token id → token id), saving the scheduled checkpoints after its start. Returns per-step losses per run."""
    import copy

    import torch
    from transformers import GPTNeoXForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    model = GPTNeoXForCausalLM(spec.config())
    rows = TrainingRows(MMapIndexedDataset(root / "data" / "train"), config.rows_per_step, config.row_len)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=peak_lr(config, spec.name), betas=(0.9, 0.95), weight_decay=0.01
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, config))
    starts = {start for _, start in branches}
    states = {}

    def keep(step):  # the whole state at a branch's start, before its step is taken
        if step in starts:
            states[step] = copy.deepcopy((model.state_dict(), optimizer.state_dict(), schedule.state_dict()))

    curves = {
        spec.name: _steps(
            config, model, optimizer, schedule, rows, root / spec.name, 0, progress, position, spec.name, keep
        )
    }
    for name, start in branches:
        weights, moments, lr_state = states[start]
        model.load_state_dict(weights)
        optimizer.load_state_dict(moments)
        schedule.load_state_dict(lr_state)
        curves[name] = _steps(
            config, model, optimizer, schedule, rows, root / name, start, progress, position, name, swap=swap
        )
    return curves


def _steps(
    config,
    model,
    optimizer,
    schedule,
    rows,
    folder: Path,
    start: int,
    progress: bool,
    position: int,
    name: str,
    before=None,
    swap: np.ndarray | None = None,
) -> list[float]:
    """Train from `start` to the final step on the suite's rows (mapped through `swap`), saving each scheduled
    checkpoint from `start` on into `folder`; `before(step)` runs before each step is taken."""
    import torch
    from tqdm.auto import tqdm

    checkpoints = set(config.steps)
    losses = []
    model.train()
    for step in tqdm(
        range(start, config.final_step + 1),
        desc=f"training {name}",
        disable=not progress,
        leave=False,
        position=position % max(config.threads, 1),
    ):
        if step in checkpoints:
            model.save_pretrained(folder / f"step{step}", safe_serialization=True)
        if before is not None:
            before(step)
        if step == config.final_step:
            break
        batch = rows.rows_at_step(step).astype(np.int64)
        batch = torch.from_numpy(batch if swap is None else swap[batch])
        logits = model(input_ids=batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(loss.item(), 5))
    return losses


def peak_lr(config, run: str) -> float:
    """A run's peak learning rate: its size's own where the config names one (`size_lr`; a seed run is its size's),
    else the config's `lr`. A gender intervention restarts from its baseline's optimizer state, so it keeps the
    baseline's rate."""
    return dict(config.size_lr).get(run_of(run)[0], config.lr)


def _lr_factor(step: int, config: MicroConfig) -> float:
    """Linear warmup, then cosine decay to 10% (the Pythia schedule's shape)."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.final_step - config.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def _write_manifest(config: MicroConfig, root: Path, losses: dict[str, list[float]], build_seconds: float) -> None:
    import torch

    models = {}
    for name, layers, hidden, heads in config.runs:
        spec = _spec(config, name, layers, hidden, heads)
        models[name] = {
            "layers": layers,
            "hidden": hidden,
            "heads": heads,
            "params": spec.params,
            "final_loss": losses[name][-1] if losses[name] else None,
        }
    manifest = {
        "suite": "micro",
        "format_version": FORMAT_VERSION,
        "key": config.key(),
        "config": asdict(config),
        "steps": list(config.steps),
        "n_rows": config.n_rows,
        "tokens": config.n_rows * config.row_len,
        "models": models,
        "losses": losses,
        "files": {
            p: sha256_file(root / p)
            for p in (
                "tokenizer.json",
                "data/train.idx",
                "data/train.bin",
                "data/heldout.bin",
                "data/operands_ground_truth.csv",
            )
        },
        "torch": torch.__version__,
        "build_seconds": round(build_seconds, 1),
    }
    write_manifest(root, manifest)


def write_manifest(root: Path, manifest: dict) -> None:
    """Write a build's manifest with the size and sha256 of every file in it (what `damage` checks) and the numeric
    identity of the machine that built it (another kernel path trains other weights)."""
    manifest["numerics"] = numerics.identity()
    manifest["contents"] = {
        str(p.relative_to(root)): [p.stat().st_size, sha256_file(p)] for p in sorted(root.rglob("*")) if p.is_file()
    }
    atomic.write_text(root / "manifest.json", json.dumps(manifest, indent=1))


# -- the suite as seen by the rest of the package ---------------------------------------------


def load_manifest(variant: str | None = None) -> tuple[Path, dict]:
    config = variant_config(variant)
    root = suite_dir(config)
    return root, read_built(root, f"micro suite ({config.variant})", config.variant)


def read_built(root: Path, what: str, micro_variant: str) -> dict:
    """A built suite folder's manifest; CheckpointNotFound naming what is wrong and the command that builds it
    (`suite build micro` builds the micro suite and its companions)."""
    problem = damage(root)
    if problem:
        state = problem if problem == "not built" else f"incomplete: {problem}"
        flag = "" if micro_variant == "default" else f" --variant {micro_variant}"
        raise CheckpointNotFound(f"the {what} at {root} is {state}; run `pythia-repro suite build micro{flag}`")
    return json.loads((root / "manifest.json").read_text())


def model_specs(manifest: dict) -> dict[str, ModelSpec]:
    """Every trained run of a built suite's manifest (micro or micro gender) as a model spec."""
    config = manifest["config"]
    return {
        name: ModelSpec(
            name,
            m["layers"],
            m["hidden"],
            m["heads"],
            vocab=config["vocab_size"],
            seq_len=config["row_len"] - 1,
            train_dtype="float32",
        )
        for name, m in manifest["models"].items()
    }


def micro_suite(variant: str | None = None) -> Suite:
    """The built micro suite, registered under the name "micro"."""
    root, manifest = load_manifest(variant)
    config = manifest["config"]
    models = model_specs(manifest)
    sizes = tuple(name for name, *_ in config["sizes"])
    low, high = config["second_operands"]
    tasks = {"second_operands": list(range(low, high + 1)), "shots": list(SHOTS), "examples": "per_operand"}
    own = FINDING_SETTINGS.get(config["variant"], {})  # this variant's settings beyond its build
    return Suite(
        "micro",
        models,
        tuple(manifest["steps"]),
        rows_per_step=config["rows_per_step"],
        row_len=config["row_len"],
        tokenizer_file=lambda: root / "tokenizer.json",
        findings={
            "memorization": {},
            "simplicity_bias": {"models": list(models), "n_sequences": min(SEQUENCES, config["heldout_rows"])},
            "term_frequency": tasks | own.get("term_frequency", {}),
            "gender_bias": {},  # scored on the micro gender suite (`micro_gender`), built beside this one
            "simplicity_bias_images": {},  # scored on the micro image suite (`micro_images`), built beside this one
        },
        default_models=sizes,
        local_root=root,
        data_prefix=root / "data" / "train",
        heldout_prefix=root / "data" / "heldout",
        planted=True,
        description="micro suite, trained and scored here",
        build=manifest["key"],
    )


register_suite("micro", micro_suite)
