"""Tests of structloc.io.camera_files: JSON and TOML camera files."""

from __future__ import annotations

import numpy as np
import pytest

from structloc.camera import EMCCD, SCMOS, IdealCamera
from structloc.io import read_camera_file, write_camera_file


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
