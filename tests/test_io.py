"""Tests of structloc.io: CSV formats, TIFF stacks, atomic writes and the shipped MT0 data."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st

from structloc.datasets import mt0_activations_path
from structloc.emitters import Emitters
from structloc.camera import EMCCD, SCMOS, IdealCamera
from structloc.io import (
    atomic_path,
    atomic_write,
    check_output_path,
    read_camera_file,
    write_camera_file,
    detect_csv_format,
    iter_tiff_chunks,
    load_mt0_ground_truth,
    read_localizations,
    read_tiff_stack,
    write_activations_csv,
    write_localizations_csv,
    write_thunderstorm_csv,
    write_tiff_stack,
)

WRITERS = [write_activations_csv, write_localizations_csv, write_thunderstorm_csv]


def sample_emitters(n=50, seed=0, score=False) -> Emitters:
    rng = np.random.default_rng(seed)
    return Emitters(rng.integers(0, 20, n), rng.uniform(0, 6400, n), rng.uniform(0, 6400, n),
                    rng.uniform(-750, 750, n), rng.uniform(0, 40000, n),
                    rng.uniform(0, 1, n) if score else None)


def assert_same(a: Emitters, b: Emitters, atol=1e-5):
    np.testing.assert_array_equal(a.frame, b.frame)
    for name in ("x_nm", "y_nm", "z_nm", "photons"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=atol, rtol=0)


# -- CSV round trips and frame numbering ---------------------------------------------------------
@pytest.mark.parametrize("writer", WRITERS)
def test_csv_round_trip(tmp_path, writer):
    e = sample_emitters()
    path = writer(tmp_path / "t.csv", e)
    assert path == tmp_path / "t.csv"
    assert_same(read_localizations(path), e)


@pytest.mark.parametrize("writer, fmt", zip(WRITERS, ["activations", "localizations", "thunderstorm"]))
def test_files_count_frames_from_one(tmp_path, writer, fmt):
    e = Emitters([0, 4], [10.0, 20.0], [30.0, 40.0], [-5.0, 5.0], [100.0, 200.0])
    path = writer(tmp_path / "t.csv", e)
    lines = path.read_text().splitlines()
    assert detect_csv_format(lines[0]) == fmt
    frame_col = 0 if fmt == "localizations" else 1
    assert [int(line.split(",")[frame_col]) for line in lines[1:]] == [1, 5]
    np.testing.assert_array_equal(read_localizations(path).frame, [0, 4])


def test_localizations_score_round_trip(tmp_path):
    e = sample_emitters(score=True)
    back = read_localizations(write_localizations_csv(tmp_path / "s.csv", e))
    np.testing.assert_allclose(back.score, e.score, rtol=1e-5)
    assert read_localizations(write_localizations_csv(tmp_path / "n.csv", sample_emitters())).score is None


@pytest.mark.parametrize("writer", WRITERS)
def test_empty_table_round_trip(tmp_path, writer):
    back = read_localizations(writer(tmp_path / "e.csv", Emitters.empty()))
    assert len(back) == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**5), st.floats(-1e5, 1e5), st.floats(-1e5, 1e5),
                          st.floats(-2000, 2000), st.floats(0, 1e6)), max_size=20),
       st.sampled_from(WRITERS))
def test_csv_round_trip_property(tmp_path_factory, rows, writer):
    e = Emitters(*(np.array(c) for c in zip(*rows))) if rows else Emitters.empty()
    back = read_localizations(writer(tmp_path_factory.mktemp("p") / "t.csv", e))
    assert_same(back, e, atol=1e-5)


# -- reading files written elsewhere -------------------------------------------------------------
def test_reads_challenge_file_with_spaces(tmp_path):
    path = tmp_path / "gt.csv"
    path.write_text("Ground-truth,frame,xnano,ynano,znano,intensity \n"
                    "    1,  9039, 43.325, 839.830, 340.704, 2473.663 \n"
                    "    2,  9040, 43.325, 839.830, 340.704, 273.371 \n")
    e = read_localizations(path)
    np.testing.assert_array_equal(e.frame, [9038, 9039])
    np.testing.assert_allclose(e.x_nm, [43.325, 43.325])
    np.testing.assert_allclose(e.z_nm, [340.704, 340.704])
    np.testing.assert_allclose(e.photons, [2473.663, 273.371])


def test_reads_thunderstorm_by_column_name(tmp_path):
    path = tmp_path / "ts.csv"
    path.write_text('"id","frame","x [nm]","y [nm]","z [nm]","sigma [nm]","intensity [photon]",'
                    '"offset [photon]","bkgstd [photon]","uncertainty [nm]"\n'
                    "1.0,3.0,1500.5,2200.25,-120.0,130.0,4200.0,10.0,3.0,12.0\n"
                    "2.0,1.0,100.0,200.0,300.0,120.0,800.0,10.0,3.0,20.0\n")
    e = read_localizations(path)
    np.testing.assert_array_equal(e.frame, [2, 0])
    np.testing.assert_allclose(e.x_nm, [1500.5, 100.0])
    np.testing.assert_allclose(e.z_nm, [-120.0, 300.0])
    np.testing.assert_allclose(e.photons, [4200.0, 800.0])
    # column order may differ and z / intensity may be missing (2-D ThunderSTORM: z = 0)
    path.write_text('"y [nm]","frame","x [nm]"\n5.0,2,7.0\n')
    e = read_localizations(path)
    assert (e.frame[0], e.x_nm[0], e.y_nm[0], e.z_nm[0], e.photons[0]) == (1, 7.0, 5.0, 0.0, 0.0)


def test_reads_shipped_mt0_ground_truth():
    ld, hd = load_mt0_ground_truth("LD"), load_mt0_ground_truth("hd")
    assert len(ld) == 24938 and len(hd) == 31612
    assert ld.n_frames == 19996 and hd.n_frames == 2500
    assert ld.frame.min() == 0 and hd.frame.min() == 0
    # first row of the LD file: "1,  9039, 43.325, 839.830, 340.704, 2473.663"
    assert (ld.frame[0], ld.x_nm[0], ld.y_nm[0], ld.z_nm[0]) == (9038, 43.325, 839.830, 340.704)
    for e in (ld, hd):
        assert 0 <= e.x_nm.min() and e.x_nm.max() <= 6400 and 0 <= e.y_nm.min() and e.y_nm.max() <= 6400
        assert -750 < e.z_nm.min() < -600 and 600 < e.z_nm.max() < 750
    assert len(hd) / hd.n_frames == pytest.approx(12.6, abs=0.1)
    with pytest.raises(ValueError, match="LD"):
        load_mt0_ground_truth("XD")


# -- malformed CSV ------------------------------------------------------------------------------
HEADER = "Ground-truth,frame,xnano,ynano,znano,intensity\n"
GOOD = "1, 3, 10.0, 20.0, 30.0, 500.0\n"


@pytest.mark.parametrize("body, message", [
    (GOOD + "2, 3, 10.0, 20.0, 30.0\n", r"line 3: expected 6 comma-separated values, found 5"),
    (GOOD + "2, 3, 10.0, 20.0, 30.0, 5.0, 7\n", r"line 3: expected 6 .* found 7"),
    (GOOD + GOOD + "3, 3, abc, 20.0, 30.0, 5.0\n", r"line 4: column 3: 'abc' is not a number"),
    (GOOD + "2, 3, nan, 20.0, 30.0, 5.0\n", r"line 3: column 3: 'nan' is not a finite number"),
    (GOOD + "2, 0, 1.0, 20.0, 30.0, 5.0\n", r"line 3: frame '0' is not a whole number >= 1"),
    (GOOD + "2, 2.5, 1.0, 20.0, 30.0, 5.0\n", r"line 3: frame '2.5'"),
    (GOOD + "2, 2, 1.0, 20.0, 30.0, -5.0\n", r"line 3: negative photon count"),
    (GOOD + "2, 2, 1.0, 20.0", r"line 3: expected 6"),  # truncated last line
])
def test_malformed_csv_names_file_line_and_problem(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body)
    with pytest.raises(ValueError, match=message) as info:
        read_localizations(path)
    assert "bad.csv" in str(info.value)


def test_unknown_header_empty_and_missing_file(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match=r"odd.csv: line 1: unknown CSV header"):
        read_localizations(path)
    path.write_text("")
    with pytest.raises(ValueError, match="empty file"):
        read_localizations(path)
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        read_localizations(tmp_path / "nothere.csv")
    path.write_text(HEADER)  # header only: valid and empty
    assert len(read_localizations(path)) == 0


def test_binary_file_passed_as_csv_is_named_binary(tmp_path):
    tif = tmp_path / "frames.tif"
    tifffile.imwrite(tif, np.zeros((2, 8, 8), np.uint16))
    with pytest.raises(ValueError, match=r"^\S*frames.tif is a TIFF image, not a CSV text file$"):
        read_localizations(tif)
    blob = tmp_path / "blob.csv"
    blob.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError, match=r"^\S*blob.csv is a binary file, not a CSV text file$"):
        read_localizations(blob)


def test_writers_reject_non_tables(tmp_path):
    with pytest.raises(TypeError, match="Emitters"):
        write_localizations_csv(tmp_path / "x.csv", np.zeros((3, 5)))


# -- atomic writes ------------------------------------------------------------------------------
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


# -- camera files -------------------------------------------------------------------------------
@pytest.mark.parametrize("camera", [EMCCD(em_gain=150.0, baseline_adu=400.0), SCMOS(qe=0.72, offset_adu=96.0),
                                    IdealCamera(qe=0.5), SCMOS.with_random_maps((3, 4), seed=2)],
                         ids=["emccd", "scmos", "ideal", "scmos-maps"])
def test_camera_file_round_trip(tmp_path, camera):
    back = read_camera_file(write_camera_file(tmp_path / "camera.json", camera))
    assert type(back) is type(camera)
    for name in camera.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(back, name), getattr(camera, name))


def test_toml_camera_file_keeps_other_defaults(tmp_path):
    path = tmp_path / "camera.toml"
    path.write_text('camera = "scmos"\nqe = 0.72\ngain_adu_per_e = 0.46\n')
    camera = read_camera_file(path)
    assert isinstance(camera, SCMOS) and camera.qe == 0.72 and camera.gain_adu_per_e == 0.46
    assert camera.offset_adu == SCMOS().offset_adu


@pytest.mark.parametrize("name, text, message", [
    ("c.json", '{"qe": 0.9}', 'needs a "camera" entry'),
    ("c.json", '{"camera": "ccd"}', "unknown camera 'ccd'"),
    ("c.json", '{"camera": "scmos", "em_gain": 3}', "the scmos camera has no parameter 'em_gain'; its parameters are qe,"),
    ("c.json", '{"camera": "emccd", "qe": 1.5}', r"EMCCD.qe must be in \(0, 1\]"),
    ("c.json", '{"camera": "emccd",', "not a valid JSON camera file"),
    ("c.toml", 'camera = scmos', "not a valid TOML camera file"),
    ("c.toml", "II*\x00\x08\x00", "is a TIFF image, not a JSON or TOML text file"),
])
def test_bad_camera_files_name_the_file_and_problem(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        read_camera_file(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    with pytest.raises(FileNotFoundError):
        read_camera_file(tmp_path / "none.toml")
    with pytest.raises(ValueError, match="written as JSON; give a .json path"):
        write_camera_file(tmp_path / "c.toml", EMCCD())


# -- TIFF ---------------------------------------------------------------------------------------
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


def test_mt0_path_is_the_shipped_file():
    assert mt0_activations_path("LD").is_file()
