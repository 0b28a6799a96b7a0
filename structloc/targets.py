"""Network targets on the 4x upsampled grid, with z carried as a phase (LUENN-style).

Each emitter becomes a Gaussian blob of peak amplitude 1 on a grid ``upsample`` times finer than
the camera (25 nm bins for 100 nm pixels and ``upsample = 4``), centred at its true sub-bin
position. Three channels carry the blob:

``0: A cos(phi)``, ``1: A sin(phi)``, ``2: A * photons / photon_scale``

with ``phi = pi (z - z_min) / (z_max - z_min)`` mapping the axial range ``[z_min, z_max]`` (default
[-750, 750] nm) onto ``[0, pi]``. Decoding reverses this: the amplitude ``sqrt(c^2 + s^2)`` is
searched for local maxima (3 x 3 non-maximum suppression), each peak is refined below one bin by
Gaussian (log-parabola) interpolation of the 3 x 3 window's row and column sums (exact for a clean,
isolated blob), ``z`` comes from ``atan2(sum s, sum c)`` over the window and photons from
``sum p / sum A``. The score of a localization is its peak amplitude.

Rendering scatter-adds each blob's (separable) window into the grid: O(E) work and memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .emitters import Emitters
from .field import BinGrid, Field

__all__ = ["TargetSpec", "z_to_phase", "phase_to_z", "encode_padded", "encode", "decode", "local_maxima",
           "N_TARGET_CHANNELS"]

#: Channels of the target/output grid: A cos(phi), A sin(phi), A * photons / photon_scale.
N_TARGET_CHANNELS = 3
_EPS = 1e-6


@dataclass(frozen=True)
class TargetSpec(BinGrid):
    """Geometry and scaling of the upsampled target grid.

    Parameters
    ----------
    field : Field
        Camera geometry (frame size, pixel size, axial range).
    upsample : int
        Bins per camera pixel along each axis (4 gives 25 nm bins at 100 nm pixels).
    sigma_bins : float
        Standard deviation of the target blob, in bins (> 0).
    photon_scale : float
        Photons that map to 1 in the photon channel (> 0).
    """

    field: Field = Field()
    upsample: int = 4
    sigma_bins: float = 1.0
    photon_scale: float = 20000.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("sigma_bins", "photon_scale"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"TargetSpec.{name} must be positive and finite, got {value!r}")


def z_to_phase(z_nm, field: Field):
    """Phase in [0, pi] of axial positions ``z_nm`` (nm) over ``field``'s axial range."""
    return math.pi * (z_nm - field.z_min_nm) / field.depth_nm


def phase_to_z(phase, field: Field):
    """Axial position in nm of a phase in [0, pi] (inverse of :func:`z_to_phase`)."""
    return field.z_min_nm + phase / math.pi * field.depth_nm


