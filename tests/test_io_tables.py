"""Tests of structloc.io.tables: CSV formats, frame numbering and the shipped MT0 ground truth."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st

from structloc.datasets import mt0_activations_path
from structloc.emitters import Emitters
from structloc.io import (
    detect_csv_format,
    load_mt0_ground_truth,
    read_localizations,
    write_activations_csv,
    write_localizations_csv,
    write_thunderstorm_csv,
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


def test_mt0_path_is_the_shipped_file():
    assert mt0_activations_path("LD").is_file()
