#!/usr/bin/env python
"""Execute every chapter notebook outside the repository, with structloc installed as a user would.

What a reader gets in Colab is the package installed from the repository (not editable: its
data and shipped models come from the wheel) and a working directory that is the book's folder of
a fresh clone. This script reproduces that away from the checkout:

1. a virtual environment in a temporary directory (``--system-site-packages``, so torch and the
   book's other dependencies are the ones already installed) and, inside it,
   ``pip install --no-deps --no-build-isolation --no-index`` of a copy of the package's sources
   (``pyproject.toml``, ``README.md``, ``structloc/``): a regular, non-editable install;
2. for each ``book/*.ipynb``: a fresh temporary working directory holding the notebook and the
   book folder's data that the chapters read (``results/``: what the Colab set-up cell's clone
   provides), and nothing else of the repository;
3. execution with nbclient in a kernel of that environment's Python, quick mode, with
   ``PYTHONPATH`` removed. A first cell (added to the copy) checks that ``structloc`` is imported
   from the environment and that no path of the repository is on ``sys.path``.

A chapter whose run ends in a timeout or a dead kernel (not an error raised by a cell) is run once
more in a fresh kernel, and the line says so. The reason: 3 of 52 runs of chapter 1 on the
development machine (ipykernel 7.4 and 6.31 alike, jupyter_client 8.10, pyzmq 27.3) stalled after
the last cell: the kernel had published "idle" and waited, and nbclient never received the cell's
``execute_reply``; a fresh kernel runs the chapter through. A kernel that dies before it starts,
or any other failure of the harness, is reported at once: retrying would not change it.

A chapter that fails here would fail for a reader (a path relative to the repository, data that
the wheel does not ship, ...). Prints one line per chapter and exits 1 if any failed.

Usage: python tools/run_notebooks_outside.py [CHAPTER.ipynb ...] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
#: What the wheel is built from.
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "structloc")
#: The book folder's data that chapters read relative to their working directory.
BOOK_DATA = ("results",)
KERNEL = "structloc-outside"
#: Longer than any quick-mode cell: all of chapter 4, the slowest chapter, took 166 s in CI.
CELL_TIMEOUT_S = 420
#: Fresh kernels a chapter gets after a timeout or a dead kernel (never after an error in a cell).
RETRIES = 1

PROBE = """\
# Added by tools/run_notebooks_outside.py: structloc must come from the installed wheel.
import os, sys, structloc
_repo = os.path.realpath({repo!r})
_pkg = os.path.realpath(structloc.__file__)
assert _pkg.startswith(os.path.realpath(sys.prefix) + os.sep), f"structloc imported from {{_pkg}}"
assert not _pkg.startswith(_repo + os.sep), f"structloc imported from the repository: {{_pkg}}"
_on_path = [p for p in sys.path if p and os.path.realpath(p).startswith(_repo)]
assert not _on_path, f"repository paths on sys.path: {{_on_path}}"
assert not os.getcwd().startswith(_repo), f"working directory inside the repository: {{os.getcwd()}}"
del _repo, _pkg, _on_path
"""


def run(cmd: list[str], **kwargs) -> None:
    """Run a command quietly; on failure raise with its output's last lines."""
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed (exit {done.returncode}):\n{tail}")


