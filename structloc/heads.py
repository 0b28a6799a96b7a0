"""The two output heads of the localizer, behind one set of calls.

- ``"mixture"`` (the default, :mod:`structloc.mixture`): per 50 nm bin a detection probability
  with sub-bin offsets, z and photons and their uncertainties, trained with a count + Gaussian-
  mixture likelihood (DECODE's loss on a 2x finer grid).
- ``"grid"`` (the study's paper, LUENN-style, :mod:`structloc.targets`): Gaussian blobs on a 4x
  grid with z as a phase, trained with a weighted squared error.

Training, validation, localization and the decode ceiling call the functions here, which pick
the head's own implementation from the type of its spec.
"""

from __future__ import annotations

import torch

from .emitters import Emitters
from .field import Field
from .mixture import N_MIXTURE_CHANNELS, MixtureSpec, decode_mixture, encode_truth, ideal_output
from .targets import N_TARGET_CHANNELS, TargetSpec, decode, encode

__all__ = ["HEADS", "HEAD_UPSAMPLE", "HEAD_CHANNELS", "HeadSpec", "head_spec", "head_name", "encode_batch",
           "decode_output", "clean_output"]

#: Head names, default first.
HEADS: tuple[str, ...] = ("mixture", "grid")
#: Output bins per camera pixel of each head.
HEAD_UPSAMPLE: dict[str, int] = {"mixture": 2, "grid": 4}
#: Raw output channels of each head.
HEAD_CHANNELS: dict[str, int] = {"mixture": N_MIXTURE_CHANNELS, "grid": N_TARGET_CHANNELS}

HeadSpec = MixtureSpec | TargetSpec


def head_spec(head: str, *, field: Field, photon_scale: float, sigma_bins: float = 2.0) -> HeadSpec:
    """The output-grid spec of a head, on its :data:`HEAD_UPSAMPLE` grid."""
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; choose one of {list(HEADS)}")
    upsample = HEAD_UPSAMPLE[head]
    if head == "mixture":
        return MixtureSpec(field=field, upsample=upsample, photon_scale=photon_scale)
    return TargetSpec(field=field, upsample=upsample, sigma_bins=sigma_bins, photon_scale=photon_scale)


def head_name(spec: HeadSpec) -> str:
    """``"mixture"`` or ``"grid"``."""
    if isinstance(spec, MixtureSpec):
        return "mixture"
    if isinstance(spec, TargetSpec):
        return "grid"
    raise TypeError(f"spec must be a MixtureSpec or TargetSpec, got {type(spec).__name__}")


def encode_batch(emitters: Emitters, n_frames: int, spec: HeadSpec, *,
                 device: str | torch.device = "cpu") -> torch.Tensor:
    """Training targets: blob grids (grid head) or the padded truth (mixture head)."""
    if head_name(spec) == "mixture":
        return encode_truth(emitters, n_frames, spec, device=device)
    return encode(emitters, n_frames, spec, device=device)


def decode_output(output: torch.Tensor, spec: HeadSpec, threshold: float, *,
                  frame_offset: int = 0) -> Emitters:
    """Localizations (with ``score``) from network output of either head."""
    if head_name(spec) == "mixture":
        return decode_mixture(output, spec, threshold, frame_offset=frame_offset)
    return decode(output, spec, threshold, frame_offset=frame_offset)


def clean_output(emitters: Emitters, n_frames: int, spec: HeadSpec) -> torch.Tensor:
    """What a perfect network would output for ``emitters`` (the encoded targets themselves)."""
    if head_name(spec) == "mixture":
        return ideal_output(emitters, n_frames, spec)
    return encode(emitters, n_frames, spec)
