"""What a checkpointed suite is, and loading any of its (model, step): imports no suite.

A suite knows its models (architecture, parameters), its checkpoint steps and the revision name of each,
its model class, tokenizer and special ids, the data it was trained on (rows per step, tokens per row) and
held-out text, and per-finding defaults (the settings that reproduce its published numbers).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import Explained


class CheckpointNotFound(Explained, LookupError):
    """A model, step or checkpoint file that does not exist where we looked."""


@dataclass(frozen=True)
class ModelSpec:
    """One model of a suite: its GPT-NeoX-shaped architecture and training precision."""

    name: str
    layers: int
    hidden: int
    heads: int
    vocab: int
    seq_len: int
    train_dtype: str = "float16"
    hub_id: str | None = None
    rotary_pct: float = 0.25
    revision: str | None = None  # a model released once, at the suite's final step, under this revision (the
    # intervention models): no other step of it exists

    @property
    def params(self) -> int:
        """Total parameters: untied embeddings, 12h²+13h per layer, final layer norm."""
        h = self.hidden
        return self.layers * (12 * h * h + 13 * h) + 2 * self.vocab * h + 2 * h

    def config(self, eod_id: int = 0):
        """The transformers GPTNeoXConfig of this model."""
        from transformers import GPTNeoXConfig

        return GPTNeoXConfig(
            vocab_size=self.vocab,
            hidden_size=self.hidden,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            intermediate_size=4 * self.hidden,
            rotary_pct=self.rotary_pct,
            max_position_embeddings=self.seq_len,
            use_parallel_residual=True,
            tie_word_embeddings=False,
            bos_token_id=eod_id,
            eos_token_id=eod_id,
        )


@dataclass(frozen=True)
class Checkpoint:
    """A model of a suite at a training step; `revision` is the name its weights are published under."""

    suite: str
    model: str
    step: int
    revision: str


@dataclass
class Suite:
    """A family of models trained on the same rows in the same order, checkpointed at `steps`.

    `revision_format` names a step's weights (fields: `step`, and `tokens_b`, billions of tokens seen);
    `findings` holds, per finding it supports, its defaults (`dtype`, `batch_size`, finding settings such as
    `suppress_eod`): those that reproduce the published numbers;
    `pythia_schedule` says the steps are Pythia's, so the papers' evaluated checkpoints apply as they are."""

    name: str
    models: dict[str, ModelSpec]
    steps: tuple[int, ...]
    rows_per_step: int
    row_len: int | None  # tokens per training row; None: a row is one example with one label (image suites)
    tokenizer_file: Callable[[], Path] | None  # None: the suite's models read no text
    findings: dict[str, dict[str, Any]]
    local_root: Path | None = None
    data_prefix: Path | None = None  # the training data: a token dataset's path prefix, or an image suite's `.npz`
    heldout_prefix: Path | None = None
    data_setting: str | None = None  # the setting that names the training data, for messages
    revision_format: str = "step{step}"
    model_class: str = "GPTNeoXForCausalLM"
    eod_id: int = 0
    pad_id: int = 0
    default_models: tuple[str, ...] = ()  # what a run scores when no models are given (default: every model)
    pythia_schedule: bool = False
    planted: bool = False  # its corpus plants ground truth the findings check (duplicated passages, task statements
    # with known counts, tests of its own), and the findings hold it to design targets
    bits_per_byte: float | None = None  # nats per token → bits per byte on its training text (None: not known)
    description: str = ""
    missing_hint: str = ""  # added to the error for a model the suite does not have (where to find it)
    build: str = ""  # a locally built suite's build key: scores cached for one build are never read for another
    loader: Callable[[Checkpoint, Any, Any], Any] | None = None  # (checkpoint, device, dtype) -> model, for
    # suites whose models are not transformers classes (the image suites); None: `model_class.from_pretrained`

    @property
    def final_step(self) -> int:
        return self.steps[-1]

    @property
    def tokens_per_step(self) -> int:
        """Predictions per training step: rows × (row length − 1) tokens, or one label per row on an image suite."""
        return self.rows_per_step * (self.row_len - 1 if self.row_len else 1)

    def spec(self, model: str) -> ModelSpec:
        try:
            return self.models[model]
        except KeyError:
            raise CheckpointNotFound(
                f"the {self.name} suite has no model {model!r}; its models: {', '.join(self.models)}"
                + (f"; {self.missing_hint}" if self.missing_hint else "")
            ) from None

    def revision(self, step: int) -> str:
        """The name a step's weights are published under (Pythia: `step<N>`)."""
        return self.revision_format.format(step=step, tokens_b=self.tokens_seen(step) // 10**9)

    def checkpoint(self, model: str, step: int | str | None = None) -> Checkpoint:
        """A validated checkpoint; `step` may be an int, a revision name, 'main' or None (the final one)."""
        once = self.spec(model).revision
        step = self._parse_step(step)
        if once is not None:
            if step != self.final_step:
                raise CheckpointNotFound(
                    f"{model} is released at its final step only ({self.final_step}, revision {once!r}), not at "
                    f"step {step}"
                )
            return Checkpoint(self.name, model, step, once)
        if step not in self.steps:
            raise CheckpointNotFound(
                f"{model} has no checkpoint at step {step}; nearest is {self.revision(self.nearest_step(step))}. "
                f"Valid steps: {_describe_steps(self.steps)}"
            )
        return Checkpoint(self.name, model, step, self.revision(step))

    def _parse_step(self, step: int | str | None) -> int:
        if step is None or step == "main":
            return self.final_step
        if isinstance(step, str):
            by_name = {self.revision(s): s for s in self.steps}
            if step in by_name:
                return by_name[step]
            if step.isdigit():
                return int(step)
            raise CheckpointNotFound(
                f"revision {step!r} is not one of the {self.name} suite's, which are named like "
                f"{self.revision(self.final_step)!r} (or 'main')"
            )
        return int(step)

    def nearest_step(self, step: int) -> int:
        """The checkpoint step closest to `step` (ties go to the earlier one)."""
        i = bisect.bisect_left(self.steps, step)
        candidates = self.steps[max(i - 1, 0) : i + 1]
        return min(candidates, key=lambda s: (abs(s - step), s))

    def default(self, finding: str, name: str, given: Any = None) -> Any:
        """A finding's setting on this suite: the value given, else the suite's default for the finding (or None)."""
        return given if given is not None else self.findings.get(finding, {}).get(name)

    def training_rows(self):
        """The suite's training rows in training order (a `data.TrainingRows`)."""
        where = f"set {settings.variable(self.data_setting)} to " if self.data_setting else "give it "
        return self._rows(
            self.data_prefix,
            f"no training data configured for the {self.name} suite; {where}the path prefix of the data it was "
            "trained on, pre-tokenized and in training order (<prefix>.idx with <prefix>.bin or its shards "
            "<prefix>-NNNNN-of-MMMMM.bin)",
        )

    def heldout_rows(self):
        """Rows of text the suite was not trained on (a `data.TrainingRows`), for evaluation on real text."""
        return self._rows(
            self.heldout_prefix,
            f"no held-out text configured for the {self.name} suite; set "
            f"{settings.variable('heldout')} to the path prefix of a pre-tokenized validation set (<prefix>.idx and "
            "<prefix>.bin, rows of the training row length)",
        )

    def _rows(self, prefix: Path | None, missing: str):
        from ..data.tokens import MMapIndexedDataset, TrainingRows

        if prefix is None:
            raise CheckpointNotFound(missing)
        return TrainingRows(MMapIndexedDataset(prefix), self.rows_per_step, self.row_len)

    def tokens_seen(self, step: int) -> int:
        """Training tokens consumed by checkpoint `step` (rows × predicted tokens per row)."""
        return step * self.tokens_per_step

    def compute(self, model: str, step: int) -> float:
        """Training compute of a checkpoint in FLOPs: C = 6 · params · tokens."""
        return 6.0 * self.spec(model).params * self.tokens_seen(step)


def _describe_steps(steps: tuple[int, ...]) -> str:
    if len(steps) <= 12:
        return ", ".join(map(str, steps))
    return f"{', '.join(map(str, steps[:11]))}, …, {steps[-1]} ({len(steps)} in all)"
