"""From camera frames to a localization table with a trained network.

``Localizer`` holds a trained :class:`~structloc.model.LocNet`, its target grid, camera and the
detection threshold chosen on validation data at the end of training. Calling it on ADU frames:

1. converts ADU to photon units with its camera model (``camera.to_photons``): the training
   camera stored in the checkpoint, or the camera of the user's frames when given
   (:meth:`Localizer.from_checkpoint` ``camera=``, ``structloc localize --camera`` or
   ``--camera-file``);
2. runs the network in eval mode, ``batch_frames`` frames at a time, on frames of any size
   (the network is fully convolutional, so frames need not have the training size): a height or
   width that is not a multiple of the network's strides
   (:attr:`~structloc.model.LocNet.size_multiple`) runs as two overlapping crops whose outputs
   are joined (:func:`_axis_tiles`); coordinates keep the frame's top-left origin;
3. decodes the head's output (:func:`structloc.heads.decode_output`): for the mixture head,
   clusters of bins grouped by their predicted positions (:mod:`structloc.clusters`) whose summed
   detection probability is above the threshold, at the probability-weighted offsets, z and
   photons; for the grid head, local maxima of the blob amplitude above the threshold, sub-bin
   refinement, z from the phase; the score is the summed probability or peak amplitude.

:meth:`Localizer.expected_counts` gives the mixture head's own estimate of how many emitters each
frame holds (its summed detection probability, what the count term of the loss trains), so a
model's count calibration can be checked against the truth without any decoding.

TIFF stacks are streamed in chunks (:func:`structloc.io.iter_tiff_chunks`), so memory stays
bounded for stacks larger than RAM.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
import torch

from .camera import Camera
from .checkpoint import Checkpoint
from .checks import integer_at_least, nonnegative_float, one_of
from .emitters import Emitters
from .model import LocNet
from .heads import HeadSpec, decode_output, head_name
from .mixture import activate
from .psf import AstigmaticPSF
from .device import cpu_has_bf16, select_device
from .train_config import TrainConfig

__all__ = ["Localizer", "PRECISIONS"]

#: Arithmetic of the network's forward pass (:class:`Localizer` ``precision``).
PRECISIONS = ("float32", "bfloat16")


class Localizer:
    """A trained network plus everything needed to turn frames into localizations.

    Parameters
    ----------
    model : LocNet
        Trained network.
    spec : MixtureSpec or TargetSpec
        Its output grid (head, field, upsampling, photon scale).
    camera : Camera
        Camera model of the frames, used to map their ADU to photons.
    threshold : float
        Detection threshold on the peak amplitude (score), >= 0.
    device : str or torch.device, optional
        Inference device (default: cuda, mps or cpu, whichever is available).
    batch_frames : int
        Frames of 64 x 64 px per network call (fewer larger frames, see :meth:`frames_per_call`).
    camera_source : str
        Where the camera came from, for logs (e.g. "the checkpoint m.pt", "--camera scmos").
    config : TrainConfig, optional
        The training run of the network (:meth:`from_checkpoint` sets it from the checkpoint).
    precision : {"float32", "bfloat16"}
        Arithmetic of the network's forward pass: float32 (the default, the reference), or
        bfloat16 autocast (:data:`PRECISIONS`), which runs the convolutions on the bf16 units of
        a CUDA GPU or of a CPU with native bfloat16 (AVX512-BF16 or AMX; refused on other CPUs,
        which would emulate it slowly). On an AMX CPU the ``large`` network ran 2-3 times
        faster; on MT0 frames its localizations moved a median 0.1-1 nm from float32's, and JI by
        less than 0.01, but in crowded frames a few moved much further (changed probabilities
        regroup the decoder's clusters), so results are not float32's bit for bit and the study
        runs in float32 (``benchmarks/bench_model.py`` measures both). Decoding is float64 either
        way.

    Attributes
    ----------
    checkpoint : Checkpoint or None
        For a localizer loaded from a checkpoint, that checkpoint (:class:`structloc.checkpoint.Checkpoint`:
        path, training config, steps, validation history, budget); None otherwise.
    """

    def __init__(self, model: LocNet, spec: HeadSpec, camera: Camera, threshold: float, *,
                 device: str | torch.device | None = None, batch_frames: int = 32,
                 camera_source: str = "the caller", config: TrainConfig | None = None,
                 precision: str = "float32") -> None:
        if not isinstance(model, LocNet):
            raise TypeError(f"model must be a LocNet, got {type(model).__name__}")
        if not isinstance(camera, Camera):
            raise TypeError(f"camera must be a structloc.camera.Camera, got {type(camera).__name__}")
        nonnegative_float("threshold", threshold)
        integer_at_least("batch_frames", batch_frames)
        if config is not None and not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        self.device = select_device(device)
        self.precision = _check_precision(precision, self.device)
        self.model = model.to(self.device).eval()
        self.spec, self.camera, self.threshold, self.batch_frames = spec, camera, float(threshold), batch_frames
        self.camera_source = str(camera_source)
        self.checkpoint: Checkpoint | None = None
        self._config = config

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device | None = None, *,
                        camera: Camera | None = None, camera_source: str = "the caller",
                        **kwargs) -> "Localizer":
        """Load a checkpoint written by :func:`structloc.train.train` (validated, see
        :meth:`structloc.checkpoint.Checkpoint.load`).

        Parameters
        ----------
        camera : Camera, optional
            The camera of the frames to localize (default: the training camera stored in the
            checkpoint, which is the SMLM Challenge 2016 EMCCD for the shipped models).
        camera_source : str
            Where ``camera`` came from, for logs (ignored without ``camera``).
        """
        checkpoint = Checkpoint.load(path)
        config = checkpoint.config
        if camera is None:
            camera, camera_source = config.camera, f"the checkpoint {path}"
        localizer = cls(checkpoint.network(), config.target_spec(), camera, checkpoint.threshold, device=device,
                        camera_source=camera_source, config=config, **kwargs)
        localizer.checkpoint = checkpoint
        return localizer

    @classmethod
    def pretrained(cls, name: str, device: str | torch.device | None = None, **kwargs) -> "Localizer":
        """Load a model shipped with structloc by name, e.g. ``"helix_high"`` (see
        :func:`structloc.pretrained.available`); other arguments as :meth:`from_checkpoint`."""
        from .pretrained import checkpoint_path

        return cls.from_checkpoint(checkpoint_path(name), device=device, **kwargs)

    @property
    def config(self) -> TrainConfig | None:
        """The training run of the network (from its checkpoint, or as given); None when unknown."""
        return self._config

    @property
    def psf(self) -> AstigmaticPSF:
        """The PSF model of the frames the network was trained on (from its checkpoint): simulate
        test frames with it, so that they hold what the network learned to invert."""
        if self.config is None:
            raise ValueError("this Localizer was not loaded from a checkpoint: its training PSF is unknown")
        return self.config.psf

    @property
    def frame_shape(self) -> tuple[int, int]:
        """(rows, columns) of the training frames (frames of any other size are accepted too)."""
        return self.spec.field.height_px, self.spec.field.width_px

    def frames_per_call(self, height: int, width: int) -> int:
        """Frames of ``height`` x ``width`` px per network call: ``batch_frames``, fewer for frames
        larger than 64 x 64 px, so that one call holds at most ``batch_frames`` x 64 x 64 pixels
        (the network's memory grows with the pixels of a call)."""
        return max(1, min(self.batch_frames, self.batch_frames * _PIXELS_PER_FRAME // (height * width)))

    def _spec_for(self, height: int, width: int) -> HeadSpec:
        """The output grid of frames of ``height`` x ``width`` pixels (same bins, other extent)."""
        if (height, width) == self.frame_shape:
            return self.spec
        return dataclasses.replace(self.spec, field=dataclasses.replace(self.spec.field, height_px=height,
                                                                        width_px=width))

    def _run_network(self, photons: torch.Tensor) -> torch.Tensor:
        """Network output of (B, H, W) photon frames of any size (see :func:`_axis_tiles`)."""
        batch, height, width = photons.shape
        multiple, up = self.model.size_multiple, self.spec.upsample
        rows, padded_h = _axis_tiles(height, multiple)
        cols, padded_w = _axis_tiles(width, multiple)
        if (padded_h, padded_w) != (height, width):  # frames smaller than one stride: pad with the median
            fill = photons.flatten(1).median(dim=1).values.view(-1, 1, 1)
            padded = fill.expand(batch, padded_h, padded_w).clone()
            padded[:, :height, :width] = photons
            photons = padded
        if len(rows) == len(cols) == 1:
            return self.model(photons)[..., :height * up, :width * up]
        output = None
        for r0, r_len, keep_r0, keep_r1 in rows:
            for c0, c_len, keep_c0, keep_c1 in cols:
                part = self.model(photons[:, r0:r0 + r_len, c0:c0 + c_len])
                if output is None:
                    output = part.new_empty((batch, part.shape[1], height * up, width * up))
                output[..., keep_r0 * up:keep_r1 * up, keep_c0 * up:keep_c1 * up] = \
                    part[..., (keep_r0 - r0) * up:(keep_r1 - r0) * up, (keep_c0 - c0) * up:(keep_c1 - c0) * up]
        return output

    def _check_frames(self, frames: Any) -> np.ndarray | torch.Tensor:
        if isinstance(frames, torch.Tensor):
            kind = "f" if frames.dtype.is_floating_point else ("b" if frames.dtype == torch.bool else
                                                                 ("c" if frames.dtype.is_complex else "i"))
        else:
            frames = np.asarray(frames)
            kind = frames.dtype.kind
        if kind not in "iuf":
            raise TypeError(f"frames must hold integer or float ADU values, got dtype {frames.dtype}")
        if frames.ndim == 2:
            frames = frames[None]
        if frames.ndim != 3 or min(frames.shape[1:], default=0) < 1:
            raise ValueError(f"frames must have shape (n, rows, columns) with rows, columns >= 1, "
                             f"got {tuple(frames.shape)}")
        return frames

    @torch.no_grad()
    def __call__(self, frames_adu: np.ndarray | torch.Tensor, *, frame_offset: int = 0) -> Emitters:
        """Localizations in ADU frames of shape (n, H, W) (or one (H, W) frame), of any size.

        Returns
        -------
        Emitters
            Columns frame (from ``frame_offset``), x_nm, y_nm, z_nm, photons, score.

        Raises
        ------
        ValueError
            On frames that are not (n, H, W), NaN/inf values, or frames of another size than the
            camera's per-pixel maps.
        TypeError
            On non-numeric frames.
        """
        frames = self._check_frames(frames_adu)
        spec = self._spec_for(*frames.shape[1:])
        tables = [decode_output(output, spec, self.threshold, frame_offset=frame_offset + start)
                  for start, output in self._outputs(frames)]
        return Emitters.concat(tables) if tables else Emitters.empty(with_score=True)

    @torch.no_grad()
    def expected_counts(self, frames_adu: np.ndarray | torch.Tensor) -> np.ndarray:
        """The network's expected number of emitters in each frame: its detection probability
        summed over all bins (mixture head only; no threshold, no decoding).

        The count term of the mixture loss trains this sum to match the true count of training
        frames, so on test frames it shows whether the network over- or under-counts before the
        decoder turns probability into localizations.

        Returns
        -------
        np.ndarray of float64, shape (n_frames,)

        Raises
        ------
        ValueError
            For a grid-head network (its blob amplitudes are no probabilities), or bad frames as
            :meth:`__call__`.
        """
        if head_name(self.spec) != "mixture":
            raise ValueError("expected_counts needs a mixture-head network; the grid head predicts no count")
        frames = self._check_frames(frames_adu)
        sums = [activate(output)[0].sum(dim=(1, 2)).double().cpu().numpy() for _, output in self._outputs(frames)]
        return np.concatenate(sums) if sums else np.zeros(0)

    def _outputs(self, frames: np.ndarray | torch.Tensor):
        """(first frame index, network output) of each call's chunk of checked ADU frames."""
        per_call = self.frames_per_call(*frames.shape[1:])
        for start in range(0, frames.shape[0], per_call):
            chunk = frames[start:start + per_call]
            if not isinstance(chunk, torch.Tensor):  # a copy: memory-mapped stacks are read-only
                chunk = torch.from_numpy(np.array(chunk, dtype=np.float32))
            chunk = chunk.to(self.device, torch.float32)
            if not torch.isfinite(chunk).all():
                raise ValueError("frames contain NaN or infinite values")
            photons = self.camera.to_photons(chunk)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bfloat16"):
                output = self._run_network(photons)
            yield start, output.float()

    def localize_tiff(self, path: str | os.PathLike, *, chunk_frames: int = 256,
                      progress: bool = True) -> Emitters:
        """Localizations of a TIFF stack, read ``chunk_frames`` frames at a time.

        Returns
        -------
        Emitters
            Frames counted from 0 (the first frame of the stack is 0).
        """
        from tqdm.auto import tqdm

        import tifffile

        from .io import iter_tiff_chunks

        chunks = iter_tiff_chunks(path, chunk_frames)  # checks the path and chunk size now
        try:  # the header's frame count, for the progress bar only (nothing is loaded)
            with tifffile.TiffFile(path) as tif:
                shape = tif.series[0].shape
                n_frames = int(shape[0]) if len(shape) == 3 else 1
        except Exception:  # reading errors surface from iter_tiff_chunks below
            n_frames = None
        tables = []
        with tqdm(total=n_frames, disable=not progress, desc="localize", unit="frame") as bar:
            for start, chunk in chunks:
                tables.append(self(chunk, frame_offset=start))
                bar.update(len(chunk))
        return Emitters.concat(tables) if tables else Emitters.empty(with_score=True)


#: Pixels per frame that ``batch_frames`` is meant for (the 64 x 64 px challenge frames).
_PIXELS_PER_FRAME = 64 * 64


def _axis_tiles(length: int, multiple: int) -> tuple[list[tuple[int, int, int, int]], int]:
    """How one axis of a frame is run through a network that needs lengths divisible by ``multiple``.

    A length that is a multiple runs whole. Any other runs as two overlapping crops of the largest
    multiple that fits, one from each end; each crop gives the output of its own half of the axis
    (from the first crop below ``length // 2``, from the second above), so every output bin comes
    from a crop in which it lies at least about half a crop from any edge that is not the frame's.
    Padding would put such an edge inside the frame: the network, trained on frames whose edges
    are its convolutions' zero padding, then reads spots cut by the frame's edge as whole spots
    nearer the inside (100 nm off in tests). Lengths below ``multiple`` are padded to it.

    Returns
    -------
    tiles : list of (start, crop_length, keep_from, keep_to)
        In camera pixels of the (padded) axis; ``[keep_from, keep_to)`` tile ``[0, length)``.
    padded_length : int
        ``max(length, multiple)``.
    """
    if length <= multiple or length % multiple == 0:
        padded = max(length, multiple)
        return [(0, padded, 0, length)], padded
    crop, split = length // multiple * multiple, length // 2
    return [(0, crop, 0, split), (length - crop, crop, split, length)], length


def _check_precision(precision: str, device: torch.device) -> str:
    """``precision`` if ``device`` runs it natively; a one-line ValueError if not."""
    one_of("precision", precision, PRECISIONS)
    if precision == "bfloat16":
        if device.type == "cpu" and not cpu_has_bf16():
            raise ValueError("precision 'bfloat16' needs a CPU with native bfloat16 (AVX512-BF16 or AMX) and "
                             "this one has none: use float32")
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError(f"precision 'bfloat16' needs a GPU with bfloat16 and {device} has none: use float32")
        if device.type not in ("cpu", "cuda"):
            raise ValueError(f"precision 'bfloat16' runs on a CPU or CUDA GPU, not {device.type}: use float32")
    return precision
