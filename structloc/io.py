"""File input and output: localization tables (CSV), image stacks (TIFF), camera files.

Three CSV formats are read (detected from the header line) and written:

- **challenge activations** (ground truth of the SMLM Challenge 2016):
  ``Ground-truth,frame,xnano,ynano,znano,intensity`` - running id, frame, x, y, z in nm, photons;
- **challenge localizations**: ``frame,x,y,z,photons`` (nm; an optional last ``score`` column);
- **ThunderSTORM**: quoted headers such as ``"id","frame","x [nm]","y [nm]","z [nm]",
  "intensity [photon]",...``; columns are found by name, others are ignored.

In every file frames count from 1; in code (:class:`~structloc.emitters.Emitters`) from 0. The
conversion happens here and nowhere else. Every writer goes through :func:`atomic_write`: the data
go to a temporary file in the target directory, which then replaces the target in one step, so a
reader never sees a half-written file.

Camera files (JSON or TOML, :func:`read_camera_file`) give the camera of a user's own frames.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from .emitters import Emitters

if TYPE_CHECKING:
    from .camera import Camera

__all__ = [
    "CSV_FORMATS",
    "atomic_path",
    "atomic_write",
    "check_output_path",
    "detect_csv_format",
    "read_localizations",
    "write_activations_csv",
    "write_localizations_csv",
    "write_thunderstorm_csv",
    "read_tiff_stack",
    "iter_tiff_chunks",
    "write_tiff_stack",
    "load_mt0_ground_truth",
    "read_camera_file",
    "write_camera_file",
]

PathLike = str | os.PathLike

_ACTIVATIONS_HEADER = ("ground-truth", "frame", "xnano", "ynano", "znano", "intensity")
_LOCALIZATIONS_HEADER = ("frame", "x", "y", "z", "photons")
_THUNDERSTORM_NAMES = {"frame": "frame", "x [nm]": "x_nm", "y [nm]": "y_nm", "z [nm]": "z_nm",
                       "intensity [photon]": "photons"}
#: Format names returned by :func:`detect_csv_format`.
CSV_FORMATS = ("activations", "localizations", "thunderstorm")


# -- atomic writes ----------------------------------------------------------------------------
def check_output_path(path: PathLike) -> Path:
    """``path`` as a Path, checked to be writable as a file: not a directory, in one that exists.

    Commands call this on every output before they start work, so that nothing is computed (or
    half written) for an output that cannot be written.

    Raises
    ------
    IsADirectoryError
        If ``path`` is an existing directory.
    FileNotFoundError
        If the directory of ``path`` does not exist.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"output path {target} is a directory; give a file name")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot write {target}: directory {target.parent} does not exist")
    return target


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Context manager yielding a temporary path that replaces ``path`` on success.

    The temporary file lives in the same directory (so :func:`os.replace` is atomic) and keeps
    the target's suffix. On an exception it is deleted and ``path`` is left untouched.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        As :func:`check_output_path`.
    """
    target = check_output_path(path)
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write(path: PathLike, writer: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``writer(tmp_path)`` writes a temporary file that then replaces it.

    Parameters
    ----------
    path : str or PathLike
        Target file.
    writer : callable
        Called with the temporary path; must create the file there.

    Returns
    -------
    Path
        The target path.
    """
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def _existing(path: PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path


_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _existing_text(path: PathLike, kind: str) -> Path:
    """An existing file checked to be text (no NUL byte in its first 8 kB), not binary."""
    path = _existing(path)
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if b"\x00" in head:
        what = "a TIFF image" if head.startswith(_TIFF_MAGIC) else "a binary file"
        raise ValueError(f"{path} is {what}, not a {kind} text file")
    return path


# -- CSV reading ------------------------------------------------------------------------------
def _split_header(line: str) -> list[str]:
    return [cell.strip().strip('"').strip().lower() for cell in line.lstrip("\ufeff").split(",")]


def detect_csv_format(header_line: str) -> str:
    """Name of the CSV format (one of :data:`CSV_FORMATS`) with this header line.

    Raises
    ------
    ValueError
        If the header is none of the supported formats.
    """
    cells = _split_header(header_line)
    if tuple(cells) == _ACTIVATIONS_HEADER:
        return "activations"
    if tuple(cells[:5]) == _LOCALIZATIONS_HEADER and cells[5:] in ([], ["score"]):
        return "localizations"
    if {"frame", "x [nm]", "y [nm]"} <= set(cells):
        return "thunderstorm"
    raise ValueError(
        f"unknown CSV header {header_line.strip()!r}; expected challenge activations "
        f"({','.join(_ACTIVATIONS_HEADER)}), challenge localizations (frame,x,y,z,photons[,score]) "
        "or ThunderSTORM (\"frame\",\"x [nm]\",\"y [nm]\",...)"
    )


def _column_map(fmt: str, cells: list[str]) -> dict[str, int]:
    """Emitters field -> column index in the file."""
    if fmt == "activations":
        return {"frame": 1, "x_nm": 2, "y_nm": 3, "z_nm": 4, "photons": 5}
    if fmt == "localizations":
        out = {"frame": 0, "x_nm": 1, "y_nm": 2, "z_nm": 3, "photons": 4}
        if len(cells) == 6:
            out["score"] = 5
        return out
    return {field: cells.index(name) for name, field in _THUNDERSTORM_NAMES.items() if name in cells}


def _problem_in_row(cells: list[str], n_cols: int, columns: dict[str, int]) -> str | None:
    """What is wrong with one data row, or None."""
    if len(cells) != n_cols:
        return f"expected {n_cols} comma-separated values, found {len(cells)}"
    values = []
    for k, cell in enumerate(cells):
        text = cell.strip().strip('"')
        try:
            value = float(text)
        except ValueError:
            return f"column {k + 1}: {text!r} is not a number"
        if not math.isfinite(value):
            return f"column {k + 1}: {text!r} is not a finite number"
        values.append(value)
    frame = values[columns["frame"]]
    if frame != round(frame) or frame < 1:
        return f"frame {cells[columns['frame']].strip()!r} is not a whole number >= 1 (files count frames from 1)"
    if "photons" in columns and values[columns["photons"]] < 0:
        return f"negative photon count {cells[columns['photons']].strip()!r}"
    return None


def _locate_problem(path: Path, n_cols: int, columns: dict[str, int]) -> ValueError:
    """Scan the file line by line (only on the error path) and describe the first bad row."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        next(handle)
        for lineno, line in enumerate(handle, start=2):
            if not line.strip():
                continue
            problem = _problem_in_row(line.rstrip("\r\n").split(","), n_cols, columns)
            if problem:
                return ValueError(f"{path}: line {lineno}: {problem}")
    return ValueError(f"{path}: malformed CSV (could not be parsed)")


def read_localizations(path: PathLike) -> Emitters:
    """Read a localization or ground-truth CSV in any supported format (see the module docstring).

    Parameters
    ----------
    path : str or PathLike
        CSV file; its header line decides the format.

    Returns
    -------
    Emitters
        Positions in nm, frames converted to count from 0. ``score`` is set only for challenge
        localization files with a ``score`` column. Missing ThunderSTORM ``z [nm]`` or
        ``intensity [photon]`` columns give 0.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        On a binary file (e.g. a TIFF), an unknown header or a malformed row (wrong number of
        values, non-numeric or non-finite cell, frame < 1, negative photons); the message names
        the file and line.
    """
    import pandas as pd

    path = _existing_text(path, "CSV")
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    if not header.strip():
        raise ValueError(f"{path}: empty file (expected a CSV header line)")
    try:
        fmt = detect_csv_format(header)
    except ValueError as exc:
        raise ValueError(f"{path}: line 1: {exc}") from None
    cells = _split_header(header)
    columns = _column_map(fmt, cells)
    n_cols = len(cells)
    try:
        table = pd.read_csv(path, skiprows=1, header=None, dtype=np.float64, skipinitialspace=True,
                            quotechar='"', encoding="utf-8").to_numpy()
    except pd.errors.EmptyDataError:
        return Emitters.empty(with_score="score" in columns)
    except (ValueError, pd.errors.ParserError):
        raise _locate_problem(path, n_cols, columns) from None
    if table.shape[1] != n_cols or not np.all(np.isfinite(table)):
        raise _locate_problem(path, n_cols, columns)
    frame = table[:, columns["frame"]]
    photons = table[:, columns["photons"]] if "photons" in columns else np.zeros(len(table))
    if np.any(frame != np.round(frame)) or np.any(frame < 1) or np.any(photons < 0):
        raise _locate_problem(path, n_cols, columns)
    zeros = np.zeros(len(table))
    return Emitters(
        frame.astype(np.int64) - 1,
        table[:, columns["x_nm"]],
        table[:, columns["y_nm"]],
        table[:, columns["z_nm"]] if "z_nm" in columns else zeros,
        photons,
        table[:, columns["score"]] if "score" in columns else None,
    )


# -- CSV writing ------------------------------------------------------------------------------
def _write_csv(path: PathLike, header: str, columns: list[np.ndarray], fmt: str) -> Path:
    def writer(tmp: Path) -> None:
        data = np.column_stack(columns) if columns[0].size else np.zeros((0, len(columns)))
        np.savetxt(tmp, data, fmt=fmt, delimiter=",", header=header, comments="")

    return atomic_write(path, writer)


def _check_emitters(emitters: Emitters) -> None:
    if not isinstance(emitters, Emitters):
        raise TypeError(f"expected a structloc Emitters table, got {type(emitters).__name__}")


def write_activations_csv(path: PathLike, emitters: Emitters) -> Path:
    """Write ground truth in the challenge activations format (frames from 1), atomically.

    Columns ``Ground-truth,frame,xnano,ynano,znano,intensity``: running id from 1, frame, x, y, z
    in nm, photons.
    """
    _check_emitters(emitters)
    ids = np.arange(1, len(emitters) + 1)
    return _write_csv(path, ",".join(["Ground-truth", "frame", "xnano", "ynano", "znano", "intensity"]),
                      [ids, emitters.frame + 1, emitters.x_nm, emitters.y_nm, emitters.z_nm, emitters.photons],
                      "%d,%d,%.5f,%.5f,%.5f,%.5f")


def write_localizations_csv(path: PathLike, emitters: Emitters) -> Path:
    """Write localizations as challenge CSV ``frame,x,y,z,photons[,score]`` (nm, frames from 1)."""
    _check_emitters(emitters)
    columns = [emitters.frame + 1, emitters.x_nm, emitters.y_nm, emitters.z_nm, emitters.photons]
    header, fmt = "frame,x,y,z,photons", "%d,%.5f,%.5f,%.5f,%.5f"
    if emitters.score is not None:
        columns.append(emitters.score)
        header, fmt = header + ",score", fmt + ",%.6g"
    return _write_csv(path, header, columns, fmt)


def write_thunderstorm_csv(path: PathLike, emitters: Emitters) -> Path:
    """Write localizations as ThunderSTORM CSV (quoted headers, nm, photons, frames from 1)."""
    _check_emitters(emitters)
    header = ",".join(f'"{name}"' for name in ("id", "frame", "x [nm]", "y [nm]", "z [nm]", "intensity [photon]"))
    ids = np.arange(1, len(emitters) + 1)
    return _write_csv(path, header,
                      [ids, emitters.frame + 1, emitters.x_nm, emitters.y_nm, emitters.z_nm, emitters.photons],
                      "%d,%d,%.5f,%.5f,%.5f,%.5f")


# -- TIFF -------------------------------------------------------------------------------------
def _tiff_error(path: Path, exc: Exception) -> ValueError:
    return ValueError(f"{path}: not a readable TIFF stack ({type(exc).__name__}: {exc})")


def _check_stack(path: Path, array: np.ndarray) -> np.ndarray:
    """``array`` as (frames, rows, columns); a single 2-D image becomes one frame."""
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"{path}: expected a stack of 2-D frames, got an image of shape {array.shape}")
    if array.dtype.kind not in "uif":
        raise ValueError(f"{path}: pixels must be integers or floats, got dtype {array.dtype}")
    return array


def _tiff_layout(path: Path, tif) -> tuple[tuple[int, int, int], bool]:
    """Stack shape (frames, rows, columns) and whether its pixels can be memory-mapped whole."""
    series = tif.series[0]
    shape = tuple(series.shape)
    shape = (1, *shape) if len(shape) == 2 else shape
    if len(shape) != 3:
        raise ValueError(f"{path}: expected a stack of 2-D frames, got shape {tuple(series.shape)}")
    offset = series.dataoffset
    mappable = offset is not None and offset + series.nbytes <= path.stat().st_size
    return shape, mappable


@contextlib.contextmanager
def _tiff_errors(path: Path) -> Iterator[None]:
    """Turn tifffile's many exception types into one ValueError naming the file."""
    try:
        yield
    except (TypeError, FileNotFoundError):
        raise
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise _tiff_error(path, exc) from None
    except Exception as exc:  # tifffile raises TiffFileError, struct.error, OSError, ...
        raise _tiff_error(path, exc) from None


def read_tiff_stack(path: PathLike, memmap: bool = True) -> np.ndarray:
    """Read a TIFF stack as an array of shape (frames, rows, columns).

    Parameters
    ----------
    path : str or PathLike
        TIFF file (one frame per page, or a single 2-D image, returned as one frame).
    memmap : bool
        Map the file into memory (read-only) when its pixel data are contiguous, uncompressed
        and complete, so that large stacks are not loaded; otherwise read it.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a TIFF, is truncated, does not hold 2-D frames or its pixels are not numbers.
    """
    import tifffile

    path = _existing(path)
    with _tiff_errors(path), tifffile.TiffFile(path) as tif:
        shape, mappable = _tiff_layout(path, tif)
        array = tifffile.memmap(path, mode="r") if memmap and mappable else tif.asarray()
        array = _check_stack(path, array)
        if array.shape != shape:
            raise ValueError(f"{path}: truncated or inconsistent stack: read shape {array.shape}, "
                             f"the file declares {shape}")
        return array


def iter_tiff_chunks(path: PathLike, chunk_frames: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start_frame, frames)`` chunks of a TIFF stack without loading all of it.

    Contiguous stacks are memory-mapped; others are read page by page (one page per frame).

    Parameters
    ----------
    path : str or PathLike
        TIFF stack.
    chunk_frames : int
        Frames per chunk (>= 1; the last chunk may be shorter).

    Yields
    ------
    start_frame : int
        Index (from 0) of the chunk's first frame.
    frames : np.ndarray, shape (n, rows, columns)
        A copy of the chunk's pixels, in the file's dtype.
    """
    if not isinstance(chunk_frames, (int, np.integer)) or isinstance(chunk_frames, bool) or chunk_frames < 1:
        raise ValueError(f"chunk_frames must be a positive integer, got {chunk_frames!r}")
    return _iter_chunks(_existing(path), int(chunk_frames))  # arguments checked now, not at first next()


def _iter_chunks(path: Path, chunk_frames: int) -> Iterator[tuple[int, np.ndarray]]:
    import tifffile

    with _tiff_errors(path), tifffile.TiffFile(path) as tif:
        shape, mappable = _tiff_layout(path, tif)
        if mappable:
            stack = read_tiff_stack(path, memmap=True)
        elif len(tif.series[0].pages) == shape[0]:
            stack = None  # one page per frame: read the pages of each chunk
        else:
            stack = read_tiff_stack(path, memmap=False)  # unusual layout: read it once
        for start in range(0, shape[0], chunk_frames):
            stop = min(start + chunk_frames, shape[0])
            if stack is not None:
                chunk = np.array(stack[start:stop])
            else:
                chunk = tif.asarray(key=range(start, stop), series=0).reshape(stop - start, *shape[1:])
            yield start, _check_stack(path, chunk)


def write_tiff_stack(path: PathLike, frames: np.ndarray) -> Path:
    """Write camera frames as an uncompressed, memory-mappable TIFF stack, atomically.

    Parameters
    ----------
    path : str or PathLike
        Target file.
    frames : np.ndarray of uint16, shape (n, rows, columns) or (rows, columns)
        Frames in ADU.

    Raises
    ------
    TypeError
        If ``frames`` is not a uint16 numpy array.
    ValueError
        If it is not 2-D or 3-D.
    """
    import tifffile

    if not isinstance(frames, np.ndarray):
        raise TypeError(f"frames must be a numpy array, got {type(frames).__name__}")
    if frames.dtype != np.uint16:
        raise TypeError(f"frames must be uint16 (camera counts in ADU), got dtype {frames.dtype}")
    if frames.ndim == 2:
        frames = frames[None]
    if frames.ndim != 3:
        raise ValueError(f"frames must have shape (n, rows, columns), got {frames.shape}")
    bigtiff = frames.nbytes > 2**32 - 2**25
    return atomic_write(path, lambda tmp: tifffile.imwrite(
        tmp, np.ascontiguousarray(frames), photometric="minisblack", bigtiff=bigtiff, metadata={"axes": "ZYX"}))


# -- camera files ----------------------------------------------------------------------------
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

    from .camera import camera_from_dict

    path = _existing_text(path, "JSON or TOML")
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

    from .camera import camera_to_dict

    if Path(path).suffix.lower() != ".json":
        raise ValueError(f"camera files are written as JSON; give a .json path, got {path}")
    record = camera_to_dict(camera)
    return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(record, indent=2) + "\n"))


# -- shipped data -----------------------------------------------------------------------------
def load_mt0_ground_truth(kind: str = "LD") -> Emitters:
    """Ground truth of the SMLM Challenge 2016 MT0 sample (frames from 0, nm, photons).

    Parameters
    ----------
    kind : {"LD", "HD"}
        Low-density (24,938 activations, 19,996 frames) or high-density (31,612, 2,500 frames) set.
    """
    from .datasets import mt0_activations_path

    return read_localizations(mt0_activations_path(kind))
