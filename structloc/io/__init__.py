"""File input and output: localization tables (CSV), image stacks (TIFF), camera files.

- :mod:`~structloc.io.tables`: the challenge's activations and localizations CSV and
  ThunderSTORM CSV, read (format detected from the header) and written; frames count from 1 in
  every file and from 0 in code, converted there and nowhere else; :func:`load_mt0_ground_truth`,
  the one loader of the shipped MT0 ground truth;
- :mod:`~structloc.io.tiff`: TIFF stacks, memory-mapped or streamed in chunks;
- :mod:`~structloc.io.camera_files`: camera files (JSON or TOML, :func:`read_camera_file`) giving
  the camera of a user's own frames;
- :mod:`~structloc.io.files`: output paths checked before work starts and :func:`atomic_write`,
  through which every writer goes (a temporary file in the target directory replaces the target
  in one step, so a reader never sees a half-written file).
"""

from __future__ import annotations

from .camera_files import read_camera_file, write_camera_file
from .files import atomic_path, atomic_write, check_output_path
from .tables import (CSV_FORMATS, detect_csv_format, load_mt0_ground_truth, read_localizations,
                     write_activations_csv, write_localizations_csv, write_thunderstorm_csv)
from .tiff import iter_tiff_chunks, read_tiff_stack, write_tiff_stack

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
