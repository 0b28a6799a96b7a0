"""Tests of structloc.io.tiff: TIFF stacks, memory maps and chunked reading."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from structloc.io import iter_tiff_chunks, read_tiff_stack, write_tiff_stack


def frames(n=7, h=12, w=10, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65535, (n, h, w), dtype=np.uint16)


@pytest.mark.parametrize("memmap", [True, False])
def test_tiff_round_trip(tmp_path, memmap):
    data = frames()
    path = write_tiff_stack(tmp_path / "s.tif", data)
    back = read_tiff_stack(path, memmap=memmap)
    assert back.dtype == np.uint16 and back.shape == data.shape
    np.testing.assert_array_equal(back, data)
    if memmap:
        assert isinstance(back, np.memmap)


def test_single_frame_becomes_a_stack(tmp_path):
    data = frames(1)[0]
    tifffile.imwrite(tmp_path / "one.tif", data)
    assert read_tiff_stack(tmp_path / "one.tif").shape == (1, *data.shape)
    write_tiff_stack(tmp_path / "two.tif", data)
    np.testing.assert_array_equal(read_tiff_stack(tmp_path / "two.tif")[0], data)


@pytest.mark.parametrize("compression", [None, "zlib"])
@pytest.mark.parametrize("chunk", [1, 3, 7, 100])
def test_iter_tiff_chunks(tmp_path, compression, chunk):
    data = frames()
    path = tmp_path / "c.tif"
    tifffile.imwrite(path, data, compression=compression)
    chunks = list(iter_tiff_chunks(path, chunk))
    assert [start for start, _ in chunks] == list(range(0, 7, chunk))
    assert all(len(c) <= chunk for _, c in chunks)
    np.testing.assert_array_equal(np.concatenate([c for _, c in chunks]), data)
    assert not any(isinstance(c, np.memmap) for _, c in chunks)  # copies, file may close


def test_compressed_tiff_reads_without_memmap(tmp_path):
    data = frames()
    tifffile.imwrite(tmp_path / "z.tif", data, compression="zlib")
    np.testing.assert_array_equal(read_tiff_stack(tmp_path / "z.tif", memmap=True), data)


def test_malformed_tiff_errors(tmp_path):
    path = write_tiff_stack(tmp_path / "s.tif", frames())
    raw = path.read_bytes()
    (tmp_path / "trunc.tif").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "junk.tif").write_bytes(b"this is not a tiff" * 10)
    for name in ("trunc.tif", "junk.tif"):
        for memmap in (True, False):
            with pytest.raises(ValueError, match=name):
                read_tiff_stack(tmp_path / name, memmap=memmap)
        with pytest.raises(ValueError, match=name):
            list(iter_tiff_chunks(tmp_path / name, 2))
    with pytest.raises(FileNotFoundError, match="missing.tif"):
        read_tiff_stack(tmp_path / "missing.tif")
    with pytest.raises(FileNotFoundError, match="missing.tif"):
        iter_tiff_chunks(tmp_path / "missing.tif", 2)  # checked at the call, before iterating
    with pytest.raises(ValueError, match="chunk_frames"):
        iter_tiff_chunks(path, 0)


def test_write_tiff_rejects_wrong_dtype_and_shape(tmp_path):
    with pytest.raises(TypeError, match="uint16"):
        write_tiff_stack(tmp_path / "f.tif", frames().astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        write_tiff_stack(tmp_path / "f.tif", frames()[None])
    with pytest.raises(TypeError, match="numpy array"):
        write_tiff_stack(tmp_path / "f.tif", [[1, 2]])
    assert not (tmp_path / "f.tif").exists()
