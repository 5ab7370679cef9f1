"""GPT-NeoX-20B (Black et al. 2022): Pythia's tokenizer and data, one released checkpoint (`main`, step 150000).

With no intermediate checkpoints, it runs the findings that need only the final model: loss on
n-gram-sampled text (simplicity bias) and few-shot arithmetic (term frequency), in fp16 (41 GB of
weights: one 80 GB GPU). Its n-gram statistics and term counts are read from the standard Pile.
"""

from __future__ import annotations

from .. import settings
from .base import ModelSpec, Suite
from .pythia import PILE_BITS_PER_BYTE, ROW_LEN, tokenizer
from .registry import register_suite

NAME = "gpt-neox-20b"
FINAL_STEP = 150000
ROWS_PER_STEP = 1538  # batch of 1538 sequences of 2048 tokens (about 3.15M tokens per step)


def neox20b() -> Suite:
    """The one released checkpoint of GPT-NeoX-20B, on the hub or in a local mirror."""
    spec = ModelSpec(NAME, 44, 6144, 64, 50432, seq_len=2048, hub_id="EleutherAI/gpt-neox-20b")
    return Suite(
        NAME,
        {NAME: spec},
        (FINAL_STEP,),
        rows_per_step=ROWS_PER_STEP,
        row_len=ROW_LEN,
        tokenizer_file=tokenizer,
        findings={"simplicity_bias": {"dtype": "float16"}, "term_frequency": {"dtype": "float16"}},
        local_root=settings.path("checkpoint_folder"),
        data_prefix=settings.path("pile"),
        heldout_prefix=settings.path("heldout"),
        data_setting="pile",
        revision_format="main",
        bits_per_byte=PILE_BITS_PER_BYTE,
        description="GPT-NeoX-20B, scored here",
    )


register_suite(NAME, neox20b)
