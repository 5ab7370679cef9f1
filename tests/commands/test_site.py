"""The results site and the numbers for papers: built from the committed results, opened in a real browser."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from pythia_repro import site
from pythia_repro.report import numbers
from pythia_repro.report.claims import Claim, judged, untestable
from pythia_repro.report.claims import table as claims_table

from conftest import BROWSER_REQUIRED, CHROMIUM, CHROMIUM_ARGS, REPO

MACRO = re.compile(r"^\\newcommand\{\\([A-Za-z]+)\}\{([^}]*)\}$")


def _parse_tex(text: str) -> tuple[dict[str, str], list[str]]:
    """Macro → value of a numbers.tex, and every macro name in the order defined (to find duplicates)."""
    names, values = [], {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = MACRO.match(line)
        if match:
            assert re.match(r"^% \S+\.csv, row .*, column \S+$", lines[i - 1]), f"{match[1]} has no source comment"
            names.append(match[1])
            values[match[1]] = match[2]
        else:
            assert line.startswith("%"), f"not a macro or a comment: {line!r}"
    return values, names


def check_numbers(folder: Path, profile: str | None = None) -> int:
    """numbers.tex and numbers.json against their sources: every macro once, every value its source cell's, every
    claim number of the folder's profile present (and no other profile's)."""
    profile = profile or folder.parent.name
    claims = pd.read_csv(folder / "claims.csv", keep_default_na=False)
    cells = {(r.profile, r.id): json.loads(r.numbers) for r in claims.itertuples() if r.profile == profile}
    values, names = _parse_tex((folder / "numbers.tex").read_text())
    assert len(names) == len(set(names)), f"{folder}: a macro defined twice"
    rows = json.loads((folder / "numbers.json").read_text(), parse_constant=_not_json)
    assert [r["macro"] for r in rows] == names
    tables = {}
    for row in rows:
        if row["source"] == "claims.csv":
            source = cells[row["row"]["profile"], row["row"]["id"]][row["column"].removeprefix("numbers.")]
        else:
            table = tables.setdefault(row["source"], pd.read_csv(folder / row["source"]))
            match = table
            for key, value in row["row"].items():
                match = match[match[key] == value]
            assert len(match) == 1, f"{row['macro']}: its row is not one row of {row['source']}"
            source = match[row["column"]].iloc[0].item()
        written = values[row["macro"]]
        if row["value"] is None:  # not finite: null in JSON, said in words in TeX
            assert row["not_finite"] == repr(float(source)) and written == f"not finite ({row['not_finite']})"
            continue
        assert row["value"] == source, row["macro"]
        assert (written in ("true", "false") and (written == "true") == source) or float(written) == source
    expected = sum(v is not None and not isinstance(v, (list, dict, str)) for c in cells.values() for v in c.values())
    assert sum(r["source"] == "claims.csv" for r in rows) == expected, "every number of every claim"
    return len(rows)


def _not_json(constant: str):
    raise AssertionError(f"{constant} is not JSON")


def _claims() -> list[Claim]:
    return [
        judged("demo.gap", "A gap", "CI above 0", True, "gap 3", gap_points=3.0, ci95_low=0.5, ci95_high=5.25),
        judged("demo.seeds", "Seeds agree", "most", False, "2/5", seeds_passing_mlp_max_entropy=2, agree=False),
        untestable("demo.none", "Untestable", "needs counts", "no counts", coef=None),
    ]


def test_numbers_name_every_claim_number_once_with_its_source(tmp_path):
    table = claims_table({"micro": _claims(), "published": _claims()[:1]})
    table.to_csv(tmp_path / "claims.csv", index=False)
    found = numbers.of_claims(pd.read_csv(tmp_path / "claims.csv", keep_default_na=False), "micro")
    table = pd.DataFrame({"model": ["micro-xs", "micro-s"], "step": [80, 160], "rise": [1.25, 0.123456789012]})
    table.to_csv(tmp_path / "summary.csv", index=False, float_format="%.10g")
    found = numbers.checked(found + numbers.of_table(table, "summary", ["model", "step"], ["rise"], "micro", "demo"))
    (tmp_path / "numbers.tex").write_text(numbers.as_tex(found, "demo"))
    (tmp_path / "numbers.json").write_text(numbers.as_json(found))
    assert check_numbers(tmp_path, "micro") == 7, "the micro claims' 5 numbers and the table's 2; none of published"
    assert "PRMicroDemoGapCiNineFiveLow" in (tmp_path / "numbers.tex").read_text()
    assert (
        "\\newcommand{\\PRMicroDemoSummaryMicroSOneSixZeroRise}{0.123456789}" in (tmp_path / "numbers.tex").read_text()
    )
    assert "PRMicroDemoSeedsSeedsPassingMlpMaxEntropy" in {n.macro for n in found}


def test_numbers_refuse_two_numbers_under_one_macro():
    clash = [judged("demo.a", "s", "t", True, "d", max_rise=1.0, **{"max-rise": 2.0})]
    with pytest.raises(ValueError, match="share the macro"):
        numbers.checked(numbers.of_claims(claims_table({"micro": clash}), "micro"))
    assert numbers.of_table(pd.DataFrame(), "glm", ["term"], ["coef"], "micro", "demo") == [], "nothing fitted"
    assert numbers.of_table(pd.DataFrame({"term": ["x"]}), "glm", ["term"], ["coef"], "micro", "demo") == []
    twice = pd.DataFrame({"model": ["a", "a"], "rise": [1.0, 2.0]})
    with pytest.raises(ValueError, match="do not name one row each"):
        numbers.of_table(twice, "summary", ["model"], ["rise"], "micro", "demo")


def test_a_changed_number_is_caught(tmp_path):
    table = claims_table({"micro": _claims()})
    table.to_csv(tmp_path / "claims.csv", index=False)
    found = numbers.of_claims(table, "micro")
    (tmp_path / "numbers.json").write_text(numbers.as_json(found))
    (tmp_path / "numbers.tex").write_text(numbers.as_tex(found, "demo").replace("{5.25}", "{5.3}"))
    with pytest.raises(AssertionError):
        check_numbers(tmp_path, "micro")


def test_a_number_that_is_not_finite_is_valid_json_and_a_macro_that_says_so(tmp_path):
    infinite = [judged("demo.odds", "Odds", "above 1", True, "inf", odds=float("-inf"), low=float("inf"), n=3)]
    table = claims_table({"micro": infinite})
    table.to_csv(tmp_path / "claims.csv", index=False)
    found = numbers.checked(numbers.of_claims(table, "micro"))
    (tmp_path / "numbers.json").write_text(numbers.as_json(found))
    (tmp_path / "numbers.tex").write_text(numbers.as_tex(found, "demo"))
    assert check_numbers(tmp_path, "micro") == 3
    rows = {r["macro"]: r for r in json.loads((tmp_path / "numbers.json").read_text(), parse_constant=_not_json)}
    assert rows["PRMicroDemoOddsOdds"] == {**rows["PRMicroDemoOddsOdds"], "value": None, "not_finite": "-inf"}
    assert "\\newcommand{\\PRMicroDemoOddsLow}{not finite (inf)}" in (tmp_path / "numbers.tex").read_text()
    assert "not_finite" not in rows["PRMicroDemoOddsN"]


def test_every_macro_is_defined_once_across_every_committed_numbers_file():
    seen: dict[str, Path] = {}
    for path in sorted((REPO / "results").glob("*/*/numbers.tex")):
        for name in _parse_tex(path.read_text())[1]:
            assert name not in seen, f"\\{name} defined by {seen.get(name)} and {path}: one paper cannot input both"
            seen[name] = path
    assert len(seen) > 1000


def test_committed_results_carry_verified_numbers():
    folders = sorted(p.parent for p in (REPO / "results").glob("*/*/manifest.json"))
    assert len(folders) >= 9
    for folder in folders:
        assert check_numbers(folder) > 0, folder
        outputs = json.loads((folder / "manifest.json").read_text())["outputs"]
        assert {"numbers.json", "numbers.tex"} <= set(outputs), f"{folder}: numbers listed in the manifest"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The site of a copy of the committed results (so a build never touches the checkout)."""
    results = tmp_path_factory.mktemp("results")
    for folder in sorted(p.parent for p in (REPO / "results").glob("*/*/manifest.json")):
        shutil.copytree(folder, results / folder.parent.name / folder.name)
    return site.build(results)


