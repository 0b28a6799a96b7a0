"""Interpolated PSF: the bead z-stack itself as the PSF model, and how well each model fits the beads.

The Gaussian model of :mod:`structloc.psf` describes a spot by two widths and a centre drift. A
real PSF has more shape than that (side lobes, a skewed core, heavier wings), which is why
SMAP and DECODE use the measured bead images themselves, interpolated. This module does the same:

* :class:`InterpolatedPSF` holds one *template* per z slice of the stack: the average of the
  beads' background-subtracted images, each shifted (cubic spline) so that the bead's **listed**
  position lies at the centre of the template's central pixel, so that the templates carry the
  centre drift themselves (ground truth is the emitter, as for :class:`~structloc.psf.AstigmaticPSF`).
  An emitter at ``(x, y, z)`` is rendered by interpolating the templates linearly in z between
  the two neighbouring slices and shifting the result to the emitter's sub-pixel position with
  cubic B-spline interpolation (the order-3 spline of :func:`scipy.ndimage.shift`); z beyond the
  stack uses the end slices. It implements the :class:`structloc.psf.PSF` protocol, so
  :func:`structloc.psf.render` and :mod:`structloc.simulate` take it as they take the Gaussian.
* :func:`psf_residuals` measures, slice by slice, how much of each bead's signal each model
  leaves unexplained: the Gaussian with its drift, and the interpolated PSF built from the
  *other* beads (leave one bead out, so no bead is compared with itself).

The study (chapter 6), training (:class:`structloc.train.TrainConfig` takes an
:class:`~structloc.psf.AstigmaticPSF` only) and the Cramer-Rao bound (:mod:`structloc.crlb`)
keep the Gaussian model; the interpolated PSF is what to simulate a real microscope's frames with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field as dataclass_field, replace

import numpy as np
import torch
from scipy import ndimage

from .calibration import BeadCalibration, fit_bead_stack
from .checks import integer_at_least
from .drift import fit_centre_drift
from .emitters import Emitters
from .field import Field
from .psf import render

__all__ = ["InterpolatedPSF", "PSFResiduals", "Z_WINDOW_SLICES", "psf_residuals"]

#: Slices averaged along z (a centred moving average) when templates are built from beads: 5
#: slices of the shipped 10 nm stack, 50 nm, well below the ~300 nm depth of focus; it lowers the
#: noise of the templates (and the bias of clipping it at zero) by about sqrt(5).
Z_WINDOW_SLICES = 5
#: Zeros around each template before its spline coefficients are computed, in pixels: the
#: coefficients of a template that ends in zeros decay by ~0.27 per pixel beyond it.
_PAD_PX = 3
#: Emitters rendered at once (bounds the temporaries: ~50 kB per emitter for 31 px templates).
_EMITTER_CHUNK = 1024


def _cubic_bspline_weights(frac: torch.Tensor) -> torch.Tensor:
    """Weights ``(N, 4)`` of the cubic B-spline at ``2 - f, 1 - f, -f, -1 - f`` for fractions f in [0, 1)."""
    f = frac.unsqueeze(-1)
    g = 1.0 - f
    return torch.cat([f**3 / 6, 2.0 / 3.0 - g**2 + g**3 / 2, 2.0 / 3.0 - f**2 + f**3 / 2, g**3 / 6], dim=-1)


def _four_taps(values: torch.Tensor, weights: torch.Tensor, n_out: int, dim: int) -> torch.Tensor:
    """``out[..., q, ...] = sum_t weights[:, t] * values[..., q + t, ...]`` along ``dim`` (1 or 2)."""
    def window(t: int) -> torch.Tensor:
        return values.narrow(dim, t, n_out)

    out = weights[:, 0, None, None] * window(0)
    for t in range(1, 4):
        out.addcmul_(weights[:, t, None, None], window(t))
    return out


@dataclass(frozen=True, eq=False)
class InterpolatedPSF:
    """A PSF given by measured templates on a z grid (see the module docstring).

    Parameters
    ----------
    templates : array_like, shape (n_z, R, R)
        Fraction of an emitter's photons in each pixel, per z slice, with the emitter at the
        centre of pixel ``(R // 2, R // 2)`` (R odd). Non-negative; each slice is normalised to
        sum 1 on construction, so photons beyond the ``R x R`` patch are not modelled.
    z_nm : array_like, shape (n_z,)
        Axial position of each slice, in nm, strictly increasing.
    pixel_nm : float
        Pixel size of the templates in nm; frames rendered with this PSF must have the same.

    Notes
    -----
    Rendering: linear interpolation in z between the two neighbouring slices (z outside
    ``[z_nm[0], z_nm[-1]]`` clamps to the end slice), then a cubic B-spline shift to the
    emitter's sub-pixel position; the shifted patch (``R + 2 * 3 + 3`` pixels wide, the spline's
    support) is added into the frame, and what falls outside the frame is lost. The spline
    weights sum to one, so a shift keeps a patch's sum; its small negative ringing (next to
    pixels the noise clipping set to zero, at most ~0.4 % of the photons at the noisy ends of the
    shipped stack, ~0.03 % typically) is set to zero and the patch rescaled to the emitter's
    photons, so an emitter well inside the frame renders to exactly its photons. Works on any
    torch device and dtype; frames are sums of patches added with ``index_put_(accumulate=True)``
    (deterministic on the CPU).
    """

    templates: np.ndarray
    z_nm: np.ndarray
    pixel_nm: float = 100.0
    _coefficients: np.ndarray = dataclass_field(init=False, repr=False)
    _on_device: dict = dataclass_field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        templates = np.array(self.templates, dtype=np.float64)
        if templates.ndim != 3 or templates.shape[1] != templates.shape[2] or templates.shape[1] % 2 == 0:
            raise ValueError(f"InterpolatedPSF.templates must have shape (n_z, R, R) with R odd, "
                             f"got {templates.shape}")
        if templates.shape[0] == 0 or templates.shape[1] < 3:
            raise ValueError(f"InterpolatedPSF.templates needs >= 1 slice of >= 3 x 3 pixels, got {templates.shape}")
        if not np.all(np.isfinite(templates)) or np.any(templates < 0):
            raise ValueError("InterpolatedPSF.templates must be finite and non-negative")
        sums = templates.sum(axis=(1, 2))
        if np.any(sums <= 0):
            raise ValueError(f"InterpolatedPSF.templates has empty slices: {np.flatnonzero(sums <= 0).tolist()}")
        z = np.array(self.z_nm, dtype=np.float64)
        if z.shape != (templates.shape[0],) or not np.all(np.isfinite(z)):
            raise ValueError(f"InterpolatedPSF.z_nm must be {templates.shape[0]} finite values (one per slice), "
                             f"got shape {z.shape}")
        if np.any(np.diff(z) <= 0):
            raise ValueError("InterpolatedPSF.z_nm must be strictly increasing")
        if isinstance(self.pixel_nm, bool) or not (isinstance(self.pixel_nm, (int, float))
                                                   and math.isfinite(self.pixel_nm) and self.pixel_nm > 0):
            raise ValueError(f"InterpolatedPSF.pixel_nm must be positive and finite, got {self.pixel_nm!r}")
        templates /= sums[:, None, None]
        padded = np.pad(templates, ((0, 0), (_PAD_PX, _PAD_PX), (_PAD_PX, _PAD_PX)))
        coefficients = np.stack([ndimage.spline_filter(t, order=3, mode="mirror") for t in padded])
        coefficients /= coefficients.sum(axis=(1, 2), keepdims=True)  # the rendered patch sums to 1
        for name, value in (("templates", templates), ("z_nm", z), ("_coefficients", coefficients)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "pixel_nm", float(self.pixel_nm))

    @classmethod
    def from_beads(cls, calibration: BeadCalibration | None = None, *, beads=None,
                   z_window_slices: int = Z_WINDOW_SLICES) -> InterpolatedPSF:
        """Templates from a bead z-stack calibration.

        Per slice: each bead's ROI minus its fitted background (photons), shifted with a cubic
        spline so that the bead's reference position (``calibration.bead_x_nm - offset_x_nm``:
        the listed position for the shipped stack) lies at the centre of the central pixel,
        normalised to sum 1; the average over beads; a centred moving average over
        ``z_window_slices`` slices; negative values (noise in the wings) set to zero; normalised.

        Parameters
        ----------
        calibration : BeadCalibration, optional
            Result of :func:`structloc.calibration.fit_bead_stack` (default: the shipped stack,
            31 x 31 px ROIs). Its ROI size is the template size.
        beads : sequence of int, optional
            Which beads to average (default: all); :func:`psf_residuals` leaves one out.
        z_window_slices : int
            Odd number of slices of the z moving average (1: none).

        Returns
        -------
        InterpolatedPSF
        """
        calibration = _calibration(calibration)
        return cls(templates=_bead_templates(_centred_beads(calibration), beads, z_window_slices),
                   z_nm=calibration.z_nm, pixel_nm=calibration.pixel_nm)

    def __repr__(self) -> str:
        return (f"InterpolatedPSF({self.templates.shape[0]} slices, z {self.z_nm[0]:g} to {self.z_nm[-1]:g} nm, "
                f"{self.size_px} x {self.size_px} px of {self.pixel_nm:g} nm)")

    @property
    def size_px(self) -> int:
        """Side of the templates in pixels."""
        return int(self.templates.shape[-1])

    def _coefficients_on(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        key = (str(device), dtype)
        if key not in self._on_device:
            self._on_device[key] = torch.tensor(np.array(self._coefficients), dtype=dtype, device=device)
        return self._on_device[key]

    def render_padded(self, x_nm: torch.Tensor, y_nm: torch.Tensor, z_nm: torch.Tensor, photons: torch.Tensor,
                      *, field: Field) -> torch.Tensor:
        """Expected photon images of padded emitters (see :func:`structloc.psf.render_padded`)."""
        if not math.isclose(field.pixel_nm, self.pixel_nm, rel_tol=1e-9):
            raise ValueError(f"InterpolatedPSF has {self.pixel_nm:g} nm pixels but the field has "
                             f"{field.pixel_nm:g} nm pixels")
        n_batch = x_nm.shape[0]
        height, width = field.height_px, field.width_px
        coef = self._coefficients_on(x_nm.device, x_nm.dtype)  # (n_z, P, P)
        n_z, size = coef.shape[0], coef.shape[-1]
        patch = size + 3  # Q: columns reached by the 4-tap spline from P coefficients
        margin = patch
        buf_h, buf_w = height + 2 * margin, width + 2 * margin
        out = torch.zeros((n_batch, buf_h, buf_w), dtype=x_nm.dtype, device=x_nm.device)
        frame, slot = torch.nonzero(photons != 0, as_tuple=True)
        # pixel-centre coordinates (pixel k has its centre at k); coefficient P // 2 sits on the
        # emitter, so the patch starts at frame column floor(x) - P // 2 - 1 (and likewise rows)
        x = x_nm[frame, slot] / self.pixel_nm - 0.5
        y = y_nm[frame, slot] / self.pixel_nm - 0.5
        col0, row0 = torch.floor(x), torch.floor(y)
        left, top = col0 - (size // 2 + 1), row0 - (size // 2 + 1)
        inside = (left > -patch) & (left < width) & (top > -patch) & (top < height)
        frame, slot, x, y, col0, row0, left, top = (t[inside] for t in (frame, slot, x, y, col0, row0, left, top))
        z_grid = torch.tensor(np.array(self.z_nm), dtype=x_nm.dtype, device=x_nm.device)
        z = z_nm[frame, slot].clamp(z_grid[0], z_grid[-1])
        if n_z == 1:
            lower = upper = torch.zeros_like(frame)
            weight = torch.zeros_like(z)
        else:
            upper = torch.searchsorted(z_grid, z.contiguous()).clamp(1, n_z - 1)
            lower = upper - 1
            weight = (z - z_grid[lower]) / (z_grid[upper] - z_grid[lower])
        taps = torch.arange(patch, device=x_nm.device)
        for start in range(0, frame.numel(), _EMITTER_CHUNK):
            part = slice(start, start + _EMITTER_CHUNK)
            c = torch.lerp(coef[lower[part]], coef[upper[part]], weight[part, None, None])
            c = torch.nn.functional.pad(c, (3, 3, 3, 3))  # (N, P + 6, P + 6)
            along_x = _four_taps(c, _cubic_bspline_weights(x[part] - col0[part]), patch, dim=2)  # (N, P + 6, Q)
            image = _four_taps(along_x, _cubic_bspline_weights(y[part] - row0[part]), patch, dim=1).clamp_(min=0)
            scale = photons[frame[part], slot[part]] / image.sum(dim=(1, 2)).clamp_(min=1e-30)
            image *= scale[:, None, None]  # (N, Q, Q), each patch sums to its photons
            rows = (frame[part] * buf_h + top[part].long() + margin)[:, None] + taps  # (N, Q)
            columns = (left[part].long() + margin)[:, None] + taps
            index = (rows[:, :, None] * buf_w + columns[:, None, :]).reshape(-1)
            out.view(-1).index_put_((index,), image.reshape(-1), accumulate=True)
        return out[:, margin:margin + height, margin:margin + width].contiguous()


def _calibration(calibration) -> BeadCalibration:
    """The shipped stack's calibration for None; a one-line TypeError for anything else."""
    calibration = fit_bead_stack() if calibration is None else calibration
    if not isinstance(calibration, BeadCalibration):
        raise TypeError(f"calibration must be a BeadCalibration (from fit_bead_stack), got {type(calibration).__name__}")
    return calibration


