"""The imaging field: frame size, pixel size and the axial range.

Every table in structloc holds positions in nm. The origin (0, 0) is the top-left corner of the
top-left pixel; x runs along columns, y along rows (downwards); z = 0 is the focal plane.
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import integer_at_least, positive_float

__all__ = ["Field", "BinGrid"]


@dataclass(frozen=True)
class Field:
    """Geometry of a simulated camera frame.

    Parameters
    ----------
    width_px, height_px : int
        Frame size in pixels (columns, rows). Default 64 x 64, as the SMLM Challenge 2016.
    pixel_nm : float
        Pixel size in the sample plane, in nm. Default 100 nm.
    z_min_nm, z_max_nm : float
        Axial range in nm that emitters may occupy. Default [-750, +750] nm.
    """

    width_px: int = 64
    height_px: int = 64
    pixel_nm: float = 100.0
    z_min_nm: float = -750.0
    z_max_nm: float = 750.0

    def __post_init__(self) -> None:
        for name in ("width_px", "height_px"):
            integer_at_least(f"Field.{name}", getattr(self, name))
        positive_float("Field.pixel_nm", self.pixel_nm)
        if not (self.z_min_nm < self.z_max_nm):
            raise ValueError(
                f"Field.z_min_nm ({self.z_min_nm}) must be smaller than z_max_nm ({self.z_max_nm})"
            )

    @property
    def width_nm(self) -> float:
        """Field width (x extent) in nm."""
        return self.width_px * self.pixel_nm

    @property
    def height_nm(self) -> float:
        """Field height (y extent) in nm."""
        return self.height_px * self.pixel_nm

    @property
    def depth_nm(self) -> float:
        """Axial extent in nm."""
        return self.z_max_nm - self.z_min_nm

    @property
    def area_um2(self) -> float:
        """Lateral area in um^2 (used to turn densities in emitters/um^2 into counts)."""
        return self.width_nm * self.height_nm * 1e-6


@dataclass(frozen=True)
class BinGrid:
    """A grid of output bins ``upsample`` times finer than the camera pixels of ``field``.

    The base of the network heads' specs (:class:`structloc.targets.TargetSpec`,
    :class:`structloc.mixture.MixtureSpec`).

    Parameters
    ----------
    field : Field
        Camera geometry (frame size, pixel size, axial range).
    upsample : int
        Bins per camera pixel along each axis (>= 1).
    """

    field: Field = Field()
    upsample: int = 4

    def __post_init__(self) -> None:
        kind = type(self).__name__
        if not isinstance(self.field, Field):
            raise TypeError(f"{kind}.field must be a Field, got {type(self.field).__name__}")
        integer_at_least(f"{kind}.upsample", self.upsample)

    @property
    def bin_nm(self) -> float:
        """Size of one bin in nm."""
        return self.field.pixel_nm / self.upsample

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the grid."""
        return self.field.height_px * self.upsample, self.field.width_px * self.upsample
