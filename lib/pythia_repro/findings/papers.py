"""The reproduced papers' figures and tables, each declared once with its number and whether the package remakes it.

A finding lists the figures of its papers as `PAPER_FIGURES` (and the figures it adds as the paper "package"), so that
the site's papers' figures page lists every one of them, in the papers' order, with its status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PAPERS = {  # key → how the papers' figures page names it, in the order the page shows them
    "pythia": "Pythia: A Suite for Analyzing Large Language Models Across Training and Scaling "
    "(Biderman et al., ICML 2023, arXiv 2304.01373)",
    "emp": "Emergent and Predictable Memorization in Large Language Models "
    "(Biderman et al., NeurIPS 2023, arXiv 2304.11158)",
    "dsb": "Neural Networks Learn Statistics of Increasing Complexity (Belrose et al., ICML 2024, arXiv 2402.04362)",
    "package": "Figures this package adds",
}
SHORT = {"pythia": "Pythia", "emp": "EMP", "dsb": "DSB", "package": "package"}
STATUSES = ("regenerated", "partly", "not")


@dataclass(frozen=True)
class PaperFigure:
    """A figure or table of a reproduced paper: its number as printed (e.g. "Fig. 3", "Table 2"; for DSB, whose
    ICML numbers are not yet checked, the authors' plot name), what it shows, and per profile the files (glob
    patterns in that profile's results folder) that remake it. `status` says how far: "regenerated", "partly"
    (`note`: what differs) or "not" (`note`: why). `needs` names, per profile, a download the files are made from
    only once it is there: until then they are awaited, not missing."""

    paper: str
    number: str
    shows: str
    files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    status: str = "regenerated"
    note: str = ""
    needs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.paper not in PAPERS or self.status not in STATUSES:
            raise ValueError(f"{self.paper} {self.number}: paper one of {list(PAPERS)}, status one of {STATUSES}")
        if (self.status == "not") == bool(self.files) or (self.status != "regenerated" and not self.note):
            raise ValueError(f"{self.label}: a figure not made names no files and says why; one partly made says how")

    @property
    def label(self) -> str:
        """How a reader finds it in the paper: "Pythia Fig. 3" (the package's own: "the package's bias by size")."""
        return f"the package's {self.number}" if self.paper == "package" else f"{SHORT[self.paper]} {self.number}"

    @property
    def anchor(self) -> str:
        """Its anchor on the papers' figures page: "pythia-fig-3"."""
        return re.sub(r"[^a-z0-9]+", "-", f"{self.paper} {self.number}".lower()).strip("-")

    def order(self) -> tuple:
        """Its place on the page: by paper, figures before tables, then by number (unnumbered: as declared)."""
        numbered = re.match(r"(Figs?\.|Tables?) (\d+)", self.number)
        return (list(PAPERS).index(self.paper), self.number.startswith("Table"), int(numbered[2]) if numbered else 0)

    def matches(self, folder: Path, profile: str) -> dict[str, list[Path]]:
        """Each pattern declared for `profile` → the files it matches in that profile's results `folder`."""
        return {pattern: sorted(folder.glob(pattern)) for pattern in self.files.get(profile, ())}

    def awaits(self, folder: Path, profile: str) -> bool:
        """Whether a profile's files wait for a download: it `needs` one and the folder holds none of them."""
        return profile in self.needs and not any(self.matches(folder, profile).values())

    def missing(self, results: Path, finding: str) -> list[str]:
        """The declared patterns that match no file in the results, as `profile/finding/pattern` (a profile whose
        files await a download is not missing them; one that holds some of them must hold all)."""
        return [
            f"{profile}/{finding}/{pattern}"
            for profile in self.files
            if not self.awaits(results / profile / finding, profile)
            for pattern, found in self.matches(results / profile / finding, profile).items()
            if not found
        ]


def declared(modules: Mapping[str, object]) -> list[tuple[str, PaperFigure]]:
    """Every declared figure with the finding that declares it, in the papers' order."""
    found = [(name, figure) for name, module in modules.items() for figure in getattr(module, "PAPER_FIGURES", ())]
    return sorted(found, key=lambda item: item[1].order())


def readme_lines(modules: Mapping[str, object]) -> str:
    """The README's list of the papers' figures: one line per paper, each figure with its status, in order."""
    mark = {"regenerated": "✓", "partly": "partly", "not": "not"}
    lines = []
    for paper in (p for p in PAPERS if p != "package"):
        figures = [f for _, f in declared(modules) if f.paper == paper]
        listed = ", ".join(f"{f.number} ({mark[f.status]}{', after a download' if f.needs else ''})" for f in figures)
        lines.append(f"- **{SHORT[paper]}**: {listed}.")
    return "\n".join(lines) + "\n"
