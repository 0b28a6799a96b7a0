"""Cameras by name: the registry behind ``--camera`` options, camera files and checkpoints.

A camera is written as ``{"camera": name, **parameters}`` (:func:`camera_to_dict`) and read back
with :func:`camera_from_dict`; :func:`camera_from_name` builds one from a name and keyword
parameters and :func:`describe_camera` gives one line for logs and provenance.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

import numpy as np

from .base import Camera, IdealCamera
from .emccd import EMCCD
from .scmos import SCMOS

__all__ = ["CAMERA_NAMES", "CAMERA_PARAMETERS", "camera_from_name", "camera_from_dict", "camera_to_dict",
           "camera_name", "camera_parameters", "describe_camera"]

CAMERA_NAMES = ("emccd", "scmos", "ideal")
_CLASSES: dict[str, type] = {"emccd": EMCCD, "scmos": SCMOS, "ideal": IdealCamera}

#: What each camera parameter means, with its unit (help of the ``--camera`` options).
CAMERA_PARAMETERS: dict[str, str] = {
    "qe": "quantum efficiency, in (0, 1]",
    "em_gain": "mean EM gain, electrons out per electron in (EMCCD)",
    "e_per_adu": "electrons per ADU of the converter (EMCCD)",
    "baseline_adu": "offset added to every pixel, in ADU (EMCCD)",
    "read_noise_e": "read-noise standard deviation, in electrons (EMCCD, sCMOS)",
    "spurious_e": "spurious (clock-induced) charge, electrons per pixel per frame (EMCCD)",
    "offset_adu": "offset added to every pixel, in ADU (sCMOS)",
    "gain_adu_per_e": "conversion gain, ADU per electron (sCMOS)",
    "bit_depth": "converter depth in bits; saturation at 2**bit_depth - 1 ADU",
}


def camera_parameters(name: str) -> tuple[str, ...]:
    """Parameter names of the camera called ``name`` (its dataclass fields, in order)."""
    return tuple(f.name for f in fields(_camera_class(name)))


def _camera_class(name: str) -> type:
    key = name.lower() if isinstance(name, str) else name
    if key not in _CLASSES:
        raise ValueError(f"unknown camera {name!r}; choose one of {list(CAMERA_NAMES)}")
    return _CLASSES[key]


def camera_name(camera: Camera) -> str:
    """``"emccd"``, ``"scmos"`` or ``"ideal"``: the name of a camera's model."""
    for name, cls in _CLASSES.items():
        if type(camera) is cls:
            return name
    raise TypeError(f"expected a structloc camera, got {type(camera).__name__}")


def camera_from_name(name: str, **params: Any) -> Camera:
    """A camera model by name: ``"emccd"`` (challenge preset), ``"scmos"`` or ``"ideal"``.

    Extra keyword arguments are passed to the class (e.g. ``qe=0.95``); unknown ones are refused
    with the list of the camera's parameters.
    """
    cls = _camera_class(name)
    allowed = camera_parameters(name)
    unknown = [key for key in params if key not in allowed]
    if unknown:
        raise ValueError(f"the {name.lower()} camera has no parameter {unknown[0]!r}; "
                         f"its parameters are {', '.join(allowed)}")
    return cls(**params)


def camera_from_dict(data: Mapping[str, Any]) -> Camera:
    """Inverse of :func:`camera_to_dict`: ``{"camera": name, **parameters}`` (lists become maps)."""
    if not isinstance(data, Mapping) or "camera" not in data:
        raise ValueError('a camera needs a "camera" entry naming its model '
                         f"({', '.join(CAMERA_NAMES)}) and its parameters")
    params = {k: (np.asarray(v, dtype=np.float64) if isinstance(v, list) else v)
              for k, v in data.items() if k != "camera"}
    return camera_from_name(data["camera"], **params)


def camera_to_dict(camera: Camera) -> dict[str, Any]:
    """``{"camera": name, **parameters}`` in plain python (per-pixel maps as nested lists)."""
    out: dict[str, Any] = {"camera": camera_name(camera)}
    for f in fields(camera):
        value = getattr(camera, f.name)
        out[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
    return out


def describe_camera(camera: Camera) -> str:
    """One line naming a camera and its parameters, e.g. ``scmos (qe=0.8, offset_adu=100, ...)``."""
    def text(value: Any) -> str:
        if isinstance(value, np.ndarray):
            return f"map {value.shape[0]}x{value.shape[1]} (mean {value.mean():g})"
        return f"{value:g}"

    return f"{camera_name(camera)} ({', '.join(f'{f.name}={text(getattr(camera, f.name))}' for f in fields(camera))})"
