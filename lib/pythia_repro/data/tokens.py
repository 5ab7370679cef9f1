"""Training data: the Megatron MMapIndexedDataset (.idx/.bin) and a viewer of rows by training step.

Layout (little endian), as used for the pre-tokenized Pile: magic b"MMIDIDX\\x00\\x00", u64 version 1,
u8 dtype code, u64 sequence count n, u64 document count d, int32 sizes[n], int64 pointers[n] (byte
offsets into .bin), int64 doc_idx[d]. The .bin is the tokens with no header.

The .bin may also lie beside the index as shards `<prefix>-NNNNN-of-MMMMM.bin`, split anywhere (even inside a
token), as the pre-shuffled Pile is released (`document-00000-of-00020.bin` … `document-00020-of-00020.bin`: there
MMMMM is the last index; a count is accepted too). They are read in place, never joined.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import Explained
from ..integrity import atomic
from ..integrity.hashing import content_key, sha256_files
from ..paths import cache_home

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
DTYPES: dict[int, type[np.generic]] = {
    1: np.uint8,
    2: np.int8,
    3: np.int16,
    4: np.int32,
    5: np.int64,
    6: np.float32,
    7: np.float64,
    8: np.uint16,
}
_HEADER = struct.Struct("<9sQBQQ")
_SHARD = re.compile(r"-(?P<index>\d{5})-of-(?P<of>\d{5})\.bin$")
_CHECK_CHUNK = 1 << 22


class IndexedDataError(Explained, ValueError):
    """A malformed, truncated or inconsistent .idx/.bin pair."""


def dtype_code(dtype) -> int:
    """The format's code for a numpy dtype."""
    dtype = np.dtype(dtype)
    for code, candidate in DTYPES.items():
        if np.dtype(candidate) == dtype:
            return code
    raise IndexedDataError(f"dtype {dtype} cannot be stored; supported: {[np.dtype(d).name for d in DTYPES.values()]}")


class MMapIndexedDataset:
    """Read-only, memory-mapped access to `<prefix>.idx` / `<prefix>.bin`; nothing is read silently wrong."""

    def __init__(self, prefix: str | Path):
        self.prefix = Path(prefix)
        self.idx_path = self.prefix.with_name(self.prefix.name + ".idx")
        self.bin_path = self.prefix.with_name(self.prefix.name + ".bin")
        self._read_index()
        self._check_bin()
        if self.shards:
            self.tokens = ShardedTokens(self.shards, self.dtype)
        elif self.bin_size:
            self.tokens = np.memmap(self.bin_path, dtype=self.dtype, mode="r")
        else:
            self.tokens = np.empty(0, self.dtype)

    @property
    def files(self) -> list[Path]:
        """The index and the token file(s) it describes: the .bin, or its shards in order."""
        return [self.idx_path, *(self.shards or [self.bin_path])]

    def _read_index(self) -> None:
        if not self.idx_path.is_file():
            raise IndexedDataError(f"{self.idx_path}: index file not found")
        size = self.idx_path.stat().st_size
        if size < _HEADER.size:
            raise IndexedDataError(f"{self.idx_path}: truncated header ({size} bytes, need {_HEADER.size})")
        with open(self.idx_path, "rb") as f:
            magic, version, code, n, d = _HEADER.unpack(f.read(_HEADER.size))
        if magic != MAGIC:
            raise IndexedDataError(
                f"{self.idx_path}: wrong magic {magic!r}, expected {MAGIC!r}; not an MMapIndexedDataset index"
            )
        if version != VERSION:
            raise IndexedDataError(f"{self.idx_path}: unknown version {version}, only version {VERSION} is supported")
        if code not in DTYPES:
            raise IndexedDataError(f"{self.idx_path}: unknown dtype code {code}; known codes {sorted(DTYPES)}")
        expected = _HEADER.size + 12 * n + 8 * d
        if size != expected:
            kind = "truncated" if size < expected else "has trailing bytes"
            raise IndexedDataError(
                f"{self.idx_path}: {kind}: {size} bytes, header says {n} sequences and {d} documents ({expected} bytes)"
            )
        self.dtype = np.dtype(DTYPES[code])
        off = _HEADER.size
        self.sizes = np.memmap(self.idx_path, np.int32, "r", off, (n,)) if n else np.empty(0, np.int32)
        self.pointers = np.memmap(self.idx_path, np.int64, "r", off + 4 * n, (n,)) if n else np.empty(0, np.int64)
        self.doc_idx = np.memmap(self.idx_path, np.int64, "r", off + 12 * n, (d,)) if d else np.empty(0, np.int64)

    def _check_bin(self) -> None:
        n, item = len(self.sizes), self.dtype.itemsize
        for start in range(0, n, _CHECK_CHUNK):
            sizes = self.sizes[start : start + _CHECK_CHUNK].astype(np.int64)
            pointers = self.pointers[start : start + _CHECK_CHUNK]
            first = 0 if start == 0 else int(self.pointers[start - 1]) + int(self.sizes[start - 1]) * item
            expected = first + np.concatenate([[0], np.cumsum(sizes[:-1] * item)])
            if (sizes < 0).any() or not np.array_equal(pointers, expected):
                bad = start + int(np.argmax((pointers != expected) | (sizes < 0)))
                raise IndexedDataError(
                    f"{self.idx_path}: pointer of sequence {bad} is {int(self.pointers[bad])}, "
                    f"expected the running sum of sizes ({int(expected[bad - start])})"
                )
        self.bin_size = int(self.pointers[-1]) + int(self.sizes[-1]) * item if n else 0
        self.shards = None if self.bin_path.is_file() else shard_files(self.prefix)
        if self.shards:
            _check_shard_sizes(self.shards, self.bin_size, self.idx_path)
            return
        if not self.bin_path.is_file():
            raise IndexedDataError(
                f"{self.bin_path}: data file not found, nor shards {self.prefix.name}-NNNNN-of-MMMMM.bin beside it "
                f"(index is {self.idx_path})"
            )
        actual = self.bin_path.stat().st_size
        if actual != self.bin_size:
            kind = "truncated" if actual < self.bin_size else "larger than its index says"
            raise IndexedDataError(
                f"{self.bin_path}: {kind}: {actual} bytes, {self.idx_path.name} describes {self.bin_size} bytes"
            )

    def __len__(self) -> int:
        return len(self.sizes)

    def __getitem__(self, key):
        """Sequence `i` as a 1-D view; a slice gives a 2-D view when its sequences have one length, else a list."""
        n = len(self)
        if isinstance(key, (int, np.integer)):
            i = int(key) + n if key < 0 else int(key)
            if not 0 <= i < n:
                raise IndexError(f"sequence {key} out of range: {self.prefix} has {n} sequences")
            start = int(self.pointers[i]) // self.dtype.itemsize
            return self.tokens[start : start + int(self.sizes[i])]
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            sizes = self.sizes[start:stop]
            if len(sizes) and (sizes == sizes[0]).all():
                first = int(self.pointers[start]) // self.dtype.itemsize
                return self.tokens[first : first + len(sizes) * int(sizes[0])].reshape(len(sizes), int(sizes[0]))
            return [self[i] for i in range(start, stop)]
        raise TypeError(f"index with an int or a slice, not {type(key).__name__}")


