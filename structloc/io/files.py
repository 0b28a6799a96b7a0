"""Files: output paths checked before work starts, atomic writes, and checked input files.

Every writer of structloc goes through :func:`atomic_write`: the data go to a temporary file in
the target directory, which then replaces the target in one step, so a reader never sees a
half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["PathLike", "check_output_path", "atomic_path", "atomic_write", "existing_file", "existing_text_file"]

PathLike = str | os.PathLike


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


def existing_file(path: PathLike) -> Path:
    """``path`` as a Path if it is an existing file (FileNotFoundError naming it if not)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path


_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def existing_text_file(path: PathLike, kind: str) -> Path:
    """An existing file checked to be text (no NUL byte in its first 8 kB), not binary."""
    path = existing_file(path)
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if b"\x00" in head:
        what = "a TIFF image" if head.startswith(_TIFF_MAGIC) else "a binary file"
        raise ValueError(f"{path} is {what}, not a {kind} text file")
    return path
