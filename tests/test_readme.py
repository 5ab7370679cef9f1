"""The README is one screen that leads everywhere: its verdicts are the committed results', every page of the docs is
reachable from it, and every link in the docs resolves."""

import re
from pathlib import Path

from pythia_repro import site

from conftest import REPO

LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")
MAX_LINES = 200


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def test_the_readme_is_one_screen_and_its_verdicts_are_the_results():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= MAX_LINES
    block = re.search(r"<!-- verdicts:[^>]*-->\n(.*?)<!-- end verdicts -->", readme, re.S)
    assert block, "the README lost its table of verdicts"
    assert block.group(1) == site.verdict_table(REPO / "results"), "regenerate it: site.verdict_table(results)"


def test_the_readmes_list_of_the_papers_figures_is_their_declarations():
    from pythia_repro.findings import finding_modules
    from pythia_repro.findings.papers import readme_lines

    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- figures:[^>]*-->\n(.*?)<!-- end figures -->", readme, re.S)
    assert block, "the README lost its list of the papers' figures"
    assert block.group(1) == readme_lines(finding_modules()), "regenerate it: findings.papers.readme_lines"


def test_a_changed_verdict_makes_the_table_differ(tmp_path):
    import json
    import shutil

    from pythia_repro.integrity.hashing import sha256_file
    from pythia_repro.report.results import manifest_digest

    folder = tmp_path / "results" / "micro" / "term_frequency"
    shutil.copytree(REPO / "results" / "micro" / "term_frequency", folder)
    before = site.verdict_table(tmp_path / "results")
    claims = folder / "claims.csv"
    row = "micro,term_frequency.gap_positive,"
    assert f"{row}reproduced" in claims.read_text()
    claims.write_text(claims.read_text().replace(f"{row}reproduced", f"{row}not reproduced"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["outputs"]["claims.csv"] = sha256_file(claims)
    manifest["digest"] = manifest_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    after = site.verdict_table(tmp_path / "results")
    assert after != before and "[4 reproduced, 1 not reproduced]" in after


def test_every_doc_is_reachable_from_the_readme_and_every_link_resolves():
    reachable, todo = set(), [REPO / "README.md"]
    while todo:
        page = todo.pop()
        if page in reachable:
            continue
        reachable.add(page)
        for target, _ in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a link off the repository
            path = (page.parent / target).resolve()
            assert path.exists(), f"{page.relative_to(REPO)}: a broken link to {target}"
            if path.suffix == ".md":
                todo.append(path)
    missing = [str(p.relative_to(REPO)) for p in pages() if p not in reachable]
    assert not missing, f"pages no link leads to: {missing}"


def test_the_readmes_known_issues_are_the_registrys():
    from pythia_repro.data.known_issues import readme_lines

    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- known issues:[^>]*-->\n(.*?)<!-- end known issues -->", readme, re.S)
    assert block, "the README lost its list of the release's known issues"
    assert block.group(1) == readme_lines(), "regenerate it: data.known_issues.readme_lines"
