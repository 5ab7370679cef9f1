"""Pythia deduped: the eight sizes trained on the deduplicated Pile, which this suite always reads.

Same steps, settings and loading as `pythia`; its training data is the `pile_deduped` setting and nothing
else, so a deduped model is never scored against rows it did not see.
"""

from __future__ import annotations

from .pythia import suite
from .registry import register_suite


def deduped() -> object:
    """The deduplicated Pythia models and the deduplicated Pile."""
    return suite("pythia-deduped", suffix="-deduped", data="pile_deduped")


register_suite("pythia-deduped", deduped)