def test_the_site_rebuilds_byte_identically(built, tmp_path):
    again = site.build(built.parent, tmp_path / "again")
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((built / f).read_bytes() == (again / f).read_bytes() for f in files)


def test_the_site_refers_to_nothing_off_the_machine(built):
    for page in built.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), f"{page}: a resource from the network"


def test_no_results_is_one_clear_line(tmp_path, capsys):
    from pythia_repro.cli import main

    assert main(["site", "--results", str(tmp_path)]) == 1
    assert "no results under" in capsys.readouterr().err


@pytest.mark.skipif(CHROMIUM is None and not BROWSER_REQUIRED, reason="Debian's chromium is not installed")
def test_every_page_opens_cleanly_and_the_matrix_is_the_claims_files(built):
    from playwright.sync_api import sync_playwright

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    pages = sorted(str(p.relative_to(built)) for p in built.rglob("*.html"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
            checked = set()
            for name in pages:
                page.goto(base + name, wait_until="load")
                widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.src.slice(0, 80), i.naturalWidth])")
                assert all(width > 0 for _, width in widths), f"{name}: an image did not load {widths}"
                links = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
                for link in links:
                    target, _, anchor = link.partition("#")
                    assert target.startswith(base), f"{name}: a link off the site: {link}"
                    if target not in checked:
                        assert page.request.get(target).status == 200, f"{name}: broken link {link}"
                        checked.add(target)
                    if anchor and target.endswith(".html"):
                        assert f'id="{anchor}"' in page.request.get(target).text(), f"{name}: no #{anchor} in {target}"
                wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert wide <= 0, f"{name}: {wide} pixels wider than the window"
                if name == "index.html":
                    cells = page.eval_on_selector_all(
                        "td[data-claim]", "tds => tds.map(t => [t.dataset.claim, t.dataset.profile, t.dataset.verdict])"
                    )
                    page.click("#claims th:nth-child(1)")  # the sorter runs without an error
            assert not errors, errors
            browser.close()
    finally:
        server.shutdown()
    expected = {}
    for folder in sorted(p.parent for p in (built.parent).glob("*/*/manifest.json")):
        claims = pd.read_csv(folder / "claims.csv", keep_default_na=False)
        for row in claims[claims.profile == folder.parent.name].itertuples():
            expected[row.id, row.profile] = row.verdict
    shown = {(claim, profile): verdict for claim, profile, verdict in cells if verdict}
    assert shown == expected, "the claims matrix is the claims files, cell by cell"
    assert len(expected) > 40 and {p for _, p in expected} == {"published", "micro"}


