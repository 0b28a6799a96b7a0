"""Tests of structloc.io.files: checked output paths and atomic writes."""

from __future__ import annotations

import os

import pytest

from structloc.emitters import Emitters
from structloc.io import atomic_path, atomic_write, check_output_path, write_localizations_csv


def test_atomic_write_replaces_or_leaves_untouched(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")

    def failing(tmp):
        tmp.write_text("partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, failing)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]  # no temporary file left behind
    atomic_write(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["f.txt"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode
    with atomic_path(tmp_path / "g.tif") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".tif"
        tmp.write_bytes(b"x")
    assert (tmp_path / "g.tif").read_bytes() == b"x"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "no" / "dir.txt", lambda tmp: None)


def test_output_path_that_is_a_directory_is_refused_without_a_temporary_name(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    for call in (lambda: check_output_path(folder), lambda: write_localizations_csv(folder, Emitters.empty()),
                 lambda: atomic_write(folder, lambda tmp: tmp.write_text("x"))):
        with pytest.raises(IsADirectoryError) as info:
            call()
        assert str(info.value) == f"output path {folder} is a directory; give a file name"
    assert os.listdir(folder) == [] and sorted(os.listdir(tmp_path)) == ["out"]  # nothing left behind
    assert check_output_path(tmp_path / "new.csv") == tmp_path / "new.csv"