def encode_padded(
    x_nm: torch.Tensor,
    y_nm: torch.Tensor,
    z_nm: torch.Tensor,
    photons: torch.Tensor,
    present: torch.Tensor,
    spec: TargetSpec,
) -> torch.Tensor:
    """Target grids of a batch of frames from padded emitter tensors.

    Each blob is evaluated at bin centres within ``ceil(4 sigma_bins)`` bins of its centre bin
    (the truncated tail is below ``exp(-8) ~ 3e-4`` of the peak) and scatter-added into the grid:
    O(E (8 sigma + 1)^2) work, no (E x rows x cols) temporaries.

    Parameters
    ----------
    x_nm, y_nm, z_nm, photons : torch.Tensor, shape (B, E)
        Emitter positions (nm) and photons.
    present : torch.Tensor, shape (B, E)
        1 for real emitters, 0 for padding slots.
    spec : TargetSpec
        Grid geometry and scaling.

    Returns
    -------
    torch.Tensor, shape (B, 3, H * up, W * up)
        Channels ``A cos(phi)``, ``A sin(phi)``, ``A * photons / photon_scale``.
    """
    rows, cols = spec.shape
    batch, n_emitters = x_nm.shape
    grid = torch.zeros(batch * N_TARGET_CHANNELS * rows * cols, device=x_nm.device, dtype=x_nm.dtype)
    if n_emitters == 0 or batch == 0:
        return grid.view(batch, N_TARGET_CHANNELS, rows, cols)
    radius = int(math.ceil(4 * spec.sigma_bins))
    steps = torch.arange(-radius, radius + 1, device=x_nm.device)
    u, v = x_nm / spec.bin_nm, y_nm / spec.bin_nm  # positions in bins, (B, E)
    col = torch.floor(u).long().unsqueeze(-1) + steps  # (B, E, K)
    row = torch.floor(v).long().unsqueeze(-1) + steps
    gx = torch.exp(-0.5 * ((col + 0.5 - u.unsqueeze(-1)) / spec.sigma_bins) ** 2) * ((col >= 0) & (col < cols))
    gy = torch.exp(-0.5 * ((row + 0.5 - v.unsqueeze(-1)) / spec.sigma_bins) ** 2) * ((row >= 0) & (row < rows))
    blob = gy.unsqueeze(-1) * gx.unsqueeze(-2)  # (B, E, K, K)
    phase = z_to_phase(z_nm, spec.field)
    weights = torch.stack([torch.cos(phase), torch.sin(phase), photons / spec.photon_scale], dim=1)
    weights = weights * present.to(weights.dtype).unsqueeze(1)  # (B, 3, E)
    pixel = row.clamp(0, rows - 1).unsqueeze(-1) * cols + col.clamp(0, cols - 1).unsqueeze(-2)  # (B, E, K, K)
    base = (torch.arange(batch, device=x_nm.device) * N_TARGET_CHANNELS).view(batch, 1, 1, 1, 1) + \
        torch.arange(N_TARGET_CHANNELS, device=x_nm.device).view(1, N_TARGET_CHANNELS, 1, 1, 1)
    index = base * (rows * cols) + pixel.unsqueeze(1)  # (B, 3, E, K, K)
    values = weights.unsqueeze(-1).unsqueeze(-1) * blob.unsqueeze(1)
    grid.index_add_(0, index.reshape(-1), values.reshape(-1))
    return grid.view(batch, N_TARGET_CHANNELS, rows, cols)


