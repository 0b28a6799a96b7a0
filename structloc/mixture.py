"""The mixture head: per-bin detection probabilities with offsets, z and photons, and their loss.

After DECODE (Speiser et al., Nature Methods 2021), but on a grid ``upsample`` times finer than
the camera (default 2: 50 nm bins for 100 nm pixels), so that two emitters closer than a camera
pixel can still be told apart. Every output bin ``k`` predicts

- ``p_k``: the probability that an emitter lies in or near the bin,
- its position ``mu_k`` (x and y as offsets from the bin centre, in bins; z; photons),
- the standard deviations ``sigma_k`` of those four estimates,

in nine raw channels (B, 9, H * up, W * up), mapped by :func:`activate`:

``0: logit p | 1, 2: dx, dy = tanh * OFFSET_RANGE_BINS | 3: z = tanh over the axial range |``
``4: photons = sigmoid * PHOTON_RANGE * photon_scale | 5-8: sigma = lo + sigmoid * (hi - lo)``.

Loss (per frame, the negative log-likelihood of the ground truth under the prediction):

- *count*: the number of emitters ``n`` under a Gaussian with mean ``sum p_k`` and variance
  ``sum p_k (1 - p_k) + COUNT_VAR_FLOOR`` (the Poisson-binomial count, approximated; the floor
  keeps the likelihood of an empty frame bounded);
- *mixture*: every true emitter's (x, y, z, photons) under the Gaussian mixture of all bins with
  weights ``p_k / sum p``. Only the bins within ``window_radius`` bins of the emitter are summed:
  farther bins cannot place their mean within a bin of it, so their terms are negligible once the
  network has learned anything, and the loss stays O(emitters) instead of O(emitters x bins).

Decoding (:func:`decode_mixture`): the bins with ``p`` above
:data:`structloc.clusters.MIN_PROBABILITY` are grouped by their *predicted* positions
(:func:`structloc.clusters.merge_bins`: bins within 200 nm laterally and 250 nm axially of a more
probable one join it while their summed probability stays at most 1.2, about one emitter's
worth); each group whose summed probability exceeds the threshold is one localization at the
probability-weighted mean of its bins' predictions. A network spreads one emitter's probability
over several neighbouring bins, the more so the less it is trained; pooling it by predicted
position reports that emitter once, and the cap keeps two emitters the network is sure of apart,
however close, so that clean targets decode exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .clusters import MIN_PROBABILITY, merge_bins
from .emitters import Emitters
from .field import BinGrid, Field

__all__ = ["MixtureSpec", "N_MIXTURE_CHANNELS", "activate", "encode_truth", "mixture_loss", "decode_mixture",
           "ideal_output", "phase_image", "OFFSET_RANGE_BINS", "COUNT_VAR_FLOOR"]

#: Raw output channels: logit p, dx, dy, z, photons, and the four sigmas.
N_MIXTURE_CHANNELS = 9
#: Largest offset of a predicted position from its bin centre, in bins.
OFFSET_RANGE_BINS = 1.0
#: Predicted photons range over [0, PHOTON_RANGE * photon_scale].
PHOTON_RANGE = 2.0
#: Added to the variance of the predicted count (its likelihood stays bounded for empty frames).
COUNT_VAR_FLOOR = 1.0 / 12.0
# sigma ranges of (x bins, y bins, z normalised to [-1, 1], photons normalised to photon_scale)
_SIGMA_LO = (0.01, 0.01, 0.002, 0.002)
_SIGMA_HI = (3.0, 3.0, 1.0, 1.0)
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MixtureSpec(BinGrid):
    """Geometry and scaling of the mixture head's output grid.

    Parameters
    ----------
    field : Field
        Camera geometry (frame size, pixel size, axial range).
    upsample : int
        Output bins per camera pixel along each axis (2 gives 50 nm bins at 100 nm pixels;
        1 is DECODE's one bin per camera pixel).
    photon_scale : float
        Photons that map to 1 in the photon channel (> 0).
    window_radius : int or None
        Bins on each side of an emitter's own bin whose mixture components enter its likelihood
        (default: ``upsample + 1``, i.e. a little over one camera pixel).
    """

    field: Field = Field()
    upsample: int = 2
    photon_scale: float = 20000.0
    window_radius: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (math.isfinite(self.photon_scale) and self.photon_scale > 0):
            raise ValueError(f"MixtureSpec.photon_scale must be positive and finite, got {self.photon_scale!r}")
        if self.window_radius is not None and (isinstance(self.window_radius, bool)
                                               or not isinstance(self.window_radius, int) or self.window_radius < 1):
            raise ValueError(f"MixtureSpec.window_radius must be a positive integer or None, got {self.window_radius!r}")

    @property
    def radius(self) -> int:
        """The mixture window's radius in bins."""
        return self.upsample + 1 if self.window_radius is None else self.window_radius

    def z_normalised(self, z_nm):
        """z in [-1, 1] over the axial range."""
        half = 0.5 * self.field.depth_nm
        return (z_nm - (self.field.z_min_nm + half)) / half

    def z_nm(self, z_normalised):
        """Inverse of :meth:`z_normalised`."""
        half = 0.5 * self.field.depth_nm
        return z_normalised * half + self.field.z_min_nm + half


def activate(raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Raw output (B, 9, R, C) -> (p, mean, sigma).

    Returns
    -------
    p : torch.Tensor, shape (B, R, C)
        Detection probability per bin.
    mean : torch.Tensor, shape (B, 4, R, C)
        dx, dy (bins from the bin centre), z (normalised to [-1, 1]), photons (in photon_scale).
    sigma : torch.Tensor, shape (B, 4, R, C)
        Their standard deviations in the same units.
    """
    raw = raw.float()
    p = torch.sigmoid(raw[:, 0])
    mean = torch.cat([torch.tanh(raw[:, 1:4]) * raw.new_tensor([OFFSET_RANGE_BINS, OFFSET_RANGE_BINS, 1.0]).view(1, 3, 1, 1),
                      torch.sigmoid(raw[:, 4:5]) * PHOTON_RANGE], dim=1)
    lo, hi = raw.new_tensor(_SIGMA_LO).view(1, 4, 1, 1), raw.new_tensor(_SIGMA_HI).view(1, 4, 1, 1)
    sigma = lo + torch.sigmoid(raw[:, 5:9]) * (hi - lo)
    return p, mean, sigma


def encode_truth(emitters: Emitters, n_frames: int, spec: MixtureSpec, *,
                 device: str | torch.device = "cpu") -> torch.Tensor:
    """Ground truth as a padded tensor (n_frames, E_max, 5): x, y in bins, z normalised, photons
    in photon_scale, and 1 for a real emitter (0 for padding). This is the mixture head's target."""
    from .psf import pad_by_frame

    slot, e_max = pad_by_frame(emitters, n_frames)
    padded = np.zeros((n_frames, e_max, 5))
    padded[emitters.frame, slot] = np.stack(
        [emitters.x_nm / spec.bin_nm, emitters.y_nm / spec.bin_nm, spec.z_normalised(emitters.z_nm),
         emitters.photons / spec.photon_scale, np.ones(len(emitters))], axis=1)
    return torch.as_tensor(padded, dtype=torch.float32, device=device)


def mixture_loss(raw: torch.Tensor, truth: torch.Tensor, spec: MixtureSpec,
                 frame_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Count + mixture negative log-likelihood, averaged over frames (see the module docstring).

    Parameters
    ----------
    raw : torch.Tensor, shape (B, 9, R, C)
        Network output.
    truth : torch.Tensor, shape (B, E, 5)
        From :func:`encode_truth`.
    spec : MixtureSpec
        The output grid.
    frame_weights : torch.Tensor, shape (B,), optional
        Multiplies each frame's negative log-likelihood.
    """
    batch, _, rows, cols = raw.shape
    if truth.ndim != 3 or truth.shape[0] != batch or truth.shape[2] != 5:
        raise ValueError(f"truth must have shape ({batch}, E, 5), got {tuple(truth.shape)}")
    raw = raw.float()
    p, mean, sigma = activate(raw)
    present = truth[..., 4]
    n = present.sum(dim=1)
    count_mean = p.sum(dim=(1, 2))
    count_var = (p * (1 - p)).sum(dim=(1, 2)) + COUNT_VAR_FLOOR
    count_nll = 0.5 * (n - count_mean) ** 2 / count_var + 0.5 * torch.log(count_var) + 0.5 * _LOG_2PI

    loc_nll = torch.zeros_like(count_nll)
    if truth.shape[1]:
        r = spec.radius
        steps = torch.arange(-r, r + 1, device=raw.device)
        col0 = torch.floor(truth[..., 0]).long().clamp(0, cols - 1)  # (B, E)
        row0 = torch.floor(truth[..., 1]).long().clamp(0, rows - 1)
        size = 2 * r + 1
        col = (col0.unsqueeze(-1) + steps).unsqueeze(-2).expand(-1, -1, size, -1).flatten(2)  # (B, E, K)
        row = (row0.unsqueeze(-1) + steps).unsqueeze(-1).expand(-1, -1, -1, size).flatten(2)
        valid = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        flat = row.clamp(0, rows - 1) * cols + col.clamp(0, cols - 1)
        flat = flat + (torch.arange(batch, device=raw.device) * rows * cols).view(batch, 1, 1)
        log_p = F.logsigmoid(raw[:, 0]).reshape(-1)[flat]  # (B, E, K)
        params = torch.cat([mean, sigma], dim=1).permute(0, 2, 3, 1).reshape(-1, 8)[flat]  # (B, E, K, 8)
        centre = torch.stack([col, row], dim=-1)  # bin (column, row) of every component
        mu = torch.cat([centre + 0.5 + params[..., 0:2], params[..., 2:4]], dim=-1)  # (B, E, K, 4)
        s = params[..., 4:8]
        z = (truth[..., :4].unsqueeze(2) - mu) / s
        log_gauss = (-0.5 * z ** 2 - torch.log(s)).sum(dim=-1) - 2.0 * _LOG_2PI
        component = torch.where(valid, log_p + log_gauss, torch.full_like(log_gauss, -1e4))
        log_mix = torch.logsumexp(component, dim=-1) - torch.log(count_mean.clamp(min=1e-6)).unsqueeze(1)
        loc_nll = -(log_mix * present).sum(dim=1)
    per_frame = count_nll + loc_nll
    if frame_weights is not None:
        if frame_weights.shape != per_frame.shape:
            raise ValueError(f"frame_weights must have shape {tuple(per_frame.shape)}, got {tuple(frame_weights.shape)}")
        per_frame = per_frame * frame_weights.to(per_frame)
    return per_frame.mean()


@torch.no_grad()
def decode_mixture(raw: torch.Tensor, spec: MixtureSpec, threshold: float, *,
                   frame_offset: int = 0) -> Emitters:
    """Localizations from mixture-head output (see the module docstring).

    Parameters
    ----------
    raw : torch.Tensor, shape (B, 9, R, C)
        Network output (or :func:`ideal_output`).
    spec : MixtureSpec
        The output grid.
    threshold : float
        Minimum score (a cluster's summed probability), >= 0.
    frame_offset : int
        Added to the batch index to give the ``frame`` column.

    Returns
    -------
    Emitters
        With ``score`` = the cluster's summed probability; position and photons its
        probability-weighted mean.
    """
    if raw.ndim != 4 or raw.shape[1] != N_MIXTURE_CHANNELS or tuple(raw.shape[-2:]) != spec.shape:
        raise ValueError(f"output must have shape (B, {N_MIXTURE_CHANNELS}, {spec.shape[0]}, {spec.shape[1]}), "
                         f"got {tuple(raw.shape)}")
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    p, mean, _ = activate(raw.detach())
    b, i, j = torch.nonzero(p > MIN_PROBABILITY, as_tuple=True)
    if b.numel() == 0:
        return Emitters.empty(with_score=True)
    prob = p[b, i, j].double().cpu().numpy()
    m = mean[b, :, i, j].double().cpu().numpy()  # (n, 4)
    b, i, j = b.cpu().numpy(), i.cpu().numpy(), j.cpu().numpy()
    x, y, z = (j + 0.5 + m[:, 0]) * spec.bin_nm, (i + 0.5 + m[:, 1]) * spec.bin_nm, spec.z_nm(m[:, 2])
    owner, seeds = merge_bins(b, x, y, z, prob)
    mass = np.bincount(owner, weights=prob, minlength=len(prob))
    seeds = seeds[mass[seeds] > threshold]
    weight = prob / mass[owner]

    def pooled(values: np.ndarray) -> np.ndarray:
        return np.bincount(owner, weights=weight * values, minlength=len(prob))[seeds]

    return Emitters(b[seeds] + frame_offset, np.clip(pooled(x), 0, spec.field.width_nm),
                    np.clip(pooled(y), 0, spec.field.height_nm), pooled(z),
                    np.clip(pooled(m[:, 3]) * spec.photon_scale, 0, None), score=mass[seeds])


def ideal_output(emitters: Emitters, n_frames: int, spec: MixtureSpec) -> torch.Tensor:
    """The raw output a perfect network would give (float32, (n_frames, 9, R, C)).

    Each bin that holds an emitter gets probability ~1 and that emitter's exact offsets, z and
    photons (when several share a bin, the first in table order); all other bins probability ~0.
    Decoding it measures what the representation itself allows (see :mod:`structloc.ceiling`).
    """
    rows, cols = spec.shape
    raw = np.zeros((n_frames, N_MIXTURE_CHANNELS, rows, cols), np.float64)
    raw[:, 0] = -20.0
    if len(emitters):
        if emitters.frame.max() >= n_frames:
            raise ValueError(f"emitters reference frame {int(emitters.frame.max())} but only {n_frames} frames requested")
        u, v = emitters.x_nm / spec.bin_nm, emitters.y_nm / spec.bin_nm
        col = np.clip(np.floor(u).astype(np.int64), 0, cols - 1)
        row = np.clip(np.floor(v).astype(np.int64), 0, rows - 1)
        key = (emitters.frame * rows + row) * cols + col
        _, first = np.unique(key, return_index=True)
        f, r, c = emitters.frame[first], row[first], col[first]
        limit = 1 - 1e-6
        raw[f, 0, r, c] = 20.0
        raw[f, 1, r, c] = np.arctanh(np.clip((u[first] - c - 0.5) / OFFSET_RANGE_BINS, -limit, limit))
        raw[f, 2, r, c] = np.arctanh(np.clip((v[first] - r - 0.5) / OFFSET_RANGE_BINS, -limit, limit))
        raw[f, 3, r, c] = np.arctanh(np.clip(spec.z_normalised(emitters.z_nm[first]), -limit, limit))
        q = np.clip(emitters.photons[first] / spec.photon_scale / PHOTON_RANGE, 1e-6, limit)
        raw[f, 4, r, c] = np.log(q / (1 - q))
    return torch.as_tensor(raw, dtype=torch.float32)


def phase_image(raw: torch.Tensor, spec: MixtureSpec) -> torch.Tensor:
    """Mixture output as the grid head's picture (B, 3, R, C): ``p cos(phi), p sin(phi), p N``
    with ``phi`` the phase of the predicted z (:func:`structloc.targets.z_to_phase`), so that
    both heads' outputs can be drawn the same way (brightness = probability, colour = depth)."""
    from .targets import z_to_phase

    p, mean, _ = activate(raw.detach())
    phase = z_to_phase(spec.z_nm(mean[:, 2]), spec.field)
    return torch.stack([p * torch.cos(phase), p * torch.sin(phase), p * mean[:, 3]], dim=1)