def package_files(root: Path = ROOT) -> list[Path]:
    """Files of :data:`PACKAGE_SOURCES` that git tracks or does not ignore (all of them outside git)."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--",
                                 *PACKAGE_SOURCES], cwd=root, capture_output=True, check=True).stdout
        return sorted({Path(p) for p in listed.decode().split("\0") if p and (root / p).is_file()})
    except (OSError, subprocess.CalledProcessError):
        return sorted(p.relative_to(root) for name in PACKAGE_SOURCES
                      for p in ([root / name] if (root / name).is_file() else (root / name).rglob("*"))
                      if p.is_file() and "__pycache__" not in p.parts)


def make_environment(tmp: Path) -> Path:
    """A venv in ``tmp`` with structloc installed non-editable; return its Python."""
    source = tmp / "src"
    for rel in package_files():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, source / rel)
    env_dir = tmp / "venv"
    # No pip of its own: the system site-packages lend theirs, which installs into the venv.
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)])
    python = env_dir / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         str(source)], cwd=tmp)
    return python


def install_kernel(tmp: Path, python: Path) -> Path:
    """A kernel spec running ``python``, in a Jupyter data directory under ``tmp`` (returned)."""
    data = tmp / "jupyter"
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "structloc (installed, outside the repository)", "language": "python"}))
    return data


class Stalled(RuntimeError):
    """A run ended by a timeout or a dead kernel rather than by an error in a cell."""


def execute(notebook: Path, workdir: Path) -> str | None:
    """Execute a copy of ``notebook`` in ``workdir``; None on success, else the error in one line.

    Raises
    ------
    Stalled
        If a cell timed out or the kernel died (worth a fresh kernel; see the module docstring).
    """
    workdir.mkdir(parents=True)
    for name in BOOK_DATA:
        if (notebook.parent / name).exists():
            shutil.copytree(notebook.parent / name, workdir / name)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE.format(repo=str(ROOT))))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute()
    except CellExecutionError as error:
        cell = next((i for i, c in enumerate(nb.cells) for o in c.get("outputs", [])
                     if o.get("output_type") == "error"), None)
        # The probe is cell 0, so ``cell`` is also the chapter's own cell number counted from 1.
        where = "the probe cell" if cell == 0 else f"cell {cell} of {notebook.name} (from 1)" if cell else "a cell"
        return f"{where}: {error.ename}: {' '.join(str(error.evalue).split())[:300]}"
    except (CellTimeoutError, DeadKernelError) as error:
        raise Stalled(f"{type(error).__name__}: {' '.join(str(error).split())[:300]}") from error
    except Exception as error:  # e.g. a kernel that died before replying: still one line
        return f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
    finally:
        nbformat.write(nb, workdir / notebook.name)  # the executed copy, for --keep
    return None


def execute_with_retries(notebook: Path, workdir: Path, retries: int = RETRIES) -> tuple[str | None, list[str]]:
    """:func:`execute`, given up to ``retries`` fresh kernels after a stall.

    Returns the error (None on success) and the stalls that were retried, each in one line.
    """
    stalls: list[str] = []
    for attempt in range(retries + 1):
        try:
            return execute(notebook, workdir.with_name(f"{workdir.name}-{attempt}") if attempt else workdir), stalls
        except Stalled as stall:
            stalls.append(str(stall))
    return stalls.pop(), stalls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every book/*.ipynb")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print it")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(BOOK.glob("*.ipynb"))
    if not notebooks:
        print(f"run_notebooks_outside: no notebooks in {BOOK}", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="structloc-outside-"))
    for name in ("PYTHONPATH", "MPLBACKEND"):  # the kernels inherit this environment
        os.environ.pop(name, None)
    os.environ["STRUCTLOC_MODE"] = "quick"
    os.environ["STRUCTLOC_WIDGETS"] = "off"  # headless: no sliders (structloc.notebook.widgets_enabled)
    failed = []
    try:
        start = time.perf_counter()
        python = make_environment(tmp)
        os.environ["JUPYTER_PATH"] = str(install_kernel(tmp, python))
        print(f"structloc installed (non-editable) in {tmp / 'venv'} in {time.perf_counter() - start:.0f} s")
        for notebook in notebooks:
            start = time.perf_counter()
            error, stalls = execute_with_retries(notebook, tmp / "run" / notebook.stem)
            seconds = time.perf_counter() - start
            note = "".join(f" (retried after: {stall})" for stall in stalls)
            print(f"{notebook.name:36s} {'ok' if error is None else 'FAILED':6s} {seconds:5.0f} s{note}",
                  flush=True)
            if error is not None:
                failed.append(f"{notebook.name}: {error}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
