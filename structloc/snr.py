"""Signal levels of the study: photons per emitter and background photons per pixel."""

from __future__ import annotations

from dataclasses import dataclass

from .checks import in_range, nonnegative_float, positive_float

__all__ = ["SignalLevel", "SNR_PRESETS", "signal_level"]


@dataclass(frozen=True)
class SignalLevel:
    """Mean signal of one emitter and the background, both in photons per frame.

    Parameters
    ----------
    name : str
        Preset name ("high", "medium", "low") or a free label.
    photons : float
        Mean number of photons one emitter emits in a frame.
    background : float
        Mean background photons per pixel per frame.
    photons_spread : float
        Relative spread of the per-emitter photon count: photons are drawn uniformly in
        ``photons * [1 - spread, 1 + spread]`` (0 gives every emitter exactly ``photons``).
    """

    name: str
    photons: float
    background: float
    photons_spread: float = 0.5

    def __post_init__(self) -> None:
        positive_float("SignalLevel.photons", self.photons)
        nonnegative_float("SignalLevel.background", self.background)
        in_range("SignalLevel.photons_spread", self.photons_spread, 0.0, 1.0, high_open=True)


SNR_PRESETS: dict[str, SignalLevel] = {
    "high": SignalLevel("high", photons=20000.0, background=200.0),
    "medium": SignalLevel("medium", photons=5000.0, background=50.0),
    "low": SignalLevel("low", photons=1000.0, background=10.0),
}


def signal_level(snr: str | SignalLevel) -> SignalLevel:
    """Return the :class:`SignalLevel` for a preset name, or pass a SignalLevel through.

    Raises
    ------
    ValueError
        If ``snr`` is not one of ``SNR_PRESETS``.
    """
    if isinstance(snr, SignalLevel):
        return snr
    try:
        return SNR_PRESETS[snr]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown SNR preset {snr!r}; choose one of {sorted(SNR_PRESETS)}"
        ) from None