def _centred_beads(calibration: BeadCalibration) -> np.ndarray:
    """Background-subtracted bead ROIs ``(n_z, n_beads, R, R)``, each shifted so that the bead's
    reference position is at the centre of the central pixel and normalised to sum 1."""
    signal = calibration.roi_photons - calibration.bead_background[:, :, None, None]
    n_z, n_beads, size, _ = signal.shape
    pixel, origin = calibration.pixel_nm, calibration.roi_origin_px
    ref_x = calibration.bead_x_nm - calibration.offset_x_nm  # (n_z, n_beads), constant along z
    ref_y = calibration.bead_y_nm - calibration.offset_y_nm
    col = ref_x / pixel - origin[:, 1] - 0.5  # pixel-centre coordinates inside the ROI
    row = ref_y / pixel - origin[:, 0] - 0.5
    centred = np.empty_like(signal)
    for k in range(n_z):
        for b in range(n_beads):
            centred[k, b] = ndimage.shift(signal[k, b], (size // 2 - row[k, b], size // 2 - col[k, b]),
                                          order=3, mode="grid-constant")
    return centred / centred.sum(axis=(2, 3), keepdims=True)


def _bead_templates(centred: np.ndarray, beads, z_window_slices: int) -> np.ndarray:
    n_beads = centred.shape[1]
    if integer_at_least("z_window_slices", z_window_slices) % 2 == 0:
        raise ValueError(f"z_window_slices must be an odd positive integer, got {z_window_slices!r}")
    chosen = np.arange(n_beads) if beads is None else np.asarray(beads)
    if chosen.ndim != 1 or chosen.size == 0 or not np.issubdtype(chosen.dtype, np.integer) \
            or np.any((chosen < 0) | (chosen >= n_beads)) or np.unique(chosen).size != chosen.size:
        raise ValueError(f"beads must be distinct bead indices in [0, {n_beads}), got {beads!r}")
    mean = centred[:, chosen].mean(axis=1)
    smooth = ndimage.uniform_filter1d(mean, int(z_window_slices), axis=0, mode="nearest")
    return np.clip(smooth, 0.0, None)


@dataclass(frozen=True, eq=False)
class PSFResiduals:
    """Result of :func:`psf_residuals`; per-bead arrays have shape ``(n_z, n_beads)``.

    Attributes
    ----------
    z_nm : np.ndarray, shape (n_z,)
        Axial position of each slice, in nm.
    gaussian, interpolated : np.ndarray
        Fraction of the bead's signal energy left in the residual, ``sum (data - model)^2 /
        sum (data - background)^2`` over the ROI, for the Gaussian + drift model and for the
        interpolated PSF built from the other beads.
    noise_floor : np.ndarray
        The same fraction expected from camera noise alone for a perfect model:
        ``2 sum(data) / sum (data - background)^2`` (EMCCD excess noise factor 2, in photons).
    gaussian_images, interpolated_images : np.ndarray, shape (n_z, n_beads, R, R)
        The fitted model images (photons per pixel, background included), beside
        ``calibration.roi_photons``.
    """

    z_nm: np.ndarray
    gaussian: np.ndarray
    interpolated: np.ndarray
    noise_floor: np.ndarray
    gaussian_images: np.ndarray
    interpolated_images: np.ndarray


def _fit_scale_and_background(shapes: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Least-squares ``a * shape + b`` of each ``(R, R)`` image to its data; the model images."""
    m = shapes.shape[0]
    s, d = shapes.reshape(m, -1), data.reshape(m, -1)
    s_mean, d_mean = s.mean(axis=1, keepdims=True), d.mean(axis=1, keepdims=True)
    scale = np.sum((s - s_mean) * (d - d_mean), axis=1, keepdims=True) / np.sum((s - s_mean) ** 2, axis=1,
                                                                                 keepdims=True)
    background = d_mean - scale * s_mean
    return (scale * s + background).reshape(shapes.shape)


def psf_residuals(calibration: BeadCalibration | None = None) -> PSFResiduals:
    """How much of each bead's image each PSF model leaves unexplained, per z slice.

    Both models place the emitter at the bead's reference position (the listed position for the
    shipped stack) and z at the slice's; photons and a constant background are then fitted by
    linear least squares to the bead's ROI, the same for both. Each bead is compared with models
    that have not seen it: the Gaussian's widths are the calibration's (a smooth 10-parameter
    fit to all beads), its centre drift is refitted to the other beads, and the interpolated PSF
    is :meth:`InterpolatedPSF.from_beads` of the other beads. Needs at least two beads.

    Parameters
    ----------
    calibration : BeadCalibration, optional
        Default: :func:`structloc.calibration.fit_bead_stack` of the shipped stack.

    Returns
    -------
    PSFResiduals
    """
    calibration = _calibration(calibration)
    rois = calibration.roi_photons
    n_z, n_beads, size, _ = rois.shape
    if n_beads < 2:
        raise ValueError("psf_residuals leaves one bead out and needs at least two beads")
    pixel, z = calibration.pixel_nm, calibration.z_nm
    roi_field = Field(width_px=size, height_px=size, pixel_nm=pixel)
    knots = calibration.drift.z_nm
    knot_step = float(knots[1] - knots[0]) if knots.size > 1 else float(np.ptp(z)) or 1.0
    centred = _centred_beads(calibration)
    gaussian_images, interpolated_images = np.empty_like(rois), np.empty_like(rois)
    for bead in range(n_beads):
        others = np.delete(np.arange(n_beads), bead)
        drift = fit_centre_drift(z, calibration.offset_x_nm[:, others], calibration.offset_y_nm[:, others],
                                 knot_step_nm=knot_step)
        gaussian = replace(calibration.psf, drift_z_nm=tuple(drift.z_nm), drift_x_nm=tuple(drift.x_nm),
                           drift_y_nm=tuple(drift.y_nm))
        interpolated = InterpolatedPSF(_bead_templates(centred, others, Z_WINDOW_SLICES), z, pixel)
        origin = calibration.roi_origin_px[bead]
        emitters = Emitters(
            frame=np.arange(n_z),
            x_nm=calibration.bead_x_nm[:, bead] - calibration.offset_x_nm[:, bead] - origin[1] * pixel,
            y_nm=calibration.bead_y_nm[:, bead] - calibration.offset_y_nm[:, bead] - origin[0] * pixel,
            z_nm=z, photons=np.ones(n_z),
        )
        for model, images in ((gaussian, gaussian_images), (interpolated, interpolated_images)):
            shapes = render(emitters, n_z, psf=model, field=roi_field, dtype=torch.float64).numpy()
            images[:, bead] = _fit_scale_and_background(shapes, rois[:, bead])
    signal_energy = np.sum((rois - calibration.bead_background[:, :, None, None]) ** 2, axis=(2, 3))
    return PSFResiduals(
        z_nm=z,
        gaussian=np.sum((rois - gaussian_images) ** 2, axis=(2, 3)) / signal_energy,
        interpolated=np.sum((rois - interpolated_images) ** 2, axis=(2, 3)) / signal_energy,
        noise_floor=2 * rois.sum(axis=(2, 3)) / signal_energy,
        gaussian_images=gaussian_images,
        interpolated_images=interpolated_images,
    )
