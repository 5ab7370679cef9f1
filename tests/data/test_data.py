import struct

import numpy as np
import pytest

from pythia_repro.data.tokens import (
    DTYPES,
    MAGIC,
    IndexedDataError,
    MMapIndexedDataset,
    TrainingRows,
    concat_shards,
    data_identity,
    write_mmap,
)
from pythia_repro.evals import ngrams
from pythia_repro.testing.replica import shard


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


@pytest.mark.parametrize("last_index", [True, False], ids=["of-last-index", "of-count"])
def test_released_shards_are_read_in_place(tmp_path, last_index):
    rows = np.random.default_rng(0).integers(0, 60000, (40, 7), dtype=np.uint16)
    joined = write_mmap(tmp_path / "joined" / "document", rows)
    prefix = tmp_path / "pile" / "document"
    write_mmap(prefix, rows)
    shards = shard(prefix, 4, last_index=last_index)
    assert [p.name for p in shards][-1] == (
        "document-00003-of-00003.bin" if last_index else "document-00003-of-00004.bin"
    )
    ds = MMapIndexedDataset(prefix)
    assert ds.shards == shards and not ds.bin_path.exists() and ds.files == [ds.idx_path, *shards]
    on_shards, in_one = TrainingRows(ds, 4, 7), TrainingRows(joined, 4, 7)
    cuts = np.cumsum([p.stat().st_size for p in shards]) // 2 // 7  # rows that span a shard boundary
    for start, stop in [(0, 40), (0, 1), (39, 40), *[(c - 1, c + 2) for c in cuts[:-1]], (5, 5)]:
        np.testing.assert_array_equal(on_shards.rows(start, stop), in_one.rows(start, stop))
    np.testing.assert_array_equal(on_shards.windows(3, 30, 5), rows[3:30, :5])
    assert all(np.array_equal(ds[i], joined[i]) for i in range(len(ds)))
    np.testing.assert_array_equal(ds.tokens[-3:], rows.reshape(-1)[-3:])
    np.testing.assert_array_equal(ds.tokens[1:50:7], rows.reshape(-1)[1:50:7])
    assert ds.tokens[-1] == rows[-1, -1]
    stream = on_shards.stream(33)
    assert len(stream) == 33 * 7 and not isinstance(stream, np.ndarray), "counted in place, not copied"
    np.testing.assert_array_equal(
        ngrams.count_unigrams(stream, 1 << 16, chunk=10), np.bincount(rows[:33].reshape(-1), minlength=1 << 16)
    )
    assert (
        ngrams.count_bigrams(stream, 1 << 16, chunk=10) != ngrams.count_bigrams(rows[:33].reshape(-1), 1 << 16)
    ).nnz == 0
    in_shards = data_identity(prefix)
    np.testing.assert_array_equal(concat_shards(prefix)[0:40], rows)  # joining stays available
    assert ds.bin_path.is_file() and MMapIndexedDataset(prefix).shards is None
    assert data_identity(prefix) == in_shards, "one identity for the same tokens"
    assert data_identity(joined.prefix) == in_shards


def test_a_bad_shard_set_names_the_shard(tmp_path):
    rows = np.arange(30 * 5, dtype=np.uint16).reshape(30, 5)
    prefix = tmp_path / "document"

    def release(last_index=True):
        for p in tmp_path.glob("document*"):
            p.unlink()
        write_mmap(prefix, rows)
        return shard(prefix, 3, last_index)

    release()[1].unlink()
    with pytest.raises(IndexedDataError, match=r"missing \['document-00001-of-00002.bin'\]"):
        MMapIndexedDataset(prefix)
    shards = release()
    shards[2].rename(shards[2].with_name("document-00003-of-00002.bin"))
    with pytest.raises(
        IndexedDataError, match=r"missing \['document-00002-of-00002.bin'\]; unexpected \['document-00003"
    ):
        MMapIndexedDataset(prefix)
    shards = release()
    shards[1].rename(shards[1].with_name("document-1-of-00002.bin"))
    with pytest.raises(IndexedDataError, match=r"\['document-1-of-00002.bin'\] not named like the shards"):
        MMapIndexedDataset(prefix)
    shards = release()
    shards[1].write_bytes(shards[1].read_bytes()[:-3])
    with pytest.raises(IndexedDataError, match=r"\['document-00001-of-00002.bin'\] shorter than the other shards"):
        MMapIndexedDataset(prefix)
    release()[2].unlink()  # the last shard of a release named by last index: the rest looks like a set by count
    with pytest.raises(IndexedDataError, match="document-00001-of-00002.bin is short, or a shard after it is missing"):
        MMapIndexedDataset(prefix)
    shards = release(last_index=False)
    shards[0].rename(shards[0].with_name("document-00000-of-00005.bin"))
    with pytest.raises(IndexedDataError, match=r"disagree on their number: -of-\[3, 5\]"):
        MMapIndexedDataset(prefix)
    for p in tmp_path.glob("document-*"):
        p.unlink()
    with pytest.raises(IndexedDataError, match="data file not found, nor shards document-NNNNN-of-MMMMM.bin"):
        MMapIndexedDataset(prefix)


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
    from pythia_repro.suites import get_suite

    suite = get_suite("pythia")
    assert suite.rows_per_step * suite.row_len * 2 == 1024 * 4098
    assert suite.tokens_seen(1) == 2_097_152
