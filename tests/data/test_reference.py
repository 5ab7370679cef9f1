import functools
import hashlib
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from pythia_repro.data import reference
from pythia_repro.data.reference import ReferenceDataError, ReferenceFile, fetch

from conftest import SHARED_DATA

CONFUSION = "published/memorization/confusion_matrices.csv"


def hash_list(folder: Path, prefix: str = "") -> dict[str, str]:
    """A `SHA256SUMS` file of `folder` (paths relative to it) as {path under the reference tree: digest}."""
    listed = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split()
        listed[prefix + path.removeprefix("./")] = digest
    return listed


def test_registry_matches_the_released_hash_lists():
    """The tree's own list, and the gender-bias, trigram and evaluations folders' lists (relative to those folders)."""
    folders = {}
    for name in ("gender_bias", "simplicity_bias_trigram", "evaluations"):
        folders |= hash_list(SHARED_DATA / "published" / name, f"published/{name}/")
    assert len(folders) == 426 + 23 + 714
    assert {p: e.sha256 for p, e in reference.registry().items()} == {**hash_list(SHARED_DATA), **folders}


def test_every_origin_is_pinned_to_a_full_commit():
    for item in reference.registry().values():
        assert (
            "/a19eecb807ec2c79a39ebf18108816e6ffffc1d5/" in item.origin
            or "/bd27074d9bc171f5f98a90e12ffcc13ce722cce3/" in item.origin
            or "/47989688deb26093411f614054125fe966e9bcfc/" in item.origin
        ), item


def test_fetch_from_mirror_checks_and_returns_the_file():
    path = fetch("tokenizer/20B_tokenizer.json")
    assert path == SHARED_DATA / "tokenizer" / "20B_tokenizer.json"


def test_mirror_hash_mismatch_names_file_and_both_hashes(tmp_path, monkeypatch):
    bad = tmp_path / CONFUSION
    bad.parent.mkdir(parents=True)
    bad.write_text("experiment,model\nforged,row\n")
    monkeypatch.setenv("PYTHIA_REPRO_DATA", str(tmp_path))
    with pytest.raises(ReferenceDataError) as err:
        fetch(CONFUSION)
    message = str(err.value)
    assert str(bad) in message
    assert hashlib.sha256(bad.read_bytes()).hexdigest() in message
    assert reference.entry(CONFUSION).sha256 in message


def test_missing_mirror_file_and_unknown_path_are_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHIA_REPRO_DATA", str(tmp_path))
    with pytest.raises(ReferenceDataError, match="has no file"):
        fetch(CONFUSION)
    with pytest.raises(ReferenceDataError, match="unknown reference file"):
        fetch("published/nothing.csv")


@pytest.fixture
def origin_server(tmp_path):
    """A loopback HTTP server standing in for the public origin."""
    root = tmp_path / "origin"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_from_origin_verifies_hash(origin_server, monkeypatch, tmp_path):
    root, url = origin_server
    monkeypatch.delenv("PYTHIA_REPRO_DATA")
    rel = "published/term_frequency/pythia-125m-deduped.csv"
    shutil.copy(SHARED_DATA / rel, root / "good.csv")
    (root / "bad.csv").write_text("model,checkpoint\n")
    good = ReferenceFile(rel, reference.entry(rel).sha256, f"{url}/good.csv")
    monkeypatch.setitem(reference.registry(), rel, good)
    local = fetch(rel)
    assert local.read_bytes() == (SHARED_DATA / rel).read_bytes()
    assert local.is_relative_to(os.environ["PYTHIA_REPRO_HOME"]), "downloads go to the package cache"

    other = "published/term_frequency/pythia-350m-deduped.csv"
    monkeypatch.setitem(
        reference.registry(), other, ReferenceFile(other, reference.entry(other).sha256, f"{url}/bad.csv")
    )
    with pytest.raises(ReferenceDataError, match="failed its check"):
        fetch(other)
    assert not list(Path(local).parent.glob("pythia-350m*")), "a file failing its hash must not be kept"


def test_confusion_matrices_derive_byte_exactly_from_figure_cells():
    import csv

    rows = list(csv.DictReader((SHARED_DATA / CONFUSION).open()))
    cells = {
        (r["experiment"], r["model"], int(r["checkpoint_million_sequences"])): tuple(
            f"{float(r[c]) * 100:.5f}" for c in ("tp", "fn", "fp", "tn")
        )
        for r in rows
    }
    assert reference.confusion_csv(cells) == (SHARED_DATA / CONFUSION).read_text()


def test_parse_confusion_svg_reads_the_four_cells_in_order():
    svg = (
        "<svg><g id='text_7'><!-- 0.30428% --></g><!-- Actual Labels --><g><!-- 1.24136% --></g>"
        "<!-- 0.01389% --><!-- 98.44047% --></svg>"
    )
    assert reference.parse_confusion_svg(svg) == ("0.30428", "1.24136", "0.01389", "98.44047")
    with pytest.raises(ReferenceDataError, match="found 3"):
        reference.parse_confusion_svg("<!-- 1% --><!-- 2% --><!-- 3% -->")


def test_offline_fetch_says_what_to_set(monkeypatch, capsys):
    import requests

    from pythia_repro import cli

    monkeypatch.delenv("PYTHIA_REPRO_DATA")

    def offline(*args, **kwargs):
        raise requests.ConnectionError("Failed to resolve 'raw.githubusercontent.com'")

    monkeypatch.setattr(reference.pooch, "retrieve", offline)
    rel = "published/term_frequency/pythia-125m-deduped.csv"
    assert cli.main(["fetch", rel]) == 1
    err = capsys.readouterr().err
    assert f"cannot download {rel}" in err and "set PYTHIA_REPRO_DATA" in err and "Traceback" not in err


def test_offline_fetch_of_a_derived_file_says_what_to_set_too(monkeypatch):
    import requests

    monkeypatch.delenv("PYTHIA_REPRO_DATA")

    def offline(*args, **kwargs):
        raise requests.ConnectionError("Failed to resolve 'raw.githubusercontent.com'")

    monkeypatch.setattr(reference.pooch, "retrieve", offline)
    derived = next(p for p, item in reference.registry().items() if item.origin.startswith(reference.DERIVED_PREFIX))
    with pytest.raises(ReferenceDataError, match="set PYTHIA_REPRO_DATA"):
        fetch(derived)
