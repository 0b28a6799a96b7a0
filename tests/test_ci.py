"""CI runs the book's reader-side checks after the build; the outside-repository run is guarded."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("run_notebooks_outside", ROOT / "tools" / "run_notebooks_outside.py")
outside = importlib.util.module_from_spec(spec)
spec.loader.exec_module(outside)


def _make_targets(script: str) -> list[str]:
    return re.findall(r"^\s*(?:time\s+)?make\s+([\w-]+)\s*$", script, flags=re.M)


def test_ci_runs_the_checks_after_the_build_and_installs_chromium_first():
    script = (ROOT / ".ci" / "run").read_text()
    assert _make_targets(script) == ["test", "book", "check-book"]  # check-outside: see .ci/run
    assert script.index("apt-get install") < script.index("make test")  # the browser test runs too
    assert "chromium chromium-driver" in script and "--no-install-recommends" in script


def test_make_book_does_not_need_a_browser():
    makefile = (ROOT / "Makefile").read_text()
    book = re.search(r"^book:(.*)$", makefile, flags=re.M)[1]
    assert "check-book" not in book and "check-outside" not in book
    assert re.search(r"^check-book:\n\t.*tools/check_rendered_book\.py", makefile, flags=re.M)
    assert re.search(r"^check-outside:\n\t.*tools/run_notebooks_outside\.py", makefile, flags=re.M)


def test_the_wheel_is_built_from_the_package_and_all_its_data():
    files = {p.as_posix() for p in outside.package_files()}
    assert {"pyproject.toml", "README.md", "structloc/__init__.py"} <= files
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "structloc" / "data").rglob("*") if p.is_file()
            and "__pycache__" not in p.parts}
    assert data and data <= files
    assert not any(f.startswith(("book/", "models/", "tests/")) for f in files)


def test_the_probe_cell_rejects_structloc_imported_from_the_repository():
    probe = outside.PROBE.format(repo=str(ROOT))
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0 and "AssertionError" in done.stderr, done.stderr[-500:]
