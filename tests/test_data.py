import struct

import numpy as np
import pytest

from pythia_repro.data import (
    DTYPES,
    MAGIC,
    IndexedDataError,
    MMapIndexedDataset,
    TrainingRows,
    concat_shards,
    write_mmap,
)


@pytest.mark.parametrize("code", sorted(DTYPES))
def test_round_trip_every_dtype(tmp_path, code):
    dtype = np.dtype(DTYPES[code])
    seqs = [np.arange(n, dtype=dtype) + n for n in (3, 0, 5, 1)]
    ds = write_mmap(tmp_path / "d", seqs, dtype=dtype)
    assert len(ds) == 4 and ds.dtype == dtype
    assert (tmp_path / "d.idx").read_bytes()[9:18] == struct.pack("<QB", 1, code)
    for i, s in enumerate(seqs):
        np.testing.assert_array_equal(ds[i], s)
    np.testing.assert_array_equal(ds[-1], seqs[-1])
    assert [len(x) for x in ds[0:3]] == [3, 0, 5]


def test_fixed_length_slice_is_a_2d_view_of_the_file(tmp_path):
    rows = np.arange(40, dtype=np.uint16).reshape(8, 5)
    ds = write_mmap(tmp_path / "rows", rows)
    block = ds[2:5]
    np.testing.assert_array_equal(block, rows[2:5])
    assert np.shares_memory(block, ds.tokens) and isinstance(ds.tokens, np.memmap)
    assert np.shares_memory(ds[3], ds.tokens)
    with pytest.raises(IndexError, match="out of range"):
        ds[8]


def test_layout_matches_the_megatron_format(tmp_path):
    write_mmap(tmp_path / "m", [[1, 2, 3], [4, 5]], dtype=np.uint16)
    raw = (tmp_path / "m.idx").read_bytes()
    assert raw[:9] == MAGIC
    version, code, n, d = struct.unpack("<QBQQ", raw[9:34])
    assert (version, code, n, d) == (1, 8, 2, 3)
    sizes = np.frombuffer(raw[34:42], np.int32)
    pointers = np.frombuffer(raw[42:58], np.int64)
    assert sizes.tolist() == [3, 2] and pointers.tolist() == [0, 6]
    assert (tmp_path / "m.bin").read_bytes() == np.array([1, 2, 3, 4, 5], np.uint16).tobytes()


def _corrupt(path, offset, data):
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda p: _corrupt(p / "c.idx", 0, b"NOTANIDX\x00"), "wrong magic"),
        (lambda p: _corrupt(p / "c.idx", 9, struct.pack("<Q", 2)), "unknown version 2"),
        (lambda p: _corrupt(p / "c.idx", 17, bytes([9])), "unknown dtype code 9"),
        (lambda p: (p / "c.idx").write_bytes((p / "c.idx").read_bytes()[:-5]), "truncated"),
        (lambda p: (p / "c.idx").write_bytes((p / "c.idx").read_bytes()[:20]), "truncated header"),
        (lambda p: (p / "c.bin").write_bytes((p / "c.bin").read_bytes()[:-2]), r"c\.bin: truncated"),
        (lambda p: (p / "c.bin").write_bytes((p / "c.bin").read_bytes() + b"xx"), "larger than its index"),
        (lambda p: _corrupt(p / "c.idx", 34 + 12 + 8, struct.pack("<q", 4)), "pointer of sequence 1"),
        (lambda p: (p / "c.bin").unlink(), "data file not found"),
    ],
)
def test_bad_files_give_clear_errors_naming_the_file(tmp_path, damage, message):
    write_mmap(tmp_path / "c", [[1, 2, 3], [4, 5], [6]])
    damage(tmp_path)
    with pytest.raises(IndexedDataError, match=message) as err:
        MMapIndexedDataset(tmp_path / "c")
    assert str(tmp_path / "c.") in str(err.value)


def test_values_that_do_not_fit_are_refused(tmp_path):
    with pytest.raises(IndexedDataError, match="do not fit"):
        write_mmap(tmp_path / "x", [[70000]], dtype=np.uint16)
    assert not (tmp_path / "x.idx").exists()


def test_shards_are_joined_after_a_size_check(tmp_path):
    rows = np.arange(3 * 9, dtype=np.uint16).reshape(9, 3)
    write_mmap(tmp_path / "full" / "document", rows)
    blob = (tmp_path / "full" / "document.bin").read_bytes()
    shards = tmp_path / "shards"
    shards.mkdir()
    for i, part in enumerate((blob[:10], blob[10:30], blob[30:])):
        (shards / f"document-{i:05d}-of-00003.bin").write_bytes(part)
    target = tmp_path / "joined" / "document"
    target.parent.mkdir()
    (target.parent / "document.idx").write_bytes((tmp_path / "full" / "document.idx").read_bytes())
    ds = concat_shards(shards, target)
    np.testing.assert_array_equal(ds[0:9], rows)

    (shards / "document-00002-of-00003.bin").write_bytes(blob[30:-2])
    with pytest.raises(IndexedDataError, match="shards hold"):
        concat_shards(shards, target)
    (shards / "document-00001-of-00003.bin").unlink()
    with pytest.raises(IndexedDataError, match="incomplete shard set"):
        concat_shards(shards, target)


def test_training_rows_follow_the_step_arithmetic(tmp_path):
    row_len, per_step = 7, 4
    rows = np.arange(10 * per_step * row_len, dtype=np.uint16).reshape(-1, row_len)
    tr = TrainingRows(write_mmap(tmp_path / "t", rows), per_step, row_len)
    assert tr.n_rows == 40
    np.testing.assert_array_equal(tr.rows_at_step(3), rows[12:16])
    assert tr.seen_range(5) == range(20)
    assert tr.rows_seen(0).shape == (0, row_len)
    np.testing.assert_array_equal(tr.windows(4, 6, length=3), rows[4:6, :3])
    with pytest.raises(IndexError, match="out of range"):
        tr.rows_at_step(10)
    with pytest.raises(ValueError, match="longer than a row"):
        tr.windows(0, 1, length=8)


def test_pythia_row_arithmetic():
    from pythia_repro.suite import pythia_suite

    suite = pythia_suite()
    assert suite.rows_per_step * suite.row_len * 2 == 1024 * 4098
    assert suite.tokens_seen(1) == 2_097_152
