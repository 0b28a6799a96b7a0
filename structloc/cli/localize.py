"""``structloc localize``: a TIFF stack to a localization CSV with a trained model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..camera import (CAMERA_NAMES, CAMERA_PARAMETERS, Camera, camera_from_name, camera_parameters,
                      describe_camera)
from ..io import check_output_path, read_camera_file, write_localizations_csv
from ..localize import PRECISIONS, Localizer
from ..pretrained import resolve_model
from .arguments import positive_int, torch_device

__all__ = ["NAME", "SUMMARY", "add_arguments", "run", "add_camera_arguments", "camera_from_arguments"]

NAME = "localize"
SUMMARY = "localize emitters in a TIFF stack with a trained model"

_FRAME_SIZE_HELP = (
    "TIFF stack of ADU frames, of any size (not only the training size; the network is fully "
    "convolutional). Heights and widths that are not a multiple of the network's strides (8 px for "
    "the fast preset) run as overlapping crops of the largest multiple that fits, whose outputs are "
    "joined (up to 4 network runs per frame); frames smaller than that are padded. Positions are "
    "in nm from the top-left corner of the frame as given")


def add_camera_arguments(parser: argparse.ArgumentParser) -> None:
    """Options giving the camera of the frames (see :func:`camera_from_arguments`)."""
    group = parser.add_argument_group(
        "camera of the frames",
        "ADU are converted to photons with a camera model before the network sees them. Default: "
        "the training camera stored in the checkpoint (the SMLM Challenge 2016 EMCCD for the "
        "shipped models). For other cameras give --camera with any of its parameters (the others "
        "keep structloc's defaults for that camera; emccd's are the challenge camera's), or "
        "--camera-file.")
    models = "; ".join(f"{name}: {', '.join(_flag(p) for p in camera_parameters(name))}" for name in CAMERA_NAMES)
    group.add_argument("--camera", choices=CAMERA_NAMES, default=None,
                       help=f"camera model of the frames, with these options ({models})")
    group.add_argument("--camera-file", default=None, metavar="FILE",
                       help='JSON (.json) or TOML camera file: camera = "scmos" and parameters by '
                            "their names with underscores, e.g. offset_adu = 100 (sCMOS maps as "
                            "nested lists)")
    for name, text in CAMERA_PARAMETERS.items():
        group.add_argument(_flag(name), dest=f"camera_{name}", type=int if name == "bit_depth" else float,
                           default=None, metavar="N" if name == "bit_depth" else "X", help=text)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def camera_from_arguments(args: argparse.Namespace) -> tuple[Camera | None, str]:
    """The camera the options of :func:`add_camera_arguments` give, and where it came from.

    Returns ``(None, "")`` when none are given (the checkpoint's camera applies).

    Raises
    ------
    ValueError
        On a parameter without ``--camera``, one that the chosen camera does not have, both
        ``--camera`` and ``--camera-file``, or a bad value or file.
    """
    params = {name: getattr(args, f"camera_{name}") for name in CAMERA_PARAMETERS
              if getattr(args, f"camera_{name}", None) is not None}
    if args.camera_file is not None:
        if args.camera is not None or params:
            extra = "--camera" if args.camera is not None else _flag(next(iter(params)))
            raise ValueError(f"{extra} cannot be combined with --camera-file (put the camera in the file)")
        return read_camera_file(args.camera_file), f"the camera file {args.camera_file}"
    if args.camera is None:
        if params:
            raise ValueError(f"{_flag(next(iter(params)))} needs --camera {{{','.join(CAMERA_NAMES)}}}")
        return None, ""
    allowed = camera_parameters(args.camera)
    for name in params:
        if name not in allowed:
            raise ValueError(f"{_flag(name)} does not apply to --camera {args.camera}; its options are "
                             f"{', '.join(_flag(n) for n in allowed)}")
    return camera_from_name(args.camera, **params), f"--camera {args.camera}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``structloc localize`` (see :func:`run`)."""
    parser.add_argument("--model", required=True,
                        help="checkpoint MODEL.pt from structloc train, or a shipped model's name "
                             "(structloc.pretrained.available(): e.g. general, helix_high)")
    parser.add_argument("--frames", required=True, help=_FRAME_SIZE_HELP)
    parser.add_argument("--out", required=True, help="localization CSV (challenge format, frames from 1)")
    parser.add_argument("--device", type=torch_device, default=None, help="cpu, cuda, cuda:N, mps or auto (default)")
    parser.add_argument("--chunk-frames", type=positive_int, default=256, help="frames read per chunk")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="arithmetic of the network: float32 (default) or bfloat16, faster on a CUDA GPU "
                             "or a CPU with native bf16 (AVX512-BF16, AMX), refused elsewhere")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_camera_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """``structloc localize``: TIFF stack -> challenge localization CSV."""
    check_output_path(args.out)  # before any work
    camera, source = camera_from_arguments(args)
    localizer = Localizer.from_checkpoint(resolve_model(args.model), device=args.device, camera=camera,
                                          camera_source=source, precision=args.precision)
    print(f"camera: {describe_camera(localizer.camera)}, from {localizer.camera_source}")
    table = localizer.localize_tiff(Path(args.frames), chunk_frames=args.chunk_frames,
                                    progress=not args.no_progress)
    write_localizations_csv(args.out, table)
    print(f"wrote {len(table)} localizations of {args.frames} to {args.out}")
    return 0
