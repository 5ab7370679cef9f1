"""Atomic writes: the old file or the whole new one, and no temporary left behind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pythia_repro.integrity import atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "scores.parquet"
    atomic.write_parquet(path, pd.DataFrame({"row": [0, 1]}))

    def half_written(self, target, **kwargs):
        Path(target).write_bytes(b"PAR1 half")
        raise OSError("No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_written)
    with pytest.raises(OSError, match="No space"):
        atomic.write_parquet(path, pd.DataFrame({"row": [2]}))
    monkeypatch.undo()
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.DataFrame({"row": [0, 1]}))
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]


def test_writers_never_share_a_temporary_name(tmp_path, monkeypatch):
    seen = []
    real = type(tmp_path).replace
    monkeypatch.setattr(type(tmp_path), "replace", lambda self, target: (seen.append(self.name), real(self, target))[1])
    for text in ("a", "b"):
        atomic.write_text(tmp_path / "manifest.json", text)
    assert len(set(seen)) == 2 and all(name.startswith(".manifest.json.tmp-") for name in seen)
    assert (tmp_path / "manifest.json").read_text() == "b"
