"""The CNN localizer: a small UNet at camera resolution with a pixel-shuffle upsampling head.

LUENN (the study's network) predicts Gaussian blobs on a 4x upsampled grid with z as a phase
(see :mod:`structloc.targets`), but runs a stack of full-resolution convolutions (31.5 M
parameters, ~0.9 frames/s on a 2-core CPU). :class:`LocNet` moves all heavy work to low
resolution and ends in one of two heads (:mod:`structloc.heads`):

``input (1 x 64 x 64) -> encoder 64/32/16 px -> decoder with skips back to 64 px ->
conv to up^2 * C channels -> PixelShuffle(up) -> C x (64 up) x (64 up)``

with ``C = 9, up = 2`` for the mixture head (probability, offsets, z, photons, uncertainties per
50 nm bin) and ``C = 3, up = 4`` for the grid head (blobs on 25 nm bins), so each camera pixel
predicts its own ``up x up`` block of output bins (the upsampled-grid character that can
produce - and, if trained well, avoid - checkerboard artifacts).

Input normalisation (inside :meth:`LocNet.forward`): frames in photon units (``camera.to_photons``
of the ADU frames) minus their per-frame median (a background estimate), divided by
``input_scale_photons`` (by default a tenth of the signal level's photons per emitter, so a bright
in-focus peak is of order 1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .checks import integer_at_least, positive_float
from .heads import HEAD_CHANNELS, HEAD_UPSAMPLE, HEADS

__all__ = ["ModelConfig", "PRESETS", "model_config", "LocNet", "build_model", "count_parameters"]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of :class:`LocNet`.

    Parameters
    ----------
    preset : str
        Name of the preset the config came from (free label for custom configs).
    channels : tuple of int
        Feature channels at each resolution level, from full camera resolution down (each level
        halves the frame size; 64 x 64 frames need at most 4 levels... here 2 to 4).
    blocks : int
        Convolutions per level and per decoder stage (>= 1).
    upsample : int or None
        Output bins per camera pixel along each axis (pixel-shuffle factor); default: the
        head's (:data:`structloc.heads.HEAD_UPSAMPLE`, 2 for mixture, 4 for grid).
    head : {"mixture", "grid"}
        Output head (:mod:`structloc.heads`): its raw channels per output bin. Checkpoints
        written before heads existed are ``"grid"``.
    input_scale_photons : float
        Photons per unit of network input after background subtraction (> 0).
    stem : int
        Space-to-depth factor of the input (``PixelUnshuffle``): with 2, every 2 x 2 block of
        camera pixels becomes 4 input channels, so all convolutions run at half resolution
        (about a quarter of the work per channel, no pixel value lost) and each level's
        receptive field covers twice as many camera pixels (the widest astigmatic spots are
        ~16 px across); the head shuffles back to ``upsample`` bins per camera pixel.
    """

    preset: str = "small"
    channels: tuple[int, ...] = (16, 32, 64)
    blocks: int = 2
    upsample: int | None = None
    input_scale_photons: float = 2000.0
    head: str = "mixture"
    stem: int = 1

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise ValueError(f"ModelConfig.head must be one of {list(HEADS)}, got {self.head!r}")
        if self.upsample is None:
            object.__setattr__(self, "upsample", HEAD_UPSAMPLE[self.head])
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if not 2 <= len(self.channels) <= 4 or min(self.channels) < 1:
            raise ValueError(f"ModelConfig.channels needs 2 to 4 positive entries, got {self.channels!r}")
        for name in ("blocks", "upsample", "stem"):
            integer_at_least(f"ModelConfig.{name}", getattr(self, name))
        positive_float("ModelConfig.input_scale_photons", self.input_scale_photons)

    def to_dict(self) -> dict:
        """Plain-python form (for checkpoints and JSON)."""
        out = asdict(self)
        out["channels"] = list(self.channels)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        """Inverse of :meth:`to_dict` (configs without a head are the grid head's)."""
        return cls(**{"head": "grid", **data, "channels": tuple(data["channels"])})


