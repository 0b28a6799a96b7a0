"""Camera files (JSON or TOML): the camera of a user's own frames."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .files import PathLike, atomic_write, existing_text_file

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = ["read_camera_file", "write_camera_file"]


def read_camera_file(path: PathLike) -> Camera:
    """Read a camera file: JSON (``.json``) or TOML (any other suffix, e.g. ``.toml``).

    The file names the model in ``camera`` (``"emccd"``, ``"scmos"`` or ``"ideal"``) and sets any
    of its parameters by their names (:func:`structloc.camera.camera_parameters`); the others
    keep their defaults. For example (TOML)::

        camera = "scmos"
        qe = 0.72
        offset_adu = 100.0
        gain_adu_per_e = 0.46
        read_noise_e = 1.4

    sCMOS ``offset_adu``, ``gain_adu_per_e`` and ``read_noise_e`` may be (H, W) nested lists
    (per-pixel maps; frames must then have that size).

    Returns
    -------
    structloc.camera.Camera

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        On a binary file, invalid JSON/TOML, an unknown camera or parameter, or a bad value; the
        message names the file.
    """
    import json

    from ..camera import camera_from_dict

    path = existing_text_file(path, "JSON or TOML")
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".json":
        kind, parse, errors = "JSON", json.loads, (json.JSONDecodeError,)
    else:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise ValueError(f"{path}: TOML camera files need Python >= 3.11; write it as JSON") from None
        kind, parse, errors = "TOML", tomllib.loads, (tomllib.TOMLDecodeError,)
    try:
        data = parse(text)
    except errors as exc:
        raise ValueError(f"{path}: not a valid {kind} camera file ({exc})") from None
    try:
        return camera_from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_camera_file(path: PathLike, camera: Camera) -> Path:
    """Write ``camera`` as a JSON camera file (see :func:`read_camera_file`), atomically.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.json`` (it would be read back as TOML).
    """
    import json

    from ..camera import camera_to_dict

    if Path(path).suffix.lower() != ".json":
        raise ValueError(f"camera files are written as JSON; give a .json path, got {path}")
    record = camera_to_dict(camera)
    return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(record, indent=2) + "\n"))
