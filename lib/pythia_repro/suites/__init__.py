"""The registry of checkpointed suites: one module per family, imported only when its suite is first asked for.

A suite module calls `register_suite(name, factory)` when imported. The package's own are named in `BUILT_IN`;
others come from the `pythia_repro.suites` entry point group (`name = "package.module"`) or from the
`PYTHIA_REPRO_SUITES` setting (`name=package.module`, comma separated), so a new family is one module and
one line of configuration. Importing this package imports no suite.
"""

from __future__ import annotations

from .base import Checkpoint, CheckpointNotFound, ModelSpec, Suite
from .loading import load_model, load_tokenizer
from .registry import get_suite, register_suite, suite_names

__all__ = [
    "Checkpoint",
    "CheckpointNotFound",
    "ModelSpec",
    "Suite",
    "get_suite",
    "load_model",
    "load_tokenizer",
    "register_suite",
    "suite_names",
]
