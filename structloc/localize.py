"""From camera frames to a localization table with a trained network.

``Localizer`` holds a trained :class:`~structloc.model.LocNet`, its target grid, camera and the
detection threshold chosen on validation data at the end of training. Calling it on ADU frames:

1. converts ADU to photon units with the training camera (``camera.to_photons``);
2. runs the network in eval mode, ``batch_frames`` frames at a time;
3. decodes the head's output (:func:`structloc.heads.decode_output`): for the mixture head,
   bins whose summed detection probability is above the threshold, at their predicted offsets,
   z and photons; for the grid head, local maxima of the blob amplitude above the threshold,
   sub-bin refinement, z from the phase; the score is the summed probability or peak amplitude.

TIFF stacks are streamed in chunks (:func:`structloc.io.iter_tiff_chunks`), so memory stays
bounded for stacks larger than RAM.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .camera import EMCCD
from .checkpoint import load_checkpoint
from .emitters import Emitters
from .model import LocNet, ModelConfig
from .heads import HeadSpec, decode_output
from .psf import AstigmaticPSF
from .train import TrainConfig, select_device

__all__ = ["Localizer", "add_localize_arguments", "cli_localize"]


class Localizer:
    """A trained network plus everything needed to turn frames into localizations.

    Parameters
    ----------
    model : LocNet
        Trained network.
    spec : MixtureSpec or TargetSpec
        Its output grid (head, field, upsampling, photon scale).
    camera : EMCCD
        Camera model used to map ADU to photons.
    threshold : float
        Detection threshold on the peak amplitude (score), >= 0.
    device : str or torch.device, optional
        Inference device (default: cuda, mps or cpu, whichever is available).
    batch_frames : int
        Frames per network call.
    """

    def __init__(self, model: LocNet, spec: HeadSpec, camera: EMCCD, threshold: float, *,
                 device: str | torch.device | None = None, batch_frames: int = 32) -> None:
        if not isinstance(model, LocNet):
            raise TypeError(f"model must be a LocNet, got {type(model).__name__}")
        if not (np.isfinite(threshold) and threshold >= 0):
            raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
        if isinstance(batch_frames, bool) or not isinstance(batch_frames, int) or batch_frames < 1:
            raise ValueError(f"batch_frames must be a positive integer, got {batch_frames!r}")
        self.device = select_device(device)
        self.model = model.to(self.device).eval()
        self.spec, self.camera, self.threshold, self.batch_frames = spec, camera, float(threshold), batch_frames
        self.info: dict[str, Any] = {}

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device | None = None,
                        **kwargs) -> "Localizer":
        """Load a checkpoint written by :func:`structloc.train.train` (validated, see
        :func:`structloc.checkpoint.load_checkpoint`)."""
        data = load_checkpoint(path)
        try:
            config = TrainConfig.from_dict(data["config"])
            model = LocNet(ModelConfig.from_dict(data["model_config"]))
            model.load_state_dict(data["model"])
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(f"{path}: checkpoint does not match this structloc's model ({exc})") from None
        localizer = cls(model, config.target_spec(), config.camera, float(data["threshold"]), device=device,
                        **kwargs)
        localizer.info = {"path": str(path), "config": data["config"], "step": data["step"],
                          "history": data["history"]}
        return localizer

    @classmethod
    def pretrained(cls, name: str, device: str | torch.device | None = None, **kwargs) -> "Localizer":
        """Load a model shipped with structloc by name, e.g. ``"helix_high"`` (see
        :func:`structloc.pretrained.available`); other arguments as :meth:`from_checkpoint`."""
        from .pretrained import checkpoint_path

        return cls.from_checkpoint(checkpoint_path(name), device=device, **kwargs)

    @property
    def psf(self) -> AstigmaticPSF:
        """The PSF model of the frames the network was trained on (from its checkpoint): simulate
        test frames with it, so that they hold what the network learned to invert."""
        if "config" not in self.info:
            raise ValueError("this Localizer was not loaded from a checkpoint: its training PSF is unknown")
        return TrainConfig.from_dict(self.info["config"]).psf

    @property
    def frame_shape(self) -> tuple[int, int]:
        """(rows, columns) of the frames this localizer accepts."""
        return self.spec.field.height_px, self.spec.field.width_px

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
        if frames.ndim != 3 or tuple(frames.shape[1:]) != self.frame_shape:
            raise ValueError(f"frames must have shape (n, {self.frame_shape[0]}, {self.frame_shape[1]}) "
                             f"for this model, got {tuple(frames.shape)}")
        return frames

    @torch.no_grad()
    def __call__(self, frames_adu: np.ndarray | torch.Tensor, *, frame_offset: int = 0) -> Emitters:
        """Localizations in ADU frames of shape (n, H, W) (or one (H, W) frame).

        Returns
        -------
        Emitters
            Columns frame (from ``frame_offset``), x_nm, y_nm, z_nm, photons, score.

        Raises
        ------
        ValueError
            On a frame shape other than the model's field, or NaN/inf values.
        TypeError
            On non-numeric frames.
        """
        frames = self._check_frames(frames_adu)
        tables = []
        for start in range(0, frames.shape[0], self.batch_frames):
            chunk = frames[start:start + self.batch_frames]
            if not isinstance(chunk, torch.Tensor):  # a copy: memory-mapped stacks are read-only
                chunk = torch.from_numpy(np.array(chunk, dtype=np.float32))
            chunk = chunk.to(self.device, torch.float32)
            if not torch.isfinite(chunk).all():
                raise ValueError("frames contain NaN or infinite values")
            output = self.model(self.camera.to_photons(chunk))
            tables.append(decode_output(output, self.spec, self.threshold, frame_offset=frame_offset + start))
        return Emitters.concat(tables) if tables else Emitters.empty(with_score=True)

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


def add_localize_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``structloc localize`` (see :func:`cli_localize`)."""
    parser.add_argument("--model", required=True, help="checkpoint MODEL.pt from structloc train")
    parser.add_argument("--frames", required=True, help="TIFF stack of ADU frames")
    parser.add_argument("--out", required=True, help="localization CSV (challenge format, frames from 1)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N, mps or auto (default)")
    parser.add_argument("--chunk-frames", type=int, default=256, help="frames read per chunk")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def cli_localize(args: argparse.Namespace) -> int:
    """``structloc localize``: TIFF stack -> challenge localization CSV."""
    from .io import write_localizations_csv

    localizer = Localizer.from_checkpoint(args.model, device=args.device)
    table = localizer.localize_tiff(Path(args.frames), chunk_frames=args.chunk_frames,
                                    progress=not args.no_progress)
    write_localizations_csv(args.out, table)
    print(f"wrote {len(table)} localizations of {args.frames} to {args.out}")
    return 0
