"""Tests of structloc.camera.names: cameras by name, as dicts and as one line."""

import pytest

from structloc.camera import (
    CAMERA_PARAMETERS, EMCCD, SCMOS, camera_from_dict, camera_from_name, camera_name, camera_parameters,
    camera_to_dict, describe_camera,
)


def test_camera_from_name():
    assert isinstance(camera_from_name("emccd"), EMCCD)
    assert isinstance(camera_from_name("sCMOS"), SCMOS)
    assert camera_from_name("ideal", qe=0.5).qe == 0.5
    with pytest.raises(ValueError, match="unknown camera"):
        camera_from_name("ccd")
    with pytest.raises(ValueError, match="the ideal camera has no parameter 'em_gain'; its parameters are qe, bit_depth"):
        camera_from_name("ideal", em_gain=3.0)




def test_camera_dicts_and_descriptions():
    for name in ("emccd", "scmos", "ideal"):
        assert set(camera_parameters(name)) <= set(CAMERA_PARAMETERS)  # every parameter has its help text
        camera = camera_from_name(name)
        assert camera_name(camera) == name and camera_to_dict(camera)["camera"] == name
        assert camera_from_dict(camera_to_dict(camera)) == camera or name == "scmos"  # SCMOS compares by identity
    assert describe_camera(SCMOS()) == "scmos (qe=0.8, offset_adu=100, gain_adu_per_e=0.5, read_noise_e=1.6, bit_depth=16)"
    assert "offset_adu=map 2x3 (mean" in describe_camera(SCMOS.with_random_maps((2, 3)))
    with pytest.raises(TypeError, match="structloc camera"):
        camera_name(object())