def _one_result(tmp_path: Path, finding: str = "memorization", profile: str = "micro") -> Path:
    """A results folder holding a copy of one committed result."""
    results = tmp_path / "results"
    shutil.copytree(REPO / "results" / profile / finding, results / profile / finding)
    return results


def _republish(folder: Path) -> None:
    """Re-list a folder's files in its manifest with a fresh digest, as a run that wrote them would have."""
    from pythia_repro.integrity.hashing import sha256_file
    from pythia_repro.report.results import MANIFEST_FILE, _published_files, manifest_digest

    path = folder / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["outputs"] = {name: sha256_file(folder / name) for name in _published_files(folder)}
    manifest["digest"] = manifest_digest(manifest)
    path.write_text(json.dumps(manifest, indent=1) + "\n")


def test_site_out_never_replaces_a_folder_of_the_users(tmp_path, capsys):
    from pythia_repro.cli import main

    results = _one_result(tmp_path)
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    assert main(["site", "--results", str(results), "--out", str(mine)]) == 1
    assert "not a site built by pythia-repro" in capsys.readouterr().err
    assert (mine / "thesis.tex").read_text() == "years of work"
    before = sorted(p.name for p in (results / "micro" / "memorization").iterdir())
    for target in (results / "micro", results / "micro" / "memorization", results, tmp_path):
        assert main(["site", "--results", str(results), "--out", str(target)]) == 1
        assert "left untouched" in capsys.readouterr().err
    assert sorted(p.name for p in (results / "micro" / "memorization").iterdir()) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["site", "--results", str(results), "--out", str(empty)]) == 0
    assert (empty / site.MARKER).is_file() and (empty / "index.html").is_file()
    assert main(["site", "--results", str(results), "--out", str(empty)]) == 0, "its own site is replaced"