def write_mmap(
    prefix: str | Path,
    sequences: Iterable[Sequence[int] | np.ndarray],
    dtype=np.uint16,
    doc_idx: Sequence[int] | None = None,
) -> MMapIndexedDataset:
    """Write sequences as `<prefix>.idx`/`.bin` (atomically: temporary files, then rename) and open them."""
    prefix = Path(prefix)
    dtype = np.dtype(dtype)
    code = dtype_code(dtype)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    bin_path, idx_path = (prefix.with_name(prefix.name + ext) for ext in (".bin", ".idx"))
    sizes = []
    with atomic.replacing(idx_path) as tmp_idx, atomic.replacing(bin_path) as tmp_bin:  # .bin lands first
        with open(tmp_bin, "wb") as f:
            for seq in sequences:
                arr = np.asarray(seq)
                if (
                    arr.size
                    and dtype.kind in "iu"
                    and not (np.iinfo(dtype).min <= arr.min() and arr.max() <= np.iinfo(dtype).max)
                ):
                    raise IndexedDataError(f"values {arr.min()}…{arr.max()} do not fit {dtype}")
                f.write(arr.astype(dtype, copy=False).tobytes())
                sizes.append(arr.size)
        sizes_arr = np.asarray(sizes, dtype=np.int32)
        pointers = (
            np.concatenate([[0], np.cumsum(sizes_arr[:-1].astype(np.int64) * dtype.itemsize)]).astype(np.int64)
            if sizes
            else np.empty(0, np.int64)
        )
        docs = np.asarray(doc_idx if doc_idx is not None else range(len(sizes) + 1), dtype=np.int64)
        with open(tmp_idx, "wb") as f:
            f.write(_HEADER.pack(MAGIC, VERSION, code, len(sizes), len(docs)))
            f.write(sizes_arr.tobytes())
            f.write(pointers.tobytes())
            f.write(docs.tobytes())
    return MMapIndexedDataset(prefix)


