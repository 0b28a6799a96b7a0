"""Camera models: expected photons per pixel -> digital image in ADU, and back.

Each camera is a frozen dataclass with the same pipeline of small, overridable steps
(after microsim): ``detect`` (photons -> photoelectrons, Poisson), ``amplify`` (EM gain),
``read`` (read noise, still in electrons), ``digitize`` (electrons -> whole ADU, offset,
saturation). :meth:`Camera.expose` runs them in order on any torch device; :meth:`Camera.mean_adu`
and :meth:`Camera.variance_adu` give the closed-form moments (used by tests and the CRLB) and
:meth:`Camera.to_photons` inverts the mean.

- :mod:`~structloc.camera.base`: the :class:`Camera` interface and the :class:`IdealCamera`;
- :mod:`~structloc.camera.emccd`: :class:`EMCCD` (defaults: the SMLM Challenge 2016 camera);
- :mod:`~structloc.camera.scmos`: :class:`SCMOS` with per-pixel maps;
- :mod:`~structloc.camera.noise`: the exact, vectorised Poisson and Gamma samplers
  (:func:`sample_poisson`, :func:`sample_gamma`; no Gaussian approximations);
- :mod:`~structloc.camera.names`: cameras by name, as dicts and as one line of text.
"""

from __future__ import annotations

from .base import Camera, IdealCamera
from .emccd import EMCCD
from .names import (CAMERA_NAMES, CAMERA_PARAMETERS, camera_from_dict, camera_from_name, camera_name,
                    camera_parameters, camera_to_dict, describe_camera)
from .noise import sample_gamma, sample_poisson
from .scmos import SCMOS

__all__ = [
    "Camera",
    "EMCCD",
    "SCMOS",
    "IdealCamera",
    "camera_from_name",
    "camera_from_dict",
    "camera_to_dict",
    "camera_name",
    "camera_parameters",
    "describe_camera",
    "CAMERA_PARAMETERS",
    "sample_poisson",
    "sample_gamma",
    "CAMERA_NAMES",
]
