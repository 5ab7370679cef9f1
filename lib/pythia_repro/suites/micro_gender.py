"""The micro gender suite: the Pythia paper's gender-bias intervention in miniature, built by the micro suite's
training code on a corpus of its own (`gender_corpus`), so the micro suite and every score cached for it are
untouched.

Every size trains on the same rows in the same order (the baseline). Intervention runs restart from the
baseline's full training state (weights, optimizer moments, schedule) at a share of training (93%; 79% for the
long run of the largest size, as the authors' 7% and 21%) and continue on the same rows in the same order with
masculine pronouns replaced by feminine ones, token for token. Checkpoints are dense over that window, for both.
Built under `<cache>/suites/micro/<variant>-<key>/` with the same lock, resume and manifest as the micro suite.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..data.tokens import write_mmap
from ..integrity import atomic, kernels
from ..integrity.hashing import content_key
from . import corpus, gender_corpus, micro
from .base import Suite
from .registry import register_suite

FORMAT_VERSION = 3  # the build key: bump it whenever this module or gender_corpus makes other bytes
INTERVENTION, LONG = "intervention", "intervention-long"


@dataclass(frozen=True)
class GenderConfig:
    """Everything that determines a built gender suite (its content key is a hash of this)."""

    variant: str
    seed: int
    vocab_size: int
    row_len: int
    rows_per_step: int
    final_step: int
    spacing: int
    window_spacing: int  # checkpoints every this many steps from the earliest intervention to the end
    sizes: tuple[tuple[str, int, int, int], ...]
    starts: tuple[tuple[str, float], ...] = ((INTERVENTION, 0.93), (LONG, 0.79))  # share of training it starts at
    gender_share: float = 0.4  # documents of occupation sentences (the rest: the micro corpus's natural text)
    stereotype_share: float = 0.95  # an occupation's sentences with its stereotyped pronoun (and age)
    sentences: tuple[int, int] = (4, 12)
    mix: tuple[float, float, float] = (0.4, 0.4, 0.2)  # shares of pronoun, referent and age sentences
    heldout_rows: int = 128
    lambada_passages: int = 512  # the capability test (`gender_corpus.lambada_passages`)
    lr: float = 3e-3
    # sizes whose peak rate is not `lr`, as in the micro suite; an intervention continues at its baseline's
    size_lr: tuple[tuple[str, float], ...] = ()
    warmup_steps: int = 16
    threads: int = 2

    def start(self, arm: str) -> int:
        """The step an intervention starts at: its share of training, on the window's grid."""
        share = dict(self.starts)[arm]
        return int(round(self.final_step * share / self.window_spacing)) * self.window_spacing

    @property
    def steps(self) -> tuple[int, ...]:
        """The micro schedule (0, 1, 2, 4, …, then every `spacing`), and every `window_spacing` over the window."""
        window = range(min(self.start(arm) for arm, _ in self.starts), self.final_step + 1, self.window_spacing)
        return tuple(sorted({*micro.pythia_schedule(self.spacing, self.final_step), *window}))

    @property
    def n_rows(self) -> int:
        return self.final_step * self.rows_per_step

    def branches(self, size: str) -> tuple[tuple[str, int], ...]:
        """(run name, start step) of each intervention on a size: every size, and the long one on the largest."""
        arms = [INTERVENTION] + ([LONG] if size == self.sizes[-1][0] else [])
        return tuple((f"{size}-{arm}", self.start(arm)) for arm in arms)

    @property
    def runs(self) -> tuple[tuple[str, int, int, int], ...]:
        return tuple(
            (name, *shape) for size, *shape in self.sizes for name in (size, *(b for b, _ in self.branches(size)))
        )

    def key(self) -> str:
        return content_key(kernels.keyed({"format": FORMAT_VERSION, **asdict(self)}))[:12]


# fmt: off
VARIANTS = {
    "gender": GenderConfig(
        variant="gender", seed=4321, vocab_size=512, row_len=129, rows_per_step=8, final_step=1280, spacing=160,
        window_spacing=32, sizes=(("micro-xs", 2, 32, 2), ("micro-s", 2, 64, 4), ("micro-m", 4, 96, 4)),
        size_lr=(("micro-xs", 6e-3),),
    ),
    "gender-tiny": GenderConfig(
        variant="gender-tiny", seed=11, vocab_size=512, row_len=65, rows_per_step=4, final_step=64, spacing=16,
        window_spacing=4, sizes=(("micro-xs", 1, 16, 2), ("micro-s", 1, 32, 2)), heldout_rows=16, lambada_passages=32,
        warmup_steps=4, threads=1,
    ),
}
# fmt: on
COMPANION = {"default": "gender", "tiny": "gender-tiny"}  # the micro variant each gender variant goes with


def variant_config(variant: str | None = None) -> GenderConfig:
    """The gender suite that goes with the micro variant in use (or the one named)."""
    return micro.companion_config(VARIANTS, COMPANION, "gender", variant)


def build(variant: str | None = None, force: bool = False, progress: bool = True) -> Path:
    """Build the gender suite that goes with a micro variant (skipped when complete); returns its folder."""
    config = variant_config(variant)
    return micro.build_locked(config, micro.suite_dir(config), _build_into, force, progress)