class ShardedTokens:
    """The tokens of consecutive shard files as one read-only sequence, read in place: a slice within one shard is
    a view of it, a slice across a boundary (even one inside a token) a copy of just that slice."""

    def __init__(self, paths: list[Path], dtype, length: int | None = None):
        self.paths, self.dtype = list(paths), np.dtype(dtype)
        self._maps = [np.memmap(p, np.uint8, "r") if p.stat().st_size else np.empty(0, np.uint8) for p in self.paths]
        self._starts = np.concatenate([[0], np.cumsum([m.size for m in self._maps])]).astype(np.int64)
        total = int(self._starts[-1]) // self.dtype.itemsize
        self._length = total if length is None else min(length, total)

    def __len__(self) -> int:
        return self._length

    def head(self, n: int) -> ShardedTokens:
        """The first `n` tokens, still read in place."""
        return ShardedTokens(self.paths, self.dtype, min(n, self._length))

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            i = int(key) + self._length if key < 0 else int(key)
            if not 0 <= i < self._length:
                raise IndexError(f"token {key} out of range ({self._length} tokens)")
            return self[i : i + 1][0]
        if not isinstance(key, slice):
            raise TypeError(f"index with an int or a slice, not {type(key).__name__}")
        start, stop, step = key.indices(self._length)
        if step != 1:
            return self[start:stop][::step]
        item = self.dtype.itemsize
        a, b = start * item, max(stop, start) * item
        if a == b:
            return np.empty(0, self.dtype)
        first = int(np.searchsorted(self._starts, a, "right")) - 1
        last = int(np.searchsorted(self._starts, b, "left")) - 1
        pieces = [
            self._maps[k][max(a, self._starts[k]) - self._starts[k] : min(b, self._starts[k + 1]) - self._starts[k]]
            for k in range(first, last + 1)
        ]
        return (pieces[0] if len(pieces) == 1 else np.concatenate(pieces)).view(self.dtype)


def shard_files(prefix: str | Path) -> list[Path] | None:
    """The shards `<prefix>-NNNNN-of-MMMMM.bin` beside `<prefix>.idx` in order, checked to be one complete set
    (MMMMM the last index, as the Pile is released, or the count); None when there are none."""
    prefix = Path(prefix)
    found = sorted(prefix.parent.glob(f"{glob_escape(prefix.name)}-*.bin"))
    if not found:
        return None
    named = {p: _SHARD.fullmatch(p.name[len(prefix.name) :]) for p in found}
    misnamed = [p.name for p, m in named.items() if m is None]
    if misnamed:
        raise IndexedDataError(
            f"{prefix.parent}: {misnamed} not named like the shards, {prefix.name}-NNNNN-of-MMMMM.bin"
        )
    totals = sorted({int(m["of"]) for m in named.values()})
    if len(totals) > 1:
        raise IndexedDataError(f"{prefix.parent}: the shards of {prefix.name} disagree on their number: -of-{totals}")
    of, indices = totals[0], [int(m["index"]) for m in named.values()]
    expected = range(of + 1) if max(indices) >= of else range(of)  # last index, or count
    missing = [i for i in expected if i not in indices]
    extra = [i for i in indices if i not in expected]
    if missing or extra:
        name = f"{prefix.name}-{{:05d}}-of-{of:05d}.bin"
        problems = [
            f"missing {[name.format(i) for i in missing]}" if missing else "",
            f"unexpected {[name.format(i) for i in extra]}" if extra else "",
        ]
        raise IndexedDataError(f"{prefix.parent}: incomplete shard set: {'; '.join(p for p in problems if p)}")
    return found


