"""Super-resolution reconstructions and the checkerboard (sub-pixel bias) measure.

A localizer that snaps positions towards pixel or output-bin centres leaves a periodic pattern in
the reconstruction: the *checkerboard artifact*. It is measured here on the fractional part of the
localizations, ``frac = (x mod period) / period``: for unbiased localizations of a structure that
is not itself aligned to the grid, ``frac`` is uniform on [0, 1). The histogram of ``frac`` (x and
y pooled) is compared with the uniform distribution by Pearson's chi-square statistic, whose
expected value under no bias is ``bins - 1``. The reported ``checkerboard`` index is the
chi-square divided by its degrees of freedom: about 1 without bias, much larger with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .emitters import Emitters
from .field import Field

__all__ = ["Reconstruction", "render_histogram", "render_gaussian", "SubpixelBias", "subpixel_bias"]


@dataclass(frozen=True)
class Reconstruction:
    """A rendered super-resolution image.

    Attributes
    ----------
    image : np.ndarray, shape (H, W)
        Localization density (counts, or Gaussian-blurred counts) per render pixel.
    z_nm : np.ndarray, shape (H, W)
        Mean z in nm of the localizations in each render pixel (NaN where empty).
    pixel_nm : float
        Render pixel size in nm.
    """

    image: np.ndarray
    z_nm: np.ndarray
    pixel_nm: float

    def extent_nm(self) -> tuple[float, float, float, float]:
        """``(left, right, bottom, top)`` in nm for ``matplotlib.imshow(..., extent=...)``."""
        h, w = self.image.shape
        return (0.0, w * self.pixel_nm, h * self.pixel_nm, 0.0)


def _check_positive(name: str, value: float) -> None:
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")


def render_histogram(
    locs: Emitters, *, field: Field | None = None, pixel_nm: float = 10.0
) -> Reconstruction:
    """2D histogram of localizations over the field, with the mean z of each bin.

    Parameters
    ----------
    locs : Emitters
        Localizations (any number of frames); positions in nm.
    field : Field, optional
        Field whose lateral extent is rendered (default 64 x 64 px of 100 nm).
    pixel_nm : float
        Render pixel size in nm (default 10 nm).
    """
    field = field or Field()
    _check_positive("pixel_nm", pixel_nm)
    w = int(np.ceil(field.width_nm / pixel_nm))
    h = int(np.ceil(field.height_nm / pixel_nm))
    edges = (np.arange(h + 1) * pixel_nm, np.arange(w + 1) * pixel_nm)
    counts, _, _ = np.histogram2d(locs.y_nm, locs.x_nm, bins=edges)
    z_sum, _, _ = np.histogram2d(locs.y_nm, locs.x_nm, bins=edges, weights=locs.z_nm)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_mean = np.where(counts > 0, z_sum / np.maximum(counts, 1), np.nan)
    return Reconstruction(counts, z_mean, float(pixel_nm))


def render_gaussian(
    locs: Emitters, *, field: Field | None = None, pixel_nm: float = 10.0, sigma_nm: float = 10.0
) -> Reconstruction:
    """Histogram rendering blurred by a Gaussian of ``sigma_nm`` (the usual SMLM display).

    The blur is applied to the counts and to the z-weighted counts alike, so that ``z_nm``
    stays a local mean.
    """
    from scipy.ndimage import gaussian_filter

    if not (np.isfinite(sigma_nm) and sigma_nm >= 0):
        raise ValueError(f"sigma_nm must be non-negative and finite, got {sigma_nm!r}")
    hist = render_histogram(locs, field=field, pixel_nm=pixel_nm)
    sigma_px = sigma_nm / pixel_nm
    image = gaussian_filter(hist.image, sigma_px)
    z_weighted = gaussian_filter(np.nan_to_num(hist.z_nm) * hist.image, sigma_px)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_mean = np.where(image > 1e-12, z_weighted / image, np.nan)
    return Reconstruction(image, z_mean, float(pixel_nm))


@dataclass(frozen=True)
class SubpixelBias:
    """Distribution of localization positions modulo a grid period, compared with uniform.

    Attributes
    ----------
    period_nm : float
        Grid period in nm (100 nm camera pixel, 25 nm output bin, ...).
    histogram : np.ndarray, shape (bins,)
        Counts of ``(position mod period) / period`` over ``bins`` equal bins, x and y pooled.
    chi2 : float
        Pearson chi-square statistic against the uniform distribution.
    dof : int
        Degrees of freedom (``bins - 1``); the expected chi-square without bias.
    p_value : float
        Probability of a chi-square at least this large without bias.
    kl_divergence : float
        KL divergence (nats) of the observed fractional distribution from uniform.
    checkerboard : float
        ``chi2 / dof``: about 1 without sub-pixel bias, much larger with it. NaN when empty.
    n : int
        Number of coordinates used (2 per localization).
    """

    period_nm: float
    histogram: np.ndarray
    chi2: float
    dof: int
    p_value: float
    kl_divergence: float
    checkerboard: float
    n: int


def subpixel_bias(locs: Emitters, *, period_nm: float = 100.0, bins: int = 20) -> SubpixelBias:
    """Measure sub-pixel (checkerboard) bias of localizations on a grid of ``period_nm``.

    Parameters
    ----------
    locs : Emitters
        Localizations; x and y (nm) are pooled.
    period_nm : float
        Grid period in nm: 100 for the camera pixel, 25 for a 4x upsampled output bin.
    bins : int
        Number of bins over one period (>= 2).

    Returns
    -------
    SubpixelBias
        With NaN statistics when there are no localizations.
    """
    _check_positive("period_nm", period_nm)
    if int(bins) != bins or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
    bins = int(bins)
    coords = np.concatenate([locs.x_nm, locs.y_nm])
    frac = np.mod(coords, period_nm) / period_nm
    hist = np.bincount(np.minimum((frac * bins).astype(np.int64), bins - 1), minlength=bins)
    n = int(coords.size)
    if n == 0:
        nan = float("nan")
        return SubpixelBias(float(period_nm), hist, nan, bins - 1, nan, nan, nan, 0)
    expected = n / bins
    chi2 = float(np.sum((hist - expected) ** 2) / expected)
    p = hist / n
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = float(np.sum(np.where(p > 0, p * np.log(p * bins), 0.0)))
    dof = bins - 1
    return SubpixelBias(
        float(period_nm), hist, chi2, dof, float(stats.chi2.sf(chi2, dof)), kl, chi2 / dof, n
    )
