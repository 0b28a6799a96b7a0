"""Image stacks as TIFF (tifffile): memory-mapped reading, chunked streaming, atomic writing."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import numpy as np

from ..checks import integer_at_least
from .files import PathLike, atomic_write, existing_file

__all__ = ["read_tiff_stack", "iter_tiff_chunks", "write_tiff_stack"]


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

    path = existing_file(path)
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
    chunk_frames = integer_at_least("chunk_frames", chunk_frames)
    return _iter_chunks(existing_file(path), chunk_frames)  # arguments checked now, not at first next()


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