def glob_escape(name: str) -> str:
    """`name` with glob's special characters taken literally."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _check_shard_sizes(shards: list[Path], expected: int, idx_path: Path) -> None:
    """The shards must hold exactly the bytes the index describes; name the shard that is off where one can tell."""
    sizes = [p.stat().st_size for p in shards]
    total = sum(sizes)
    if total == expected:
        return
    full = max(sizes[:-1], default=0)  # every shard but the last has the full size (a download cut short is less)
    short = [p.name for p, size in zip(shards[:-1], sizes[:-1]) if size < full]
    if short:
        hint = f"; {short} shorter than the other shards' {full} bytes"
    elif total < expected:
        hint = f"; {shards[-1].name} is short, or a shard after it is missing"
    else:
        hint = f"; {shards[-1].name} is longer than the index says"
    raise IndexedDataError(
        f"{shards[0].parent}: the shards hold {total} bytes but {idx_path.name} describes {expected}{hint}"
    )


def concat_shards(prefix: str | Path) -> MMapIndexedDataset:
    """Join the shards beside `<prefix>.idx` into `<prefix>.bin` (checked first; only for users who want one
    file: every reader reads the shards in place)."""
    from tqdm.auto import tqdm

    dataset = MMapIndexedDataset(prefix)
    if not dataset.shards:
        return dataset
    out = dataset.bin_path
    with (
        atomic.replacing(out) as tmp,
        open(tmp, "wb") as dst,
        tqdm(total=dataset.bin_size, unit="B", unit_scale=True, desc="joining shards") as bar,
    ):
        for shard in dataset.shards:
            with open(shard, "rb") as src:
                while block := src.read(1 << 24):
                    dst.write(block)
                    bar.update(len(block))
    return MMapIndexedDataset(prefix)


class TrainingRows:
    """Training rows in order: step `s` trained on rows [rows_per_step·s, rows_per_step·(s+1))."""

    def __init__(self, dataset: MMapIndexedDataset, rows_per_step: int, row_len: int):
        self.dataset, self.rows_per_step, self.row_len = dataset, rows_per_step, row_len
        self.n_rows = len(dataset.tokens) // row_len

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) as a 2-D view (a copy only of rows that span two shards)."""
        if not 0 <= start <= stop <= self.n_rows:
            raise IndexError(
                f"rows [{start}, {stop}) out of range: {self.dataset.prefix} has {self.n_rows} rows "
                f"of {self.row_len} tokens"
            )
        return self.dataset.tokens[start * self.row_len : stop * self.row_len].reshape(stop - start, self.row_len)

    def stream(self, n_rows: int) -> np.ndarray | ShardedTokens:
        """The tokens of rows [0, n_rows) as one sequence, read in place (for counting over the whole data)."""
        tokens = self.dataset.tokens
        return (
            tokens.head(n_rows * self.row_len) if isinstance(tokens, ShardedTokens) else tokens[: n_rows * self.row_len]
        )

    def step_range(self, step: int) -> range:
        return range(self.rows_per_step * step, self.rows_per_step * (step + 1))

    def rows_at_step(self, step: int) -> np.ndarray:
        """The batch trained on at `step`."""
        r = self.step_range(step)
        return self.rows(r.start, r.stop)

    def seen_range(self, checkpoint_step: int) -> range:
        """Row indices seen by checkpoint `stepN`: [0, rows_per_step·N)."""
        return range(self.rows_per_step * checkpoint_step)

    def rows_seen(self, checkpoint_step: int) -> np.ndarray:
        r = self.seen_range(checkpoint_step)
        return self.rows(r.start, r.stop)

    def windows(self, start: int, stop: int, length: int = 64) -> np.ndarray:
        """The first `length` tokens of rows [start, stop): the memorization windows."""
        if length > self.row_len:
            raise ValueError(f"window of {length} tokens is longer than a row ({self.row_len})")
        return self.rows(start, stop)[:, :length]


IDENTITY_FORMAT = 2  # 2: stamps hold the inode and its change time


def data_identity(prefix: Path) -> str:
    """The identity of the training data at `prefix`, from the content of its index and its tokens (the same
    whether the tokens lie in one .bin or in shards): what every cache of scores and counts is keyed by.

    Hashing is done once: the checksums are stored beside the data (or in the cache when that folder is
    read-only) with each file's size, inode, modification time and inode change time, and reused while all four
    are unchanged. The change time cannot be set back (`touch -r` restores the modification time only), so an edit
    that keeps the size and time is hashed again; so is a copy, a chmod or a move to another disk."""
    prefix = Path(prefix)
    dataset = MMapIndexedDataset(prefix)
    files = dataset.files  # the index and its .bin, or its shards
    stats = {f.name: _stamp(f) for f in files}
    for place in _identity_records(prefix):
        record = _read_json(place)
        if isinstance(record, dict) and record.get("format") == IDENTITY_FORMAT and record.get("files") == stats:
            return record["identity"]
    tokens = dataset.shards or [dataset.bin_path]
    sums = {
        dataset.idx_path.name: sha256_files([dataset.idx_path]),
        dataset.bin_path.name: sha256_files(tokens, progress=f"checksum of {dataset.bin_path.name}"),
    }
    record = {"format": IDENTITY_FORMAT, "identity": content_key(sums)[:16], "files": stats, "sha256": sums}
    for place in _identity_records(prefix):
        try:
            atomic.write_text(place, json.dumps(record, indent=1))
            break
        except OSError:
            continue  # read-only data folder: keep it in the cache
    return record["identity"]


def _stamp(path: Path) -> list[int]:
    """What shows a file was written since it was hashed: size, inode, modification and inode change times."""
    stat = path.stat()
    return [stat.st_size, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns]


def _identity_records(prefix: Path) -> list[Path]:
    """Where a data file's checksums are kept: beside it, else in the cache."""
    absolute = prefix.resolve()
    return [
        absolute.with_name(absolute.name + ".identity.json"),
        cache_home() / "identities" / f"{content_key(str(absolute))[:16]}.json",
    ]


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