def _build_into(config: GenderConfig, partial: Path, progress: bool) -> None:
    """Data, then each size with its interventions (one process per size), then the manifest."""
    started = time.time()
    stage = micro.staged(partial, lambda: _build_data(config, partial))
    swap = _swap_table(partial)
    jobs = [
        (
            config,
            micro._spec(config, size, *shape),
            partial,
            progress,
            config.seed + i,
            slot,
            config.branches(size),
            swap,
        )
        for slot, (i, (size, *shape)) in enumerate((i, s) for i, s in enumerate(config.sizes) if not stage.done(s[0]))
    ]
    micro.run_jobs(config, jobs, stage)
    losses = {name: json.loads((partial / name / "losses.json").read_text()) for name, *_ in config.runs}
    for marker in partial.glob(".done-*"):
        marker.unlink()
    manifest = {
        "suite": "micro",
        "kind": "gender",
        "format_version": FORMAT_VERSION,
        "key": config.key(),
        "config": asdict(config),
        "steps": list(config.steps),
        "starts": {arm: config.start(arm) for arm, _ in config.starts},
        "models": {
            name: {
                "layers": layers,
                "hidden": hidden,
                "heads": heads,
                "params": micro._spec(config, name, layers, hidden, heads).params,
            }
            for name, layers, hidden, heads in config.runs
        },
        "losses": losses,
        "build_seconds": round(time.time() - started, 1),
    }
    micro.write_manifest(partial, manifest)


def _build_data(config: GenderConfig, root: Path) -> None:
    """Corpus (occupation documents among natural text) → tokenizer → rows; held-out rows and LAMBADA-style passages
    of natural text only (no pronoun, so what the intervention swaps cannot move them); the swap table."""
    rng = np.random.default_rng(config.seed)
    lex = corpus.make_lexicon(rng)
    documents, total, needed = [], 0, config.n_rows * config.row_len * 4
    while total < needed:
        if rng.random() < config.gender_share:
            doc = gender_corpus.document(rng, lex, config.stereotype_share, config.sentences, config.mix)
        else:
            doc = corpus.natural_document(rng, lex)
        documents.append(doc)
        total += len(doc)
    heldout, total = [], 0  # capability is measured on text without pronouns: natural documents only
    while total < config.heldout_rows * config.row_len * 8:
        heldout.append(corpus.natural_document(rng, lex))
        total += len(heldout[-1])
    passages = gender_corpus.lambada_passages(rng, lex, config.lambada_passages)
    tokenizer = micro._train_tokenizer(config, documents)
    tokenizer.save(str(root / "tokenizer.json"))
    stream, held = (
        np.fromiter((t for enc in tokenizer.encode_batch(docs) for t in (*enc.ids, 0)), dtype=np.int64)
        for docs in (documents, heldout)
    )
    if len(stream) < config.n_rows * config.row_len or len(held) < config.heldout_rows * config.row_len:
        raise RuntimeError("gender corpus too short for the configured rows; raise the character budget")
    rows = stream[: config.n_rows * config.row_len].reshape(config.n_rows, config.row_len)
    held = held[: config.heldout_rows * config.row_len].reshape(config.heldout_rows, config.row_len)
    write_mmap(root / "data" / "train", rows.astype(np.uint16), dtype=np.uint16)
    write_mmap(root / "data" / "heldout", held.astype(np.uint16), dtype=np.uint16)
    atomic.write_text(root / "data" / "swap.json", json.dumps(gender_corpus.swap_ids(tokenizer)))
    atomic.write_text(root / "data" / "lambada.json", json.dumps(passages))
    atomic.write_text(root / "data" / "lexicon.json", json.dumps({"adjectives": lex.adjectives, "nouns": lex.nouns}))


def _swap_table(root: Path) -> np.ndarray:
    """Token id → token id of the intervention (identity but for the masculine pronouns)."""
    swap = {int(k): v for k, v in json.loads((root / "data" / "swap.json").read_text()).items()}
    table = np.arange(1 << 16, dtype=np.int64)
    table[list(swap)] = list(swap.values())
    return table


def load_manifest(variant: str | None = None) -> tuple[Path, dict]:
    config = variant_config(variant)
    root = micro.suite_dir(config)
    micro_variant = next((m for m, v in COMPANION.items() if v == config.variant), config.variant)
    return root, micro.read_built(root, f"micro gender suite ({config.variant})", micro_variant)


def intervention_starts(variant: str | None = None) -> dict[str, int]:
    """The step each intervention of the built gender suite starts at, by arm (`intervention`, `intervention-long`)."""
    return load_manifest(variant)[1]["starts"]


def gender_suite(variant: str | None = None) -> Suite:
    """The built gender suite, registered as "micro-gender": the suite the `micro` profile scores the gender-bias
    finding on (it lists no finding of its own, so it is no profile of its own)."""
    root, manifest = load_manifest(variant)
    config = manifest["config"]
    models = micro.model_specs(manifest)
    return Suite(
        "micro-gender",
        models,
        tuple(manifest["steps"]),
        rows_per_step=config["rows_per_step"],
        row_len=config["row_len"],
        tokenizer_file=lambda: root / "tokenizer.json",
        findings={},
        default_models=tuple(name for name, *_ in config["sizes"]),
        local_root=root,
        data_prefix=root / "data" / "train",
        heldout_prefix=root / "data" / "heldout",
        planted=True,
        description="the micro gender suite, trained here; the micro profile scores gender_bias on it",
        build=manifest["key"],
    )


register_suite("micro-gender", gender_suite)
