"""The Cramer-Rao bound of every emitter in its own frame: with its neighbours and the frame's edges.

:func:`structloc.crlb.crlb` bounds an *isolated* emitter in the middle of a 41 px region that
holds its whole PSF. On a simulated or real frame an emitter may be neither: a neighbour's PSF
overlaps its own, so the two positions are estimated together and trade information; near the
frame's edge part of its PSF falls outside the camera (a defocused spot at z = -750 nm is about
2 um wide along y, so on a 6.4 um frame a third of the emitters lose some of it). This module
computes the bound that an estimator which knows how many emitters a frame holds could reach:
the Fisher information of *all* parameters of the frame at once,

    theta = (x_1, y_1, z_1, N_1, ..., x_K, y_K, z_K, N_K, b),

from the expected image ``mu = b + sum_k N_k PSF_k`` over the frame's own pixels,

    I_jl = sum_pixels (d mu / d theta_j) (d mu / d theta_l) / v(mu),

with the noise variance ``v`` of :class:`structloc.crlb.CRLBSetup` (``2 mu`` for an EMCCD at high
gain). The bound of emitter k's x is ``sqrt((I^-1)_{x_k x_k})``: it includes what the neighbours
and the shared background cost. Emitters the frame cannot tell apart (two at the same position)
have no finite bound: their Fisher matrix is singular along the direction that exchanges them, and
their bounds are ``inf``.

For one emitter in the middle of a frame as large as the isolated bound's ROI, the two bounds are
the same (``tests/test_frame_crlb.py``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .checks import nonnegative_float
from .crlb import CRLB, CRLBSetup, spot_derivatives
from .emitters import Emitters
from .field import Field
from .memory import check_fits

__all__ = ["frame_crlb", "crowding_factor", "FRAME_PARAMETERS"]

#: Parameters of each emitter in the frame's Fisher matrix (the frame adds one background).
FRAME_PARAMETERS = ("x_nm", "y_nm", "z_nm", "photons")
#: Eigenvalues of the normalised Fisher matrix below this fraction of the largest carry no information.
_SINGULAR = 1e-10


def frame_crlb(emitters: Emitters, *, field: Field, background_photons: float,
               setup: CRLBSetup | None = None) -> CRLB:
    """Cramer-Rao bound of every emitter, estimated jointly with the rest of its frame.

    Parameters
    ----------
    emitters : Emitters
        The true emitters (positions in nm from the top-left corner of pixel (0, 0), frames from 0,
        photons > 0). Emitters outside the frame take part with the light they put into it.
    field : Field
        Frame size and pixel size (``field.pixel_nm`` replaces the setup's).
    background_photons : float
        Uniform background of every frame, photons per pixel (>= 0); estimated as one unknown per
        frame.
    setup : CRLBSetup, optional
        PSF and camera noise model (default ``CRLBSetup(noise="emccd")``: the default PSF, the
        challenge EMCCD); its ``roi_px`` is not used; an sCMOS read noise must be a scalar.

    Returns
    -------
    CRLB
        One entry per emitter, in the order of ``emitters``: x_nm, y_nm, z_nm (nm), photons, and
        ``background``, the bound of its frame's background (photons per pixel). ``inf`` for
        emitters that cannot be told apart from another.

    Raises
    ------
    ValueError
        For non-positive photons, a negative or non-finite background, or a frame whose Fisher
        computation would not fit in the memory available now.
    """
    setup = CRLBSetup(noise="emccd") if setup is None else setup
    if not isinstance(setup, CRLBSetup):
        raise TypeError(f"setup must be a CRLBSetup, got {type(setup).__name__}")
    if setup.read_noise_photons is not None and np.ndim(setup.read_noise_photons) != 0:
        raise ValueError("frame_crlb needs a scalar sCMOS read noise (a per-pixel map belongs to a ROI)")
    if not isinstance(field, Field):
        raise TypeError(f"field must be a Field, got {type(field).__name__}")
    background = nonnegative_float("background_photons", background_photons)
    n = len(emitters)
    photons = np.asarray(emitters.photons, np.float64)
    if n and not np.all(np.isfinite(photons) & (photons > 0)):
        raise ValueError("every emitter needs a positive, finite photon count")
    out = np.full((n, len(FRAME_PARAMETERS) + 1), np.inf)
    if n == 0:
        return CRLB(*(out[:, k] for k in range(out.shape[1])))
    frames = np.asarray(emitters.frame, np.int64)
    largest = int(np.bincount(frames - frames.min()).max())
    check_fits(8.0 * 3 * (4 * largest + 1) * field.height_px * field.width_px,
               f"the Fisher matrix of a frame of {field.width_px} x {field.height_px} px with {largest} emitters")
    order = np.argsort(frames, kind="stable")
    starts = np.r_[0, np.nonzero(np.diff(frames[order]))[0] + 1, n]
    for a, b in zip(starts[:-1], starts[1:]):
        rows = order[a:b]
        out[rows] = _one_frame(emitters.x_nm[rows], emitters.y_nm[rows], emitters.z_nm[rows], photons[rows],
                               field, background, setup)
    return CRLB(*(out[:, k] for k in range(out.shape[1])))


def crowding_factor(emitters: Emitters, *, field: Field, background_photons: float,
                    setup: CRLBSetup | None = None) -> np.ndarray:
    """What its frame costs each emitter: volumetric bound in the frame over the bound alone.

    About 1 for an emitter with nothing near it and its whole PSF on the camera; larger where a
    neighbour or the frame's edge takes information away; ``inf`` where a neighbour sits where the
    frame cannot tell the two apart. Arguments as :func:`frame_crlb`; the isolated bound is
    :meth:`structloc.crlb.CRLBSetup.crlb` at the emitter's own depth and photons, on the field's
    pixels.

    Returns
    -------
    np.ndarray of float64, shape (len(emitters),)
    """
    setup = CRLBSetup(noise="emccd") if setup is None else setup
    in_frame = frame_crlb(emitters, field=field, background_photons=background_photons, setup=setup)
    if len(emitters) == 0:
        return np.zeros(0)
    alone = replace(setup, pixel_nm=field.pixel_nm).crlb(emitters.z_nm, photons=emitters.photons,
                                                         background=float(background_photons))
    return in_frame.volumetric_nm / np.asarray(alone.volumetric_nm, np.float64).reshape(len(emitters))


def _one_frame(x_nm, y_nm, z_nm, photons, field: Field, background: float, setup: CRLBSetup) -> np.ndarray:
    """Bounds (K, 5) of the K emitters of one frame: x, y, z, photons, then the frame's background."""
    signal, d_dx, d_dy, d_dz = spot_derivatives(setup.psf, x_nm, y_nm, z_nm, field.width_px, field.height_px,
                                                field.pixel_nm)  # each (K, H, W)
    n = photons[:, None, None]
    k = len(photons)
    jac = np.empty((4 * k + 1, field.height_px * field.width_px))
    for offset, derivative in enumerate((n * d_dx, n * d_dy, n * d_dz, signal)):
        jac[offset:4 * k:4] = derivative.reshape(k, -1)
    jac[-1] = 1.0
    mu = (n * signal).sum(axis=0).ravel() + background
    var = setup.noise_variance(mu)
    weight = np.divide(1.0, var, out=np.zeros_like(var), where=var > 0)
    fisher = (jac * weight) @ jac.T
    bounds = np.sqrt(_inverse_diagonal(fisher))
    per_emitter = bounds[:-1].reshape(k, 4)
    return np.c_[per_emitter, np.full(k, bounds[-1])]


def _inverse_diagonal(fisher: np.ndarray) -> np.ndarray:
    """Diagonal of ``fisher^-1`` for a symmetric positive semi-definite matrix; ``inf`` for every
    parameter that a direction without information (a null eigenvector) involves."""
    diag = np.diagonal(fisher).copy()
    dead = ~(diag > 0)
    scale = np.sqrt(np.where(dead, 1.0, diag))
    normed = fisher / np.outer(scale, scale)
    normed[dead, :] = 0.0
    normed[:, dead] = 0.0
    values, vectors = np.linalg.eigh(normed)
    null = values <= _SINGULAR * max(float(values.max()), 0.0)
    weight = vectors ** 2
    inverse = (weight[:, ~null] / values[~null]).sum(axis=1) / scale ** 2
    involved = weight[:, null].sum(axis=1) > 1e-8
    return np.where(dead | involved, np.inf, inverse)
