"""The definition of a training run: :class:`TrainConfig` (stored in every checkpoint).

A config says everything that defines a run (sampler, signal level, network preset and head,
seed, budget, schedule, density and signal ranges, loss weights, field, PSF and camera) and
converts to and from plain python (:meth:`TrainConfig.to_dict`, :meth:`TrainConfig.from_dict`)
for checkpoints and JSON provenance. The camera is stored with its model's name
(``{"camera": "emccd", "qe": ...}``, :func:`structloc.camera.camera_to_dict`), so a model trained
for an sCMOS or ideal camera round-trips; checkpoints written before the name was stored hold
the challenge EMCCD. The training loop itself is :mod:`structloc.train`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .camera import EMCCD, Camera, camera_from_dict, camera_to_dict
from .checks import integer_at_least, nonnegative_float, one_of, positive_float, positive_range
from .field import Field
from .heads import HEADS, HeadSpec, head_spec
from .model import ModelConfig, model_config
from .psf import AstigmaticPSF
from .snr import SignalLevel, signal_level

__all__ = ["TrainConfig", "TRAIN_SAMPLERS"]

#: The samplers a model can be trained with (:data:`structloc.sampling.SAMPLERS` without the
#: MT0 positions, which are the test data).
TRAIN_SAMPLERS: tuple[str, ...] = ("csr", "helix")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (and is stored in its checkpoint).

    Parameters
    ----------
    sampler : {"csr", "helix"}
        How training emitters are placed; the only difference between the two approaches.
    snr : {"high", "medium", "low"}
        Signal level (photons per emitter, background photons per pixel).
    preset : {"tiny", "small", "fast", "large"}
        Network preset (:data:`structloc.model.PRESETS`).
    head : {"mixture", "grid"}
        Output head and loss (:mod:`structloc.heads`): per-bin probabilities with a count +
        Gaussian-mixture likelihood (default), or the paper's blob grid with a squared error.
        Checkpoints written before heads existed are ``"grid"``.
    seed : int
        Seeds model initialisation, every training batch and the validation set.
    batch_size : int
        Frames per step and per rank.
    lr : float
        Peak learning rate of AdamW.
    max_steps : int or None
        Step budget. At least one of ``max_steps`` and ``minutes`` must be given; training
        stops at whichever is reached first.
    minutes : float or None
        Wall-time budget in minutes (validation and checkpoints included).
    steps_per_epoch : int
        Steps between validations/checkpoints.
    warmup_steps : int
        Linear learning-rate warm-up.
    density_min_per_um2, density_max_per_um2 : float
        Range of the log-uniform per-frame density (emitters/um^2).
    photons_range : (float, float) or None
        If given, every frame's mean photons per emitter is drawn log-uniformly from this range
        and the frame's emitters (drawn from the SNR preset) are scaled to it; the head's photon
        scale and the input scale follow the top of the range. None (the default, and the study's
        setting) keeps the preset's photons.
    background_range_photons : (float, float) or None
        Likewise for the background (photons per pixel, log-uniform per frame); None keeps the
        preset's background. With both ranges one model covers many signal levels and real data
        (e.g. 1,000-25,000 photons over 10-250 background photons).
    n_val_frames : int
        Size of the fixed validation set (same sampler and density distribution, own seed).
    grad_clip : float
        Maximum gradient norm.
    photon_loss_weight : float
        Weight of the photon channel in the loss.
    blob_loss_weight : float
        Extra weight of bins inside target blobs (see :func:`target_loss`).
    balance_densities : bool
        Weight every frame equally in the loss (each frame's summed error is divided by
        ``1 + its emitter count``, the weights normalised to mean 1), and choose the detection
        threshold by the mean Jaccard index over four groups of validation frames split by
        emitter count. Without it, a frame's weight grows with its emitter count, so the ultra-dense
        frames (hundreds of emitters) dominate both the gradient and the threshold, and sparse
        frames are barely learned. Checkpoints written before this option existed were trained
        without it.
    sigma_bins : float
        Target blob width in 25 nm bins (2 = 50 nm, still separating emitters ~150 nm apart;
        chosen for short CPU budgets after 1-bin blobs gave near-zero recall on sparse frames
        there, see models/README.md).
    field, psf :
        Geometry and PSF of the simulated frames.
    camera : Camera
        Camera of the simulated frames (any :mod:`structloc.camera` model; default the SMLM
        Challenge 2016 EMCCD); the localizer converts ADU to photons with it.
    bf16_on_cpu : bool
        On a CPU, run the network under bfloat16 autocast (the loss stays float32), as CUDA
        training always does. Needs a CPU with native bfloat16 (AVX512-BF16 or AMX; training
        refuses to start on one without); a step takes about 0.7 of the float32 time there
        (measured by ``benchmarks/bench_model.py``). Default False: float32, as every model before it.
    """

    sampler: str = "helix"
    snr: str = "high"
    preset: str = "fast"
    head: str = "mixture"
    seed: int = 0
    batch_size: int = 16
    lr: float = 2e-3
    max_steps: int | None = None
    minutes: float | None = 10.0
    steps_per_epoch: int = 100
    warmup_steps: int = 50
    density_min_per_um2: float = 0.05
    density_max_per_um2: float = 15.0
    n_val_frames: int = 64
    grad_clip: float = 1.0
    photon_loss_weight: float = 0.1
    blob_loss_weight: float = 10.0
    balance_densities: bool = True
    sigma_bins: float = 2.0
    photons_range: tuple[float, float] | None = None
    background_range_photons: tuple[float, float] | None = None
    field: Field = Field()
    psf: AstigmaticPSF = AstigmaticPSF()
    camera: Camera = EMCCD()
    bf16_on_cpu: bool = False

    def __post_init__(self) -> None:
        one_of("TrainConfig.sampler", self.sampler, TRAIN_SAMPLERS)
        signal_level(self.snr)
        model_config(self.preset)
        one_of("TrainConfig.head", self.head, HEADS)
        integer_at_least("TrainConfig.seed", self.seed, 0)
        for name in ("batch_size", "steps_per_epoch", "n_val_frames"):
            integer_at_least(f"TrainConfig.{name}", getattr(self, name))
        if self.max_steps is None and self.minutes is None:
            raise ValueError("TrainConfig needs a budget: give max_steps, minutes or both")
        if self.max_steps is not None:
            integer_at_least("TrainConfig.max_steps", self.max_steps)
        if self.minutes is not None:
            positive_float("TrainConfig.minutes", self.minutes)
        integer_at_least("TrainConfig.warmup_steps", self.warmup_steps, 0)
        for name in ("lr", "grad_clip", "sigma_bins", "density_max_per_um2", "density_min_per_um2"):
            positive_float(f"TrainConfig.{name}", getattr(self, name))
        for name in ("photons_range", "background_range_photons"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, positive_range(f"TrainConfig.{name}", getattr(self, name)))
        if not isinstance(self.camera, Camera):
            raise TypeError(f"TrainConfig.camera must be a structloc.camera.Camera, got {type(self.camera).__name__}")
        for name in ("balance_densities", "bf16_on_cpu"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"TrainConfig.{name} must be a bool, got {getattr(self, name)!r}")
        if not self.density_min_per_um2 <= self.density_max_per_um2:
            raise ValueError("TrainConfig.density_min_per_um2 must not exceed density_max_per_um2")
        for name in ("photon_loss_weight", "blob_loss_weight"):
            nonnegative_float(f"TrainConfig.{name}", getattr(self, name))

    @property
    def signal(self) -> SignalLevel:
        """The :class:`SignalLevel` of ``snr``."""
        return signal_level(self.snr)

    @property
    def photon_scale(self) -> float:
        """Photons of a typical bright emitter: the preset's, or the top of ``photons_range``."""
        return self.signal.photons if self.photons_range is None else self.photons_range[1]

    def model_config(self) -> ModelConfig:
        """Network config: the preset with its input scale a tenth of :attr:`photon_scale`."""
        return model_config(self.preset, input_scale_photons=0.1 * self.photon_scale, head=self.head)

    def target_spec(self) -> HeadSpec:
        """Output grid of this run's head (photon channel scaled by :attr:`photon_scale`)."""
        return head_spec(self.head, field=self.field, photon_scale=self.photon_scale, sigma_bins=self.sigma_bins)

    def to_dict(self) -> dict[str, Any]:
        """Plain-python form (checkpoints, JSON provenance)."""
        ranges = {k: list(v) if v is not None else None for k in ("photons_range", "background_range_photons")
                  for v in [getattr(self, k)]}
        return {**asdict(self), **ranges, "field": asdict(self.field), "psf": asdict(self.psf),
                "camera": camera_to_dict(self.camera)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict` (checkpoints older than ``balance_densities`` get False, older
        than heads the grid head, older than the PSF centre drift a PSF centred on its emitter,
        older than the camera's name the EMCCD)."""
        data = {"balance_densities": False, "head": "grid", **data}
        psf = {"drift_z_nm": (), "drift_x_nm": (), "drift_y_nm": (), **data["psf"]}
        camera = data["camera"]
        camera = camera_from_dict(camera) if "camera" in camera else EMCCD(**camera)
        return cls(**{**data, "field": Field(**data["field"]), "psf": AstigmaticPSF(**psf), "camera": camera})

