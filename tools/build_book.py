#!/usr/bin/env python
"""Build the book (``jupyter-book build . -W --keep-going``), once more after a stalled execution.

About once in twenty runs of chapter 1 a headless execution stalled: the kernel idle with the
cell done, the client waiting for an ``execute_reply`` that never came (issue 12; each time at the
chapter's explorer cell, which now creates no widget in headless builds). myst-nb reports such a
run as a ``CellTimeoutError`` (or ``DeadKernelError``) after the configured timeout. A build that
fails with one of those is run once more, saying so; a build that fails for any other reason (a
cell's own error, a warning) fails at once with jupyter-book's exit code.

Usage (the Makefile's ``book`` target)::

    python tools/build_book.py            # from the repository root
"""

from __future__ import annotations

import subprocess
import sys

#: What myst-nb prints for an execution that stalled, never for a cell's own error.
STALL_MARKERS = ("CellTimeoutError", "DeadKernelError")
COMMAND = ("jupyter-book", "build", ".", "-W", "--keep-going")


def stall_in(log: str) -> str | None:
    """The first line of a build log that reports a stalled execution, or None."""
    return next((line.strip() for line in log.splitlines() if any(m in line for m in STALL_MARKERS)), None)


def run_build(command: tuple[str, ...] = COMMAND) -> tuple[int, str]:
    """Run the build, echoing its output as it comes; returns (exit code, the whole output)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return process.wait(), "".join(lines)


def build_with_one_retry(run=run_build) -> int:
    """Build; after a stalled execution build once more. Returns the exit code of the last build."""
    code, log = run()
    stall = stall_in(log) if code else None
    if stall is None:
        return code
    print(f"build_book: the build failed on a stalled execution ({stall[:200]}); building once more", flush=True)
    code, _ = run()
    return code


if __name__ == "__main__":
    sys.exit(build_with_one_retry())
