"""structloc: deep-learning 3D SMLM, trained on structures vs complete spatial randomness."""

from .emitters import Emitters
from .field import Field
from .psf import AstigmaticPSF
from .snr import SNR_PRESETS, SignalLevel

__version__ = "0.1.0"

__all__ = ["Emitters", "Field", "AstigmaticPSF", "SNR_PRESETS", "SignalLevel", "__version__"]
