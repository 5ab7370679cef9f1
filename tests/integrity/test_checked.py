"""Derived caches check themselves: n-gram counts and term-count blocks, each damaged four ways, give the same
tables on the next run, and `cache check` names and repairs them."""

import json

import numpy as np
import pandas as pd
import pytest

from pythia_repro import cli
from pythia_repro.evals import ngrams, terms
from pythia_repro.findings import simplicity_bias as sb
from pythia_repro.integrity import checked
from pythia_repro.paths import cache_home


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def drop_record(path):
    checked.record_path(path).unlink()


def multiply_ngram_counts(path):
    unigrams, bigrams = ngrams.load_counts(path)
    ngrams.save_counts(path, unigrams * 50, bigrams * 50)  # a valid file, other values


def multiply_term_counts(path):
    frame = pd.read_parquet(path)
    frame.assign(count=frame["count"] * 50).to_parquet(path)


DAMAGE = {"flipped byte": flip_byte, "truncated": truncate, "no record": drop_record}


@pytest.mark.parametrize("how", [*DAMAGE, "changed values"])
def test_damaged_ngram_counts_are_moved_aside_and_counted_again(micro_suite, capsys, how):
    unigrams, bigrams = sb.ngram_statistics(micro_suite, progress=False)
    (path,) = (cache_home() / "ngrams").glob("*.npz")
    (multiply_ngram_counts if how == "changed values" else DAMAGE[how])(path)
    again_unigrams, again_bigrams = sb.ngram_statistics(micro_suite, progress=False)
    assert np.array_equal(unigrams, again_unigrams) and (bigrams != again_bigrams).nnz == 0
    assert f"cache: ignored {path}" in capsys.readouterr().err
    assert list((cache_home() / "bad").rglob("*.npz.*")), "the bad file is kept aside, not deleted"
    assert checked.check() == []


@pytest.mark.parametrize("how", [*DAMAGE, "changed values"])
def test_damaged_term_blocks_are_moved_aside_and_counted_again(micro_suite, capsys, how):
    first = terms.block_counts(micro_suite, [8, 16], workers=1, progress=False)
    path = sorted((cache_home() / "terms").rglob("*.parquet"))[0]
    (multiply_term_counts if how == "changed values" else DAMAGE[how])(path)
    again = terms.block_counts(micro_suite, [8, 16], workers=1, progress=False)
    pd.testing.assert_frame_equal(first, again)
    assert f"cache: ignored {path}" in capsys.readouterr().err


def test_cache_check_names_every_bad_file_and_repairs(micro_suite, capsys):
    sb.ngram_statistics(micro_suite, progress=False)
    terms.block_counts(micro_suite, [8], workers=1, progress=False)
    (npz,) = (cache_home() / "ngrams").glob("*.npz")
    block = sorted((cache_home() / "terms").rglob("*.parquet"))[0]
    flip_byte(npz)
    checked.record_path(block).write_text(json.dumps({"size": 1, "sha256": "0"}))
    assert cli.main(["cache", "check"]) == 1
    out = capsys.readouterr().out
    assert f"BAD {npz}: its sha256 differs" in out and f"BAD {block}: " in out and "2 problem(s)" in out
    assert cli.main(["cache", "check", "--repair"]) == 0
    assert cli.main(["cache", "check"]) == 0 and not npz.exists() and not block.exists()


def test_a_block_copied_with_its_record_under_another_blocks_name_is_refused(micro_suite, capsys):
    first = terms.block_counts(micro_suite, [8, 16], workers=1, progress=False)
    one, other = sorted((cache_home() / "terms").rglob("*.parquet"))
    for source, target in ((one, other), (checked.record_path(one), checked.record_path(other))):
        target.write_bytes(source.read_bytes())  # a consistent pair, in the wrong place
    capsys.readouterr()
    assert cli.main(["cache", "check"]) == 1
    assert f"BAD {other}: stored under another key's name" in capsys.readouterr().out
    again = terms.block_counts(micro_suite, [8, 16], workers=1, progress=False)
    pd.testing.assert_frame_equal(first, again)
    assert f"cache: ignored {other} (its record says it holds" in capsys.readouterr().err
    assert cli.main(["cache", "check"]) == 0
