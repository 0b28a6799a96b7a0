"""Localization tables as CSV: the challenge's activations and localizations, and ThunderSTORM.

Three CSV formats are read (detected from the header line) and written:

- **challenge activations** (ground truth of the SMLM Challenge 2016):
  ``Ground-truth,frame,xnano,ynano,znano,intensity`` - running id, frame, x, y, z in nm, photons;
- **challenge localizations**: ``frame,x,y,z,photons`` (nm; an optional last ``score`` column);
- **ThunderSTORM**: quoted headers such as ``"id","frame","x [nm]","y [nm]","z [nm]",
  "intensity [photon]",...``; columns are found by name, others are ignored.

In every file frames count from 1; in code (:class:`~structloc.emitters.Emitters`) from 0. The
conversion happens here and nowhere else. :func:`load_mt0_ground_truth` is the one loader of the
shipped MT0 ground truth.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..datasets import mt0_activations_path
from ..emitters import Emitters
from .files import PathLike, atomic_write, existing_text_file

__all__ = ["CSV_FORMATS", "detect_csv_format", "read_localizations", "write_activations_csv",
           "write_localizations_csv", "write_thunderstorm_csv", "load_mt0_ground_truth"]

_ACTIVATIONS_HEADER = ("ground-truth", "frame", "xnano", "ynano", "znano", "intensity")
_LOCALIZATIONS_HEADER = ("frame", "x", "y", "z", "photons")
_THUNDERSTORM_NAMES = {"frame": "frame", "x [nm]": "x_nm", "y [nm]": "y_nm", "z [nm]": "z_nm",
                       "intensity [photon]": "photons"}
#: Format names returned by :func:`detect_csv_format`.
CSV_FORMATS = ("activations", "localizations", "thunderstorm")


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

    path = existing_text_file(path, "CSV")
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


# -- the shipped MT0 ground truth -------------------------------------------------------------
def load_mt0_ground_truth(kind: str = "LD") -> Emitters:
    """Ground truth of the SMLM Challenge 2016 MT0 sample (frames from 0, nm, photons).

    Parameters
    ----------
    kind : {"LD", "HD"}
        Low-density (24,938 activations, 19,996 frames) or high-density (31,612, 2,500 frames) set.
    """
    return read_localizations(mt0_activations_path(kind))
