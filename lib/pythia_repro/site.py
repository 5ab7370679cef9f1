"""The results site: every claim, figure and table of every profile under `results/`, as static HTML.

Built by `pythia-repro site` into `results/site/` with nbconvert (the executed notebooks, `basic` template: no
script or style from a CDN) and pandas (tables); offline to build and to view, and deterministic: the only dates
on it are the manifests' own. Pages: `index.html` (the claims matrix: one row per claim, one column per profile),
`figures.html` (the papers' figures and what regenerates them), `checkpoints.html` (each audited suite's models as a
strip over steps, a cell per revision coloured by its audit flag) and `<profile>/<finding>/index.html` (the executed
notebook, every table sortable, every figure, the checkpoints left out, the numbers for papers, the manifest made
readable).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from .errors import Explained
from .findings.base import LEFT_OUT
from .report.claims import NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED
from .report.numbers import JSON_FILE, TEX_FILE
from .report.results import MANIFEST_FILE, check_published, staging_dir
from .suites.audit import TABLE as AUDIT_TABLE

NOTEBOOK_LINK = re.compile(r'href="([a-z_]+)\.ipynb"')
CLAIMS_ANCHOR = "notebook-claims"
WIDGET = "application/vnd.jupyter.widget-view+json"
TABLE_ROWS = 300  # rows a page shows of a table; the CSV beside it holds all
COPIED = (".png", ".pdf", ".csv", ".json", ".tex", ".ipynb")
VERDICT_CLASS = {REPRODUCED: "yes", NOT_REPRODUCED: "no", NOT_TESTABLE: "na"}
CLAIM_COLUMNS = ("profile", "id", "verdict", "statement", "test", "detail")
MARKER = ".pythia-repro-site"  # in every folder `build` writes: only such a folder (or an empty one) is replaced
STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#222;line-height:1.4}
nav a{margin-right:1em} table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}
th,td{border:1px solid #ccc;padding:0.25em 0.5em;vertical-align:top;text-align:left}
th.sort{cursor:pointer;background:#f3f3f3} td.yes{background:#e3f4e3} td.no{background:#fbe3e3} td.na{background:#eee}
.verdict{font-weight:bold} .detail{font-size:0.85em} img{max-width:100%} pre{white-space:pre-wrap}
.notebook{border-top:2px solid #ddd;margin-top:2em;overflow-x:auto} .scroll{overflow-x:auto}
.notebook table{display:block;overflow-x:auto} details{margin:0.5em 0}
.status{font-size:0.7em;padding:0.1em 0.4em;border-radius:0.3em} .status.regenerated{background:#e3f4e3}
.status.partly{background:#fdf3d0} .status.not{background:#eee} .missing{color:#b00020;font-weight:bold}
.papers figure{display:inline-block;max-width:48%;margin:0.5em;vertical-align:top}
.strip{display:flex;flex-wrap:wrap;gap:1px;margin:0.2em 0 0.8em} .strip span{width:7px;height:18px;background:#ddd}
.strip .ok{background:#7cbf7c} .strip .duplicate,.strip .shared_shard,.strip .no_weights{background:#d9534f}
.strip .missing{background:#222} .strip .not_checked{background:#ddd} .strip .unexpected_files{background:#f0ad4e}
"""
SORTER = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.classList.add('sort');
    th.addEventListener('click',function(){
      var body=t.tBodies[0], rows=Array.from(body.rows), up=th.dataset.dir!=='up';
      rows.sort(function(a,b){
        var x=a.cells[i].textContent, y=b.cells[i].textContent, p=parseFloat(x), q=parseFloat(y);
        var c=(!isNaN(p)&&!isNaN(q))?p-q:x.localeCompare(y);
        return up?c:-c;});
      th.dataset.dir=up?'up':'down'; rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
"""


class NoResults(Explained, FileNotFoundError):
    """A results folder with nothing published in it."""


class UnsafeOutput(Explained, ValueError):
    """A site target that holds something other than a site this package built: never replaced."""


class BadInput(Explained, ValueError):
    """A results folder the site cannot publish: damaged, edited or unreadable (named with what to do)."""


@dataclass
class Run:
    """One results folder: its profile, finding, manifest and claims."""

    folder: Path
    profile: str
    finding: str
    manifest: dict
    claims: pd.DataFrame

    @property
    def page(self) -> str:
        return f"{self.profile}/{self.finding}/index.html"

    @property
    def remake(self) -> str:
        return _remake(self.profile, self.finding)


def discover(results: Path, skip: Path | None = None) -> list[Run]:
    """Every published folder `results/<profile>/<finding>/` (with a manifest), published first, then by name.

    Each is checked against its manifest first (`check_published`: an edited, cut or unlisted file), and read
    defensively: a damaged input is `BadInput`, one line naming the file and how to make it whole again."""
    runs = []
    for manifest in sorted(results.glob(f"*/*/{MANIFEST_FILE}")):
        folder = manifest.parent
        if skip is not None and (folder == skip or skip in folder.parents):
            continue
        remake = _remake(folder.parent.name, folder.name)
        problems = check_published(folder)
        if problems:
            raise BadInput(
                f"{folder}: {problems[0]}"
                + (f" (and {len(problems) - 1} more)" if problems[1:] else "")
                + f"; the site publishes only whole results: {remake}"
            )
        runs.append(Run(folder, folder.parent.name, folder.name, _read_json(manifest, remake), _claims(folder, remake)))
    return sorted(runs, key=lambda r: (r.profile != "published", r.profile != "micro", r.profile, r.finding))


def _read_json(path: Path, remake: str):
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise BadInput(f"{path}: unreadable ({type(err).__name__}: {err}); {remake}") from None


def _read_csv(path: Path, remake: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=False)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise BadInput(f"{path}: not a readable table ({type(err).__name__}: {err}); {remake}") from None


def _claims(folder: Path, remake: str) -> pd.DataFrame:
    """A folder's claims table (empty when it has none), refused when a column the matrix shows is missing."""
    path = folder / "claims.csv"
    if not path.exists():
        return pd.DataFrame(columns=list(CLAIM_COLUMNS))
    claims = _read_csv(path, remake)
    missing = [c for c in CLAIM_COLUMNS if c not in claims.columns]
    unknown = sorted(set(claims.get("verdict", [])) - set(VERDICT_CLASS))
    if missing or unknown:
        what = (
            f"lacks the columns {missing}"
            if missing
            else f"has verdicts {unknown} that are none of {list(VERDICT_CLASS)}"
        )
        raise BadInput(f"{path}: {what}; {remake}")
    return claims


def build(results: Path, out: Path | None = None) -> Path:
    """Build the site from a results folder into `out` (default `<results>/site`), replacing it in one rename."""
    out = out or results / "site"
    writable(out, results)
    runs = discover(results, skip=out)
    if not runs:
        raise NoResults(
            f"no results under {results} (folders <profile>/<finding>/ with a manifest.json); run `pythia-repro "
            "reproduce` (or `make reproduce`) first, or give --results"
        )
    with staging_dir(out) as tmp:
        (tmp / MARKER).write_text("A site built by `pythia-repro site`: the next build replaces this folder whole.\n")
        (tmp / "index.html").write_text(_page("Results", _matrix(runs), ""))
        (tmp / "figures.html").write_text(_page("The papers' figures", _figures(runs), ""))
        (tmp / "checkpoints.html").write_text(_page("Checkpoint integrity", _checkpoints(results), ""))
        for run in runs:
            target = tmp / run.profile / run.finding
            target.mkdir(parents=True)
            for path in sorted(run.folder.iterdir()):
                if path.suffix in COPIED:
                    shutil.copyfile(path, target / path.name)
            try:
                page = _run_page(run)
            except (KeyError, TypeError, AttributeError) as err:  # valid JSON of another shape
                raise BadInput(
                    f"{run.folder}: an input of another shape ({type(err).__name__}: {err}); {run.remake}"
                ) from None
            (target / "index.html").write_text(_page(f"{run.finding} · {run.profile}", page, "../../"))
    return out


def writable(out: Path, results: Path) -> None:
    """Refuse a target that `build` would destroy something of the user's by replacing: anything but a missing or
    empty folder or a site this package built (its marker), and the results themselves or a folder holding them."""
    target, held = out.resolve(), results.resolve()
    if target == held or target in held.parents or (held in target.parents and target.parent != held):
        raise UnsafeOutput(
            f"{out} is or holds published results ({results}), left untouched: the site is never built there; "
            f"choose another --out (the default is {results / 'site'})"
        )
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UnsafeOutput(f"{out} is not a folder; it is left untouched: choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UnsafeOutput(
            f"{out} holds files and is not a site built by pythia-repro (no {MARKER} in it); the site replaces its "
            "folder whole, so it is left untouched: give an empty or new folder as --out, or delete it if it is a site "
            "built by an earlier version (they carry no marker)"
        )


def verdict_table(results: Path, prefix: str = "") -> str:
    """The README's table of verdicts: a row per finding, a column per profile, each cell the counts of its claims by
    verdict on that profile, linking to its results folder (`prefix` is the link's path to `results`)."""
    runs = discover(results)
    columns = profiles(runs)
    lines = ["| finding | " + " | ".join(f"`{p}`" for p in columns) + " |", "|---|" + "---|" * len(columns)]
    for finding in dict.fromkeys(run.finding for run in runs):
        cells = []
        for profile in columns:
            run = next((r for r in runs if r.finding == finding and r.profile == profile), None)
            if run is None:
                cells.append("not run")
                continue
            own = run.claims[run.claims.profile == profile].verdict.value_counts()
            counts = ", ".join(f"{own[v]} {v}" for v in VERDICT_CLASS if own.get(v, 0))
            cells.append(f"[{counts or 'no claims'}]({prefix}results/{profile}/{finding}/)")
        lines.append(f"| {finding} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _page(title: str, body: str, root: str) -> str:
    nav = (
        f'<nav><a href="{root}index.html">Claims</a><a href="{root}figures.html">The papers\' figures</a>'
        f'<a href="{root}checkpoints.html">Checkpoint integrity</a></nav>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{nav}<h1>{html.escape(title)}</h1>{body}"
        f"<script>{SORTER}</script></body></html>\n"
    )


def profiles(runs: list[Run]) -> list[str]:
    return list(dict.fromkeys(run.profile for run in runs))


def matrix(runs: list[Run]) -> dict[tuple[str, str], dict]:
    """(claim id, profile) → the claim as judged on that profile by its own run: verdict, detail, statement, test."""
    cells = {}
    for run in runs:
        own = run.claims[run.claims.profile == run.profile] if len(run.claims) else run.claims
        for row in own.itertuples():
            cells[row.id, run.profile] = {**row._asdict(), "finding": run.finding, "page": run.page}
    return cells


def _matrix(runs: list[Run]) -> str:
    cells, columns = matrix(runs), profiles(runs)
    claims = list(dict.fromkeys(claim for claim, _ in cells))
    head = "".join(f"<th>{html.escape(p)}</th>" for p in columns)
    rows = []
    for claim in claims:
        first = next(cells[claim, p] for p in columns if (claim, p) in cells)
        row = [
            f"<td><code>{html.escape(claim)}</code></td><td>{html.escape(first['statement'])}</td>"
            f'<td class="detail">{html.escape(first["test"])}</td>'
        ]
        for profile in columns:
            cell = cells.get((claim, profile))
            where = f'data-claim="{_text(claim)}" data-profile="{_text(profile)}"'
            if cell is None:
                row.append(
                    f'<td data-claim="{_text(claim)}" data-profile="{_text(profile)}" data-verdict="">not run</td>'
                )
                continue
            row.append(
                f'<td class="{VERDICT_CLASS[cell["verdict"]]}" {where} data-verdict="{_text(cell["verdict"])}">'
                f'<a class="verdict" href="{_href(cell["page"])}#{CLAIMS_ANCHOR}">{_text(cell["verdict"])}</a>'
                f'<div class="detail">{_text(cell["detail"])}</div></td>'
            )
        rows.append(f"<tr>{''.join(row)}</tr>")
    counts = pd.Series([c["verdict"] for c in cells.values()]).value_counts()
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICT_CLASS)
    links = " · ".join(f'<a href="{_href(r.page)}">{_text(r.finding)} ({_text(r.profile)})</a>' for r in runs)
    return (
        f"<p>Every claim of every finding, judged on each profile present ({summary}). A verdict links to the claims "
        f"section of the executed notebook that judged it; findings that do not reproduce are shown as plainly as "
        f"those that do.</p><p>{links}</p>"
        f'<div class="scroll"><table class="sortable" id="claims"><thead><tr><th>claim</th><th>the paper says</th>'
        f"<th>test</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _figures(runs: list[Run]) -> str:
    from .findings import finding_modules
    from .findings.papers import PAPERS, STATUSES, declared

    figures, parts, paper = declared(finding_modules()), [], None
    counts = Counter(figure.status for _, figure in figures if figure.paper != "package")
    for finding, figure in figures:
        if figure.paper != paper:
            paper = figure.paper
            parts.append(f"<h2>{html.escape(PAPERS[paper])}</h2>")
        made = [_figure_made(run, figure) for run in runs if run.finding == finding and run.profile in figure.files]
        absent = [p for p in figure.files if not any(r.finding == finding and r.profile == p for r in runs)]
        made += [f"<p><b>{_text(p)}</b>: not among these results.</p>" for p in absent]
        parts.append(
            f'<h3 id="{figure.anchor}">{html.escape(figure.label)} <span class="status {figure.status}">'
            f"{figure.status}</span></h3><p>{html.escape(figure.shows)}"
            + (f" <i>{html.escape(figure.note)}.</i>" if figure.note else "")
            + f" Declared by the finding <code>{_text(finding)}</code>."
            + "</p>"
            + "".join(made)
        )
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)
    return (
        f"<p>Every figure and table of the reproduced papers, in the papers' order, with how far the package remakes "
        f"it ({summary}), then the figures the package adds. The simplicity-bias paper's figures are named by the "
        "authors' plot names (their numbers in the ICML version are not yet checked).</p>"
        f'<div class="papers">{"".join(parts)}</div>'
    )


def _figure_made(run: Run, figure) -> str:
    """One profile's files of a declared figure: its pictures shown, every file linked, a declared one missing
    said so."""
    if figure.awaits(run.folder, run.profile):
        return f"<p><b>{_text(run.profile)}</b>: needs {_text(figure.needs[run.profile])}.</p>"
    matched = figure.matches(run.folder, run.profile)
    files = [path.name for found in matched.values() for path in found]
    missing = [pattern for pattern, found in matched.items() if not found]
    base = f"{run.profile}/{run.finding}/"
    pictures = "".join(
        f'<figure><img src="{_href(base + f)}" alt="{_text(figure.label)}, {_text(run.profile)}: {_text(f)}">'
        f"<figcaption>{_text(figure.label)}, {_text(run.profile)}: {_text(f)}</figcaption></figure>"
        for f in files
        if f.endswith(".png")
    )
    links = ", ".join(f'<a href="{_href(base + f)}">{_text(f)}</a>' for f in files)
    return (
        f"<p><b>{_text(run.profile)}</b>: {links or 'no files'}; remake with <code>pythia-repro reproduce --profile "
        f"{_text(run.profile)} --finding {_text(run.finding)}</code>"
        + (f'; <span class="missing">missing: {_text(", ".join(missing))}</span>' if missing else "")
        + f"</p>{pictures}"
    )


def _table(frame: pd.DataFrame) -> str:
    shown = frame.head(TABLE_ROWS)
    note = "" if len(frame) <= TABLE_ROWS else f"<p>First {TABLE_ROWS} of {len(frame)} rows; the CSV holds all.</p>"
    return f'{note}<div class="scroll">{shown.to_html(index=False, classes="sortable", border=0, na_rep="")}</div>'


def _run_page(run: Run) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    folder, manifest = run.folder, run.manifest
    parts = [f"<p>{_duration(manifest)}. Files: " + ", ".join(_link(p.name) for p in _copied(folder)) + "</p>"]
    parts.append(_run_claims(run))
    parts.append(_doubted(manifest))
    parts.append("<h2>Figures</h2>")
    labels = _paper_labels(run)
    for png in sorted(folder.glob("*.png")):
        named = " · ".join(labels.get(png.name, [])) or "not declared among the papers' figures"
        parts.append(
            f'<figure><img src="{_href(png.name)}" alt="{_text(png.stem)}"><figcaption><b>{_text(named)}</b>: '
            f"{_link(png.name)}"
        )
        parts.append(
            (f", {_link(png.stem + '.pdf')}" if png.with_suffix(".pdf").exists() else "") + "</figcaption></figure>"
        )
    parts.append("<h2>Tables</h2>")
    notes = manifest.get("table_notes", {})
    for csv in sorted(folder.glob("*.csv")):
        described = "".join(
            f"<li><code>{html.escape(c)}</code>: {html.escape(n)}</li>" for c, n in notes.get(csv.stem, {}).items()
        )
        parts.append(f"<h3>{_text(csv.stem)} ({_link(csv.name)})</h3>" + (f"<ul>{described}</ul>" if described else ""))
        parts.append(_table(_read_csv(csv, run.remake)))
    numbers = folder / JSON_FILE
    if numbers.exists():
        rows = _read_json(numbers, run.remake)
        frame = pd.DataFrame(
            [
                {
                    "macro": f"\\{r['macro']}",
                    "value": r["value"],
                    "source": r["source"],
                    "row": " ".join(f"{k}={v}" for k, v in r["row"].items()),
                    "column": r["column"],
                }
                for r in rows
            ]
        )
        parts.append(
            f"<h2>Numbers for papers</h2><details><summary>{len(frame)} macros: {_link(TEX_FILE)} (\\input it), "
            f"{_link(JSON_FILE)}</summary>{_table(frame)}</details>"
        )
    parts.append(_manifest(manifest))
    notebooks = sorted(folder.glob("*.ipynb"))
    if notebooks:
        try:
            body, _ = HTMLExporter(template_name="basic").from_notebook_node(_without_widgets(notebooks[0]))
        except (OSError, ValueError, KeyError, AttributeError, TypeError, nbformat.ValidationError) as err:
            raise BadInput(f"{notebooks[0]}: not a readable notebook ({type(err).__name__}); {run.remake}") from None
        body = NOTEBOOK_LINK.sub(lambda m: _notebook_link(folder, m), body)
        parts.append(f'<h2>The executed notebook ({_link(notebooks[0].name)})</h2><div class="notebook">{body}</div>')
    return "".join(parts)


def _doubted(manifest: dict) -> str:
    """The released checkpoints a run left out for not being what they claim, and those it scored despite that."""
    inputs = manifest.get("inputs", [])
    left = [f"{i['model']}@{i['revision']}: {i['reason']}" for i in inputs if i["kind"] == LEFT_OUT]
    marked = [
        f"{i['model']}@{i['revision']}: {i['doubt']}" for i in inputs if i["kind"] == "checkpoint" and "doubt" in i
    ]
    parts = [
        f"<h3>{title}</h3><ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
        for title, lines in (("Checkpoints left out: not what they claim", left), ("Scored despite a doubt", marked))
        if lines
    ]
    return "".join(parts)


def _checkpoints(results: Path) -> str:
    """Each suite's audit (`results/<suite>/checkpoints/audit.csv`) as a strip per model, a cell per revision."""
    tables = sorted(results.glob(f"*/{AUDIT_TABLE}"))  # as `suites.audit.table_path` writes them
    if not tables:
        return (
            "<p>No audit yet: <code>pythia-repro checkpoints audit --profile pythia</code> writes one "
            "(see docs/profiles.md).</p>"
        )
    parts = [
        "<p>A cell per revision, in order of steps; hover for its flag and reason. Green: its own weights; red: "
        "another revision's (left out of every finding); orange: its own weights under unusual file names; black: "
        "missing; grey: not checked.</p>"
    ]
    for path in tables:
        table = _read_csv(path, "re-run `pythia-repro checkpoints audit`").fillna("")
        parts.append(f"<h2>{_text(path.parts[-3])} ({_link(str(path.relative_to(results)))})</h2>")
        for model, rows in table.groupby("model", sort=False):
            cells = "".join(
                f'<span class="{html.escape(r.flag)}" title="{html.escape(f"{r.revision}: {r.flag} {r.reason}")}">'
                "</span>"
                for r in rows.itertuples()
            )
            counts = ", ".join(f"{n} {flag}" for flag, n in rows.flag.value_counts().items())
            parts.append(f'<p><b>{_text(model)}</b>: {_text(counts)}</p><div class="strip">{cells}</div>')
    return "".join(parts)


def _run_claims(run: Run) -> str:
    """A run's claims on its own profile, first on its page: what the paper says, the verdict, the numbers."""
    claims = _claims(run.folder, run.remake)
    rows = "".join(
        f'<tr><td>{_text(c.id)}</td><td class="{VERDICT_CLASS.get(c.verdict, "na")}"><span class="verdict">'
        f"{_text(c.verdict)}</span></td><td>{_text(c.statement)}</td><td>{_text(c.test)}</td>"
        f'<td class="detail">{_text(c.detail)}</td></tr>'
        for c in claims[claims.profile == run.profile].itertuples()
    )
    return (
        "<h2>Claims</h2><p>Each of the paper's statements, tested on this profile's numbers (the executed notebook's "
        f'<a href="#{CLAIMS_ANCHOR}">claims section</a> says how).</p><div class="scroll"><table><thead><tr>'
        f"<th>claim</th><th>verdict</th><th>the paper says</th><th>test</th><th>numbers</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _paper_labels(run: Run) -> dict[str, list[str]]:
    """File name → the papers' figures it remakes on this run's profile ("Pythia Fig. 1"), from the declarations."""
    from .findings import finding_modules

    labels: dict[str, list[str]] = {}
    for figure in getattr(finding_modules().get(run.finding), "PAPER_FIGURES", ()):
        for found in figure.matches(run.folder, run.profile).values():
            for path in found:
                labels.setdefault(path.name, []).append(figure.label)
    return labels


def _without_widgets(path: Path):
    """The executed notebook without its progress-bar widgets (their text stays: a widget renders as a script with
    a random id, which would need a widget library from a CDN and make every build differ), and an anchor at the
    section that shows the claims."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("widgets", None)
    heading = None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            heading = cell
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET, None)
        if cell.cell_type == "code" and 'display("claims")' in cell.source and heading is not None:
            heading.source = f'<a id="{CLAIMS_ANCHOR}"></a>\n\n{heading.source}'
    return notebook


def _notebook_link(folder: Path, match: re.Match) -> str:
    """A notebook's link to another finding's notebook, pointed at that finding's page of the same profile."""
    other = folder.parent / match[1]
    return f'href="../{match[1]}/index.html"' if (other / MANIFEST_FILE).exists() else 'href="#"'


def _copied(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir()) if p.suffix in COPIED]


def _text(text: object) -> str:
    """Text of a name or value, escaped for HTML content and attributes (quotes included)."""
    return html.escape(str(text), quote=True)


def _href(path: str) -> str:
    """A relative link to a file: percent-encoded (a name may hold any character), then escaped."""
    return html.escape(quote(path), quote=True)


def _link(name: str) -> str:
    return f'<a href="{_href(name)}">{_text(name)}</a>'


def _remake(profile: str, finding: str) -> str:
    """What to do about a damaged results folder, for an error's message."""
    return f"re-run `pythia-repro reproduce --profile {profile} --finding {finding}` (or restore it)"


def _duration(manifest: dict) -> str:
    started, finished = manifest.get("started"), manifest.get("finished")
    if not (started and finished):
        return "Run time not recorded"
    seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    return f"Run from {started} to {finished} ({seconds:.0f} s) at commit {manifest.get('git', {}).get('commit')}"


def _manifest(manifest: dict) -> str:
    """The manifest made readable: parameters, inputs with their hashes, runtime, versions against the lock."""
    parameters = pd.DataFrame(
        [{"parameter": k, "value": json.dumps(v)} for k, v in sorted(manifest.get("parameters", {}).items())]
    )
    inputs = pd.DataFrame(
        [
            {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in i.items()}
            for i in manifest.get("inputs", [])
        ]
    )
    runtime = pd.DataFrame([{"fact": k, "value": str(v)} for k, v in sorted(manifest.get("runtime", {}).items())])
    libraries = pd.DataFrame([{"library": k, "version": v} for k, v in sorted(manifest.get("libraries", {}).items())])
    environment = manifest.get("environment", {})
    differs = environment.get("differs_from_lock") if isinstance(environment, dict) else None
    parts = ["<h2>Manifest</h2>", f"<p>{_link('manifest.json')}</p>"]
    for title, frame in (("Parameters as used", parameters), ("Inputs", inputs), ("Machine and run", runtime)):
        parts.append(f"<h3>{title}</h3>" + (_table(frame) if len(frame) else "<p>None.</p>"))
    parts.append("<h3>Package versions</h3>" + _table(libraries))
    parts.append(
        "<p>Differences from the lock: "
        + (html.escape(json.dumps(differs)) if differs else "none (every locked package at its locked version)")
        + "</p>"
    )
    return "".join(parts)