@pytest.mark.parametrize(
    "damage",
    [
        ("numbers.json", lambda p: p.write_text("[{not json")),
        ("claims.csv", lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2])),
        ("claims.csv", lambda p: p.write_text("a,b\n1,2\n")),
        ("manifest.json", lambda p: p.write_text("{")),
        ("headline.csv", lambda p: p.write_bytes(b"\xff\xfe\x00 not a table")),
        ("memorization.ipynb", lambda p: p.write_text("{}")),
    ],
    ids=["numbers-json", "claims-truncated", "claims-other-columns", "manifest", "table", "notebook"],
)
@pytest.mark.parametrize("listed", [False, True], ids=["edited", "edited-and-relisted"])
def test_a_damaged_input_is_one_line_naming_it(tmp_path, capsys, damage, listed):
    from pythia_repro.cli import main

    results = _one_result(tmp_path)
    folder = results / "micro" / "memorization"
    name, harm = damage
    if not (folder / name).exists():
        pytest.skip(f"the committed result has no {name}")
    harm(folder / name)
    if listed and name != "manifest.json":
        _republish(folder)  # the damage made to look published: the reader itself must refuse it
    code = main(["site", "--results", str(results), "--out", str(tmp_path / "site")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert str(folder) in err and "reproduce" in err, err
    assert not (tmp_path / "site").exists()


def test_hostile_file_names_are_escaped(tmp_path):
    results = _one_result(tmp_path)
    folder = results / "micro" / "memorization"
    png = next(folder.glob("*.png"))
    hostile = 'x" onerror="alert(2)'
    shutil.copyfile(png, folder / f"{hostile}.png")
    shutil.copyfile(next(folder.glob("*.csv")), folder / "<img src=q onerror=alert(1)>.csv")
    _republish(folder)
    out = site.build(results, tmp_path / "site")
    page = (out / "micro" / "memorization" / "index.html").read_text()
    assert hostile not in page and "<img src=q" not in page
    assert 'src="x%22%20onerror%3D%22alert%282%29.png"' in page
    assert "&lt;img src=q onerror=alert(1)&gt;" in page


def test_every_file_a_paper_figure_declares_is_among_the_committed_results():
    from pythia_repro.findings import finding_modules
    from pythia_repro.findings.papers import declared

    figures = declared(finding_modules())
    missing = [m for finding, figure in figures for m in figure.missing(REPO / "results", finding)]
    assert not missing, f"declared and not committed: {missing}"
    assert {figure.paper for _, figure in figures} == {"pythia", "emp", "dsb", "package"}


def test_the_figures_page_lists_every_papers_figure_in_order_with_its_status_and_its_pictures(built):
    import html

    from pythia_repro.findings import finding_modules
    from pythia_repro.findings.papers import declared

    page = (built / "figures.html").read_text()
    figures = declared(finding_modules())
    at = [
        page.index(f'<h3 id="{f.anchor}">{html.escape(f.label)} <span class="status {f.status}">') for _, f in figures
    ]
    assert at == sorted(at), "in the papers' order"
    for finding, figure in figures:
        for profile, patterns in figure.files.items():
            pngs = [p for pattern in patterns for p in (built.parent / profile / finding).glob(pattern)]
            for png in (p for p in pngs if p.suffix == ".png"):
                assert f'<img src="{profile}/{finding}/{png.name}"' in page, (figure.label, png.name)
    assert "Pythia Tables 7–16" in page and "Declared by the finding <code>evaluations</code>" in page


def test_a_declared_figure_whose_file_is_gone_is_caught_and_shown_missing(tmp_path):
    from pythia_repro.findings import finding_modules
    from pythia_repro.findings.papers import declared

    results = _one_result(tmp_path, "memorization", "micro")
    folder = results / "micro" / "memorization"
    for name in ("poisson_qq.png", "poisson_qq.pdf"):
        (folder / name).unlink()
    _republish(folder)
    figure = next(f for name, f in declared(finding_modules()) if name == "memorization" and f.label == "Pythia Fig. 3")
    assert figure.missing(results, "memorization") == ["micro/memorization/poisson_qq.*"]
    page = (site.build(results) / "figures.html").read_text()
    assert '<span class="missing">missing: poisson_qq.*</span>' in page
    assert "<b>published</b>: not among these results." in page


@pytest.mark.parametrize(
    "declaration",
    [
        {"files": {"micro": ("a.png",)}, "status": "not", "note": "never released"},  # not made, yet files
        {"status": "not"},  # not made, and no reason
        {"files": {"micro": ("a.png",)}, "status": "partly"},  # partly, without what differs
        {"files": {"micro": ("a.png",)}, "status": "done"},  # an unknown status
        {"files": {"micro": ("a.png",)}, "paper": "gpt3"},  # an unknown paper
    ],
)
def test_a_figure_declared_without_its_status_reason_is_refused(declaration):
    from pythia_repro.findings.papers import PaperFigure

    fields = {"paper": "pythia", "number": "Fig. 9", "shows": "a figure"} | declaration
    with pytest.raises(ValueError):
        PaperFigure(**fields)


def test_a_findings_page_leads_with_its_claims_then_figures_named_by_the_paper_then_tables_and_folds_the_numbers(built):
    page = (built / "published" / "gender_bias" / "index.html").read_text()
    heads = ("<h2>Claims</h2>", "<h2>Figures</h2>", "<h2>Tables</h2>", "<h2>Numbers for papers</h2><details>")
    at = [page.index(head) for head in heads]
    assert at == sorted(at) and at[-1] < page.index("<h2>The executed notebook"), "what a reader came for, first"
    claims = pd.read_csv(REPO / "results" / "published" / "gender_bias" / "claims.csv", keep_default_na=False)
    for row in claims[claims.profile == "published"].itertuples():
        assert f"<td>{row.id}</td>" in page[at[0] : at[1]], row.id
    assert '<figcaption><b>Pythia Fig. 2</b>: <a href="winobias_v1.png">' in page
    assert "<figcaption><b>the package&#x27;s bias by size</b>" in page, "a figure of the package's own, named so"


def test_the_audit_is_a_strip_per_model_and_a_runs_left_out_checkpoints_lead_its_page(tmp_path):
    from pythia_repro.report.results import manifest_digest

    results = tmp_path / "results"
    shutil.copytree(REPO / "results" / "published" / "memorization", results / "pythia" / "memorization")
    manifest = json.loads((results / "pythia" / "memorization" / "manifest.json").read_text())
    manifest["inputs"] += [
        {"kind": "checkpoint_left_out", "model": "pythia-2.8b", "revision": "step1000", "reason": "it serves main's"},
        {"kind": "checkpoint", "model": "pythia-12b", "revision": "step50000", "doubt": "it serves the first shard"},
    ]
    manifest["digest"] = manifest_digest({k: v for k, v in manifest.items() if k != "digest"})
    (results / "pythia" / "memorization" / "manifest.json").write_text(json.dumps(manifest))
    (results / "pythia" / "checkpoints").mkdir()
    (results / "pythia" / "checkpoints" / "audit.csv").write_text(
        "model,revision,flag,reason\npythia-2.8b,step0,duplicate,its weights are main's\npythia-2.8b,step143000,ok,\n"
    )
    out = site.build(results)
    strip = (out / "checkpoints.html").read_text()
    assert '<span class="duplicate" title="step0: duplicate its weights are main&#x27;s">' in strip
    assert "<b>pythia-2.8b</b>: 1 duplicate, 1 ok" in strip
    page = (out / "pythia" / "memorization" / "index.html").read_text()
    assert "<li>pythia-2.8b@step1000: it serves main&#x27;s</li>" in page.split("<h2>Figures")[0]
    assert "Scored despite a doubt</h3><ul><li>pythia-12b@step50000: it serves the first shard" in page