def encode(
    emitters: Emitters,
    n_frames: int | None = None,
    spec: TargetSpec | None = None,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Target grids of an emitters table (see :func:`encode_padded`); shape (n_frames, 3, H*up, W*up)."""
    from .psf import pad_by_frame

    spec = spec or TargetSpec()
    n_frames = emitters.n_frames if n_frames is None else int(n_frames)
    slot, e_max = pad_by_frame(emitters, n_frames)
    padded = np.zeros((5, n_frames, e_max))
    padded[:, emitters.frame, slot] = np.stack(
        [emitters.x_nm, emitters.y_nm, emitters.z_nm, emitters.photons, np.ones(len(emitters))])
    x, y, z, n, present = torch.as_tensor(padded, dtype=dtype, device=device)
    return encode_padded(x, y, z, n, present, spec)


def local_maxima(amplitude: torch.Tensor, threshold: float, radius: int = 1) -> torch.Tensor:
    """Local maxima of (B, R, C) ``amplitude`` above ``threshold`` within a (2 radius + 1)^2
    window; a plateau of equal maxima keeps only its first bin (row-major)."""
    size = 2 * radius + 1
    pooled = F.max_pool2d(amplitude.unsqueeze(1), size, stride=1, padding=radius).squeeze(1)
    mask = (amplitude >= pooled) & (amplitude > threshold)
    # ties: strictly above every bin of the window that comes earlier in row-major order
    padded = F.pad(amplitude, (radius, radius, radius, radius), value=-math.inf)
    rows, cols = amplitude.shape[-2:]
    for dr in range(-radius, 1):
        for dc in range(-radius, radius + 1 if dr < 0 else 0):
            mask &= amplitude > padded[:, radius + dr:radius + dr + rows, radius + dc:radius + dc + cols]
    return mask


def _log_parabola(left: torch.Tensor, mid: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """Sub-bin offset of a Gaussian through three samples (exact for a Gaussian); in [-0.75, 0.75]."""
    floor = torch.clamp(mid, min=_EPS) * 1e-4
    ll, lm, lr = (torch.log(torch.maximum(v, floor)) for v in (left, mid, right))
    curvature = 2 * lm - ll - lr
    offset = torch.where(curvature > _EPS, (lr - ll) / (2 * curvature.clamp(min=_EPS)),
                         (right - left) / (left + mid + right).clamp(min=_EPS))
    return offset.clamp(-0.75, 0.75)


def decode(
    output: torch.Tensor,
    spec: TargetSpec,
    threshold: float,
    *,
    frame_offset: int = 0,
) -> Emitters:
    """Localizations from network output (or targets) on the upsampled grid.

    Parameters
    ----------
    output : torch.Tensor, shape (B, 3, H * up, W * up)
        Channels as produced by :func:`encode_padded`.
    spec : TargetSpec
        Grid geometry and scaling used for encoding.
    threshold : float
        Minimum peak amplitude (score) of a localization, >= 0.
    frame_offset : int
        Added to the batch index to give the ``frame`` column.

    Returns
    -------
    Emitters
        With ``score`` = peak amplitude and ``photons`` from the photon channel (clipped at 0).
    """
    if output.ndim != 4 or output.shape[1] != N_TARGET_CHANNELS or tuple(output.shape[-2:]) != spec.shape:
        raise ValueError(
            f"output must have shape (B, {N_TARGET_CHANNELS}, {spec.shape[0]}, {spec.shape[1]}), "
            f"got {tuple(output.shape)}")
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    output = output.detach().float()
    amplitude = torch.sqrt(output[:, 0] ** 2 + output[:, 1] ** 2)
    b, i, j = torch.nonzero(local_maxima(amplitude, threshold), as_tuple=True)
    if b.numel() == 0:
        return Emitters.empty(with_score=True)
    channels = torch.cat([amplitude.unsqueeze(1), output], dim=1)  # A, c, s, p
    padded = F.pad(channels, (1, 1, 1, 1))
    offsets = torch.arange(-1, 2, device=output.device)
    rows = (i.unsqueeze(1) + 1 + offsets).unsqueeze(2).expand(-1, 3, 3)
    cols = (j.unsqueeze(1) + 1 + offsets).unsqueeze(1).expand(-1, 3, 3)
    window = padded[b.unsqueeze(1).unsqueeze(2), :, rows, cols]  # (n, 3, 3, 4)
    amp = window[..., 0].clamp(min=0)
    col_sums, row_sums = amp.sum(dim=1), amp.sum(dim=2)  # (n, 3) along x, along y
    dx = _log_parabola(col_sums[:, 0], col_sums[:, 1], col_sums[:, 2])
    dy = _log_parabola(row_sums[:, 0], row_sums[:, 1], row_sums[:, 2])
    phase = torch.atan2(window[..., 2].sum(dim=(1, 2)), window[..., 1].sum(dim=(1, 2)))
    phase = torch.where(phase < -math.pi / 2, phase + 2 * math.pi, phase).clamp(0, math.pi)
    photons = window[..., 3].sum(dim=(1, 2)) / amp.sum(dim=(1, 2)).clamp(min=_EPS) * spec.photon_scale
    bin_nm = spec.bin_nm
    columns = [
        (b + frame_offset).cpu().numpy(),
        ((j.double() + 0.5 + dx.double()) * bin_nm).cpu().numpy(),
        ((i.double() + 0.5 + dy.double()) * bin_nm).cpu().numpy(),
        phase_to_z(phase.double(), spec.field).clamp(spec.field.z_min_nm, spec.field.z_max_nm).cpu().numpy(),
        photons.clamp(min=0).double().cpu().numpy(),
    ]
    return Emitters(*columns, score=amplitude[b, i, j].double().cpu().numpy())
