"""Shared figure conventions: seaborn theme, training-step axes, the note naming whose numbers a figure shows."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns


def setup() -> None:
    """The package's plotting theme (applied by every finding notebook)."""
    sns.set_theme(context="paper", style="whitegrid", palette="viridis")
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150})


def model_lines(ax, data, x: str, y: str, models: list[str], **style) -> None:
    """One line per model, coloured by size in the package's palette (`models` in order of size)."""
    sns.lineplot(data, x=x, y=y, hue="model", hue_order=models, palette="viridis", ax=ax, **style)


def step_axis(ax, label: str = "training step") -> None:
    """Log-scaled step axis that still shows step 0 (linear between 0 and 1)."""
    ax.set_xscale("symlog", linthresh=1, linscale=0.5)
    ax.set_xlim(left=0)
    ax.set_xlabel(label)


def log2_axis(ax, label: str = "training step + 1") -> None:
    """The simplicity-bias authors' axis: a log₂ scale with ticks at powers of two (plot step + 1 on it)."""
    ax.set_xscale("log", base=2)
    ax.set_xlabel(f"{label} (log₂)")


def source_note(profile: str) -> str:
    """What a profile's figures show, for their titles: the authors' numbers, or a suite scored here."""
    from ..suites import get_suite

    return "the authors' released data" if profile == "published" else get_suite(profile).description
