"""The README's quick start runs as written, from a directory outside the repository."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK_START = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]


def _block(language: str, containing: str = "") -> str:
    return next(b for b in re.findall(rf"```{language}\n(.*?)```", QUICK_START, flags=re.S) if containing in b)


def test_the_python_quick_start_runs_from_any_directory(tmp_path):
    done = subprocess.run([sys.executable, "-c", _block("python")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "jaccard" in done.stdout.lower()


def test_the_command_line_quick_start_runs_from_any_directory(tmp_path):
    lines = [line.split("   #")[0] for line in _block("bash", "structloc simulate").replace("\\\n", " ").splitlines() if line.strip()]
    simulate, localize_sim, localize_user, evaluate = lines[:4]
    assert simulate.startswith("structloc simulate") and evaluate.startswith("structloc evaluate")
    cli = [sys.executable, "-m", "structloc"]
    for line in (simulate.replace("--frames 300", "--frames 20"), localize_sim, evaluate):
        done = subprocess.run(cli + line.split()[1:] + (["--no-progress"] if "localize" in line else []),
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (line, done.stderr[-2000:])
    assert '"jaccard"' in done.stdout
    # the user's own frames, which do not exist here: the model and the camera are accepted, the
    # frames are what is missing
    assert "--model general" in localize_user and "--camera scmos" in localize_user
    done = subprocess.run(cli + localize_user.split()[1:], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "my_scmos.tif" in done.stderr, done.stderr
