"""The committed results: every interval column names its method, one method per column across profiles."""

import json
import re
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parents[2] / "results"
INTERVAL = re.compile(r"(_ci95_(low|high)|^authors_bound_(low|high))$")


def test_every_interval_column_names_its_method_once_across_profiles():
    methods: dict[tuple[str, str, str], set[str]] = {}
    checked = 0
    for manifest_path in sorted(RESULTS.glob("*/*/manifest.json")):
        notes = json.loads(manifest_path.read_text()).get("table_notes", {})
        for table in sorted(manifest_path.parent.glob("*.csv")):
            for column in pd.read_csv(table, nrows=0).columns:
                if INTERVAL.search(column):
                    note = notes.get(table.stem, {}).get(column)
                    assert note, f"{table.relative_to(RESULTS)}: column {column} has no method in the manifest"
                    methods.setdefault((manifest_path.parent.name, table.stem, column), set()).add(note)
                    checked += 1
    assert checked > 20, "the results hold interval columns"
    mixed = {key: found for key, found in methods.items() if len(found) > 1}
    assert not mixed, f"one column, two methods across profiles: {mixed}"


def test_every_finding_publishes_its_claims():
    for folder in sorted(p.parent for p in RESULTS.glob("*/*/manifest.json")):
        claims = pd.read_csv(folder / "claims.csv")
        assert set(claims.verdict) <= {"reproduced", "not reproduced", "not testable here"}
        own = claims[claims.profile == folder.parent.name]
        assert len(own) >= 4, f"{folder}: at least four claims judged on its own profile"


def test_every_committed_folder_matches_its_manifest():
    from pythia_repro.report.results import check_published

    folders = sorted(p.parent for p in RESULTS.glob("*/*/manifest.json"))
    assert len(folders) >= 6, "published and micro, three findings each"
    for folder in folders:
        assert check_published(folder) == [], folder
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["git"]["dirty"] is False, f"{folder}: published from a checkout with uncommitted changes"