#: Architecture presets: ``fast`` (a half-resolution UNet behind a space-to-depth stem) and
#: ``small`` train on a CPU, ``large`` is meant for a GPU; ``tiny`` is for tests.
PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig("tiny", channels=(8, 16), blocks=1),
    "small": ModelConfig("small", channels=(16, 32, 64), blocks=2),
    "fast": ModelConfig("fast", channels=(32, 64, 128), blocks=2, stem=2),
    "large": ModelConfig("large", channels=(48, 96, 192, 384), blocks=2),
}


def model_config(preset: str, **overrides) -> ModelConfig:
    """The :class:`ModelConfig` of a preset name, with optional field overrides.

    Raises
    ------
    ValueError
        If ``preset`` is not one of :data:`PRESETS`.
    """
    try:
        base = PRESETS[preset]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model preset {preset!r}; choose one of {sorted(PRESETS)}") from None
    fields = {**base.to_dict(), "channels": base.channels, **overrides}
    if "head" in overrides and "upsample" not in overrides:
        fields["upsample"] = None  # the head's own
    return ModelConfig(**fields)


def _conv_stack(c_in: int, c_out: int, n: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(n):
        layers += [nn.Conv2d(c_in if k == 0 else c_out, c_out, 3, padding=1, bias=False),
                   nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class LocNet(nn.Module):
    """Encoder-decoder localizer with a pixel-shuffle head (see the module docstring).

    ``forward(frames)`` takes photon-unit frames of shape (B, H, W) or (B, 1, H, W), with H and W
    divisible by :attr:`size_multiple` (``stem * 2 ** (len(channels) - 1)``), and returns
    (B, C, H * up, W * up): the raw channels of its head (:mod:`structloc.heads`).
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or PRESETS["small"]
        ch, n = self.config.channels, self.config.blocks
        stem = self.config.stem
        self.encoders = nn.ModuleList(
            [_conv_stack(stem * stem if k == 0 else ch[k - 1], ch[k], n) for k in range(len(ch))])
        self.ups = nn.ModuleList(
            [nn.ConvTranspose2d(ch[k + 1], ch[k], 2, stride=2) for k in range(len(ch) - 1)])
        self.decoders = nn.ModuleList([_conv_stack(2 * ch[k], ch[k], n) for k in range(len(ch) - 1)])
        up = self.config.upsample
        shuffle = up * stem
        conv = nn.Conv2d(ch[0], HEAD_CHANNELS[self.config.head] * shuffle * shuffle, 3, padding=1)
        if self.config.head == "mixture":  # start near one expected emitter per 1000 bins
            with torch.no_grad():
                conv.bias[: shuffle * shuffle].fill_(-7.0)
        self.head = nn.Sequential(conv, nn.PixelShuffle(shuffle))

    def normalise(self, frames: torch.Tensor) -> torch.Tensor:
        """Photon frames -> network input: minus per-frame median, over ``input_scale_photons``."""
        if frames.ndim == 3:
            frames = frames.unsqueeze(1)
        if frames.ndim != 4 or frames.shape[1] != 1:
            raise ValueError(f"frames must have shape (B, H, W) or (B, 1, H, W), got {tuple(frames.shape)}")
        background = frames.flatten(1).median(dim=1).values.view(-1, 1, 1, 1)
        return (frames - background) / self.config.input_scale_photons

    @property
    def size_multiple(self) -> int:
        """Frame height and width must be multiples of this (the stem times the poolings' strides)."""
        return 2 ** (len(self.encoders) - 1) * self.config.stem

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = self.normalise(frames)
        factor = self.size_multiple
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"frame height and width must be divisible by {factor}, got {tuple(x.shape[-2:])}")
        if self.config.stem > 1:
            x = nn.functional.pixel_unshuffle(x, self.config.stem)
        skips = []
        for k, encoder in enumerate(self.encoders):
            if k:
                x = nn.functional.max_pool2d(x, 2)
            x = encoder(x)
            skips.append(x)
        for k in reversed(range(len(self.decoders))):
            x = self.decoders[k](torch.cat([self.ups[k](x), skips[k]], dim=1))
        return self.head(x)


def build_model(config: ModelConfig | str = "small") -> LocNet:
    """A freshly initialised :class:`LocNet` from a config or a preset name."""
    return LocNet(model_config(config) if isinstance(config, str) else config)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
