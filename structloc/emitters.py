"""The emitters table: the one data structure that flows between structloc's steps.

Samplers produce it, the simulator renders it, the localizer returns it (with a ``score``) and
the evaluation compares two of them. Columns are plain 1-D numpy arrays of equal length.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

__all__ = ["Emitters"]

_FLOAT_COLUMNS = ("x_nm", "y_nm", "z_nm", "photons")


def _as_column(name: str, values: Any, dtype: type) -> np.ndarray:
    try:
        array = np.asarray(values)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds
        raise TypeError(f"Emitters.{name}: cannot convert to an array ({exc})") from None
    if array.ndim != 1:
        raise ValueError(f"Emitters.{name} must be 1-D, got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Emitters.{name} must be numeric, got dtype {array.dtype}")
    if dtype is np.int64:
        if array.dtype.kind == "f":
            if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
                raise ValueError(f"Emitters.{name} must hold whole frame numbers")
        out = array.astype(np.int64)
        if out.size and out.min() < 0:
            raise ValueError(f"Emitters.{name} must be >= 0 (frames count from 0 in code)")
        return out
    out = array.astype(np.float64)
    if not np.all(np.isfinite(out)):
        bad = int(np.count_nonzero(~np.isfinite(out)))
        raise ValueError(f"Emitters.{name} has {bad} NaN or infinite value(s)")
    return out


@dataclass(frozen=True, eq=False)
class Emitters:
    """A table of emitters (ground truth) or localizations (predictions).

    Parameters
    ----------
    frame : array_like of int, shape (n,)
        Frame index, counted from 0.
    x_nm, y_nm, z_nm : array_like of float, shape (n,)
        Position in nm; origin at the top-left corner of the top-left pixel, y down, z = 0 at focus.
    photons : array_like of float, shape (n,)
        Photons emitted in that frame (ground truth) or estimated intensity (predictions); >= 0.
    score : array_like of float, shape (n,), optional
        Detection confidence of a localization; NaN-free. ``None`` for ground truth.

    Raises
    ------
    ValueError
        On NaN/inf values, negative photons or frames, or columns of different lengths.
    TypeError
        On non-numeric columns.
    """

    frame: np.ndarray
    x_nm: np.ndarray
    y_nm: np.ndarray
    z_nm: np.ndarray
    photons: np.ndarray
    score: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", _as_column("frame", self.frame, np.int64))
        for name in _FLOAT_COLUMNS:
            object.__setattr__(self, name, _as_column(name, getattr(self, name), np.float64))
        if self.score is not None:
            object.__setattr__(self, "score", _as_column("score", self.score, np.float64))
        lengths = {f.name: len(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"Emitters columns differ in length: {lengths}")
        if np.any(self.photons < 0):
            raise ValueError("Emitters.photons must be >= 0 (negative photon counts given)")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def empty(cls, with_score: bool = False) -> "Emitters":
        """An empty table (valid input everywhere; gives empty frames and defined metrics)."""
        z = np.zeros(0)
        return cls(np.zeros(0, np.int64), z, z, z, z, z if with_score else None)

    @classmethod
    def concat(cls, tables: "list[Emitters]") -> "Emitters":
        """Stack tables row-wise (score kept only if every table has one)."""
        tables = list(tables)
        if not tables:
            return cls.empty()
        keep_score = all(t.score is not None for t in tables)
        return cls(
            *(np.concatenate([getattr(t, name) for t in tables]) for name in ("frame",) + _FLOAT_COLUMNS),
            score=np.concatenate([t.score for t in tables]) if keep_score else None,
        )

    # -- access -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.frame.shape[0])

    @property
    def n_frames(self) -> int:
        """One more than the largest frame index (0 for an empty table)."""
        return int(self.frame.max()) + 1 if len(self) else 0

    def xyz_nm(self) -> np.ndarray:
        """Positions as an (n, 3) array in nm."""
        return np.stack([self.x_nm, self.y_nm, self.z_nm], axis=1)

    def take(self, index: np.ndarray) -> "Emitters":
        """Rows selected by an integer or boolean index."""
        return Emitters(
            self.frame[index], self.x_nm[index], self.y_nm[index], self.z_nm[index],
            self.photons[index], None if self.score is None else self.score[index],
        )

    def in_frame(self, frame: int) -> "Emitters":
        """Rows of one frame."""
        return self.take(self.frame == frame)

    def sorted(self) -> "Emitters":
        """Rows sorted by frame (stable)."""
        return self.take(np.argsort(self.frame, kind="stable"))

    def shift_frames(self, offset: int) -> "Emitters":
        """The same rows with ``offset`` added to every frame index."""
        return Emitters(self.frame + offset, self.x_nm, self.y_nm, self.z_nm, self.photons, self.score)

    def to_dataframe(self):
        """The table as a pandas DataFrame (columns frame, x_nm, y_nm, z_nm, photons[, score])."""
        import pandas as pd

        data = {name: getattr(self, name) for name in ("frame",) + _FLOAT_COLUMNS}
        if self.score is not None:
            data["score"] = self.score
        return pd.DataFrame(data)

    def __repr__(self) -> str:
        return f"Emitters(n={len(self)}, frames={self.n_frames}, score={'yes' if self.score is not None else 'no'})"
