"""CI runs the book's reader-side checks after the build; the outside-repository run is guarded."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools_module import load_tool

ROOT = Path(__file__).resolve().parents[1]
outside = load_tool("run_notebooks_outside")


def _make_targets(script: str) -> list[str]:
    return re.findall(r"^\s*(?:time\s+)?make\s+([\w-]+)\s*$", script, flags=re.M)


def test_ci_runs_the_checks_after_the_build_and_installs_chromium_first():
    script = (ROOT / ".ci" / "run").read_text()
    assert _make_targets(script) == ["test", "book", "check-book", "check-outside"]
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


def test_a_stalled_chapter_gets_one_fresh_kernel_and_an_error_in_a_cell_none(monkeypatch, tmp_path):
    calls = []

    def stalls_once(notebook, workdir):
        calls.append(workdir.name)
        if len(calls) == 1:
            raise outside.Stalled("CellTimeoutError: Cell execution timed out")
        return None

    monkeypatch.setattr(outside, "execute", stalls_once)
    assert outside.execute_with_retries(Path("ch.ipynb"), tmp_path / "ch") == (
        None, ["CellTimeoutError: Cell execution timed out"])
    assert calls == ["ch", "ch-1"]  # each attempt in its own working directory

    calls.clear()
    monkeypatch.setattr(outside, "execute", lambda notebook, workdir: calls.append(1) or "cell 3: ValueError: x")
    assert outside.execute_with_retries(Path("ch.ipynb"), tmp_path / "ch") == ("cell 3: ValueError: x", [])
    assert calls == [1]  # a chapter's own error is not retried

    def always_stalls(notebook, workdir):
        raise outside.Stalled("DeadKernelError: Kernel died")

    monkeypatch.setattr(outside, "execute", always_stalls)
    error, stalls = outside.execute_with_retries(Path("ch.ipynb"), tmp_path / "ch", retries=1)
    assert error == "DeadKernelError: Kernel died" and stalls == ["DeadKernelError: Kernel died"]


def test_only_a_timeout_or_a_dead_kernel_counts_as_a_stall(monkeypatch, tmp_path):
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    notebook = tmp_path / "ch.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), notebook)

    def client_raising(error):
        class Client:
            def __init__(self, nb, **kwargs):
                pass

            def execute(self):
                raise error
        return Client

    for n, error in enumerate([CellTimeoutError("timed out"), DeadKernelError("Kernel died")]):
        monkeypatch.setattr(outside, "NotebookClient", client_raising(error))
        with pytest.raises(outside.Stalled, match=type(error).__name__):
            outside.execute(notebook, tmp_path / f"stall{n}")
    monkeypatch.setattr(outside, "NotebookClient", client_raising(RuntimeError("Kernel died before replying")))
    assert outside.execute(notebook, tmp_path / "start") == "RuntimeError: Kernel died before replying"
    assert (tmp_path / "start" / "ch.ipynb").is_file()  # the executed copy is kept for --keep


def test_make_book_builds_through_the_retrying_script():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^book:.*\n((?:\t.*\n)+)", makefile, flags=re.M)[1]
    assert "tools/build_book.py" in recipe and "STRUCTLOC_WIDGETS=off" in recipe
    assert load_tool("build_book").COMMAND == ("jupyter-book", "build", ".", "-W", "--keep-going")


@pytest.mark.parametrize("log, stalled", [
    ("WARNING: Executing notebook failed: CellTimeoutError [mystnb.exec]\n", True),
    ("mystnb: DeadKernelError: Kernel died\n", True),
    ("WARNING: Executing notebook failed: CellExecutionError [mystnb.exec]\n", False),
    ("build succeeded, 3 warnings.\n", False),
])
def test_only_a_stalled_execution_counts_as_a_stall(log, stalled):
    assert (load_tool("build_book").stall_in(log) is not None) == stalled


def test_a_stalled_build_runs_once_more_and_other_failures_do_not(capsys):
    build = load_tool("build_book")
    runs = []

    def fails(*logs):
        def run():
            runs.append(1)
            return logs[len(runs) - 1]
        return run

    assert build.build_with_one_retry(fails((1, "CellTimeoutError: timed out"), (0, "ok"))) == 0
    assert len(runs) == 2 and "building once more" in capsys.readouterr().out
    runs.clear()
    assert build.build_with_one_retry(fails((1, "CellTimeoutError"), (1, "CellTimeoutError"))) == 1
    assert len(runs) == 2  # once more, not forever
    runs.clear()
    assert build.build_with_one_retry(fails((1, "CellExecutionError in cell 3"))) == 1 and len(runs) == 1
    runs.clear()
    assert build.build_with_one_retry(fails((0, "CellTimeoutError mentioned in a passing log"))) == 0
    assert len(runs) == 1
