#!/usr/bin/env python
"""Check (or fix) that every book chapter's jupytext .md agrees with its paired .ipynb.

For every ``book/*.md`` with a jupytext header:

- the paired ``.ipynb`` exists next to it and has the same cells (type and source);
- the ``.ipynb`` has no outputs, execution counts or saved widget state;
- the "Open in Colab" badge uses the repository URL and branch of ``_config.yml`` (the one place
  the URL lives), as an absolute image URL, and points at the chapter's own notebook;
- the first code cell is the standard set-up cell (:func:`setup_cell`): in Colab it clones the
  repository, installs structloc from it (package, data and shipped models) and moves into the
  book's folder, so the chapter finds its results tables; elsewhere it does nothing.

And across the repository (:func:`url_problems`): every GitHub repository URL, Pages URL and
clone URL in README.md, CONTRIBUTING.md, the chapters and the workflows is the configured one, and
README.md and the intro give the book's public URL (:func:`pages_url`).

Usage::

    python tools/check_notebooks.py          # exit 1 and list problems
    python tools/check_notebooks.py --fix    # rewrite URLs in the .md, regenerate stripped .ipynb
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

BADGE_RE = re.compile(r"\(https://colab\.research\.google\.com/github/[^)\s]*\)")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_IMAGE_RE = re.compile(r"\[!\[Open in Colab\]\(([^)\s]*)\)\]")
SETUP_RE = re.compile(r"```\{code-cell\}[^\n]*\n(?::[^\n]*\n)*(?:(?!```)[\s\S])*?google\.colab[\s\S]*?\n```")
GITHUB_RE = re.compile(r"github\.com[/:]([\w.-]+)/([\w-]+(?:\.(?!git\b)[\w-]+)*)|([\w-]+)\.github\.io/([\w.-]+)")
#: Files whose GitHub URLs must all be the configured repository (globs relative to the root).
URL_FILES = ("README.md", "CONTRIBUTING.md", "book/*.md", ".github/workflows/*.yml")


def repository(root: Path = ROOT) -> tuple[str, str]:
    """Repository URL (without trailing slash or .git) and branch from ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    repo = config.get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    if url.endswith(".git"):
        url = url[:-4]
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"_config.yml repository.url must be https://github.com/<owner>/<repo>, got {url!r}")
    return url, str(repo.get("branch", "main"))


def colab_link(md_path: Path, url: str, branch: str, root: Path = ROOT) -> str:
    """The Colab URL of a chapter's paired notebook."""
    rel = md_path.with_suffix(".ipynb").resolve().relative_to(root.resolve()).as_posix()
    owner_repo = url.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{rel}"


def pages_url(url: str) -> str:
    """The book's public GitHub Pages URL, e.g. ``https://owner.github.io/repo/``."""
    owner, repo = url.removeprefix("https://github.com/").split("/")
    return f"https://{owner.lower()}.github.io/{repo}/"


def setup_cell(url: str, branch: str) -> str:
    """The standard first code cell of every chapter (MyST source, tags included)."""
    return (
        "```{code-cell} ipython3\n:tags: [hide-cell]\n\n"
        "# Set-up, the same in every chapter. Only in Google Colab: fetch the book, install\n"
        "# structloc from it (package, data and shipped models) and work in the book's folder.\n"
        "# Elsewhere: nothing.\n"
        "import sys\n\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    repository = \"{url}\"\n"
        f"    !git clone -q --depth 1 --branch {branch} $repository /content/structloc\n"
        "    %pip install -q /content/structloc\n"
        "    %cd /content/structloc/book\n"
        "```"
    )


def setup_source(url: str, branch: str) -> str:
    """The code of :func:`setup_cell` as the notebook holds it."""
    return setup_cell(url, branch).split("\n\n", 1)[1].removesuffix("\n```").strip()


def url_problems(root: Path = ROOT) -> list[str]:
    """GitHub and Pages URLs that disagree with ``_config.yml``, and a missing public book URL."""
    url, _ = repository(root)
    owner, repo = url.removeprefix("https://github.com/").split("/")
    found = []
    for pattern in URL_FILES:
        for path in sorted(root.glob(pattern)):
            for match in GITHUB_RE.finditer(path.read_text()):
                got = (match[1], match[2]) if match[1] else (match[3], match[4])
                if (got[0].lower(), got[1]) != (owner.lower(), repo):
                    found.append(f"{path.relative_to(root)}: {match[0]} is not the repository of "
                                 f"_config.yml ({url})")
    for name in ("README.md", "book/intro.md"):
        path = root / name
        if path.exists() and pages_url(url) not in path.read_text():
            found.append(f"{name}: does not give the book's public URL {pages_url(url)}")
    return found


def is_paired_chapter(md_path: Path) -> bool:
    """True for a .md file that starts with a jupytext header (a notebook chapter)."""
    text = md_path.read_text()
    return text.startswith("---") and "jupytext:" in text.split("\n---", 1)[0]


def chapters(book: Path = BOOK) -> list[Path]:
    """The notebook chapters (jupytext .md files) in ``book``."""
    return sorted(p for p in book.glob("*.md") if is_paired_chapter(p))


def cells_of(notebook) -> list[tuple[str, str]]:
    """(cell type, source) of every cell, the comparison that defines 'in sync'."""
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def fixed_markdown(text: str, md_path: Path, url: str, branch: str, root: Path = ROOT) -> str:
    """The .md text with its Colab badge link and install URL set from the repository."""
    text = BADGE_RE.sub(f"({colab_link(md_path, url, branch, root)})", text)
    text = BADGE_IMAGE_RE.sub(f"[![Open in Colab]({BADGE_IMAGE})]", text)
    return SETUP_RE.sub(lambda _: setup_cell(url, branch), text, count=1)


def problems_of(md_path: Path, url: str, branch: str, root: Path = ROOT) -> list[str]:
    """Every way a chapter and its notebook disagree (empty when all is well)."""
    name = md_path.relative_to(root).as_posix()
    text = md_path.read_text()
    found = []
    links = BADGE_RE.findall(text)
    want_link = f"({colab_link(md_path, url, branch, root)})"
    if not links:
        found.append(f"{name}: no 'Open in Colab' badge")
    found += [f"{name}: Colab badge {link[1:-1]} should be {want_link[1:-1]}" for link in links if link != want_link]
    found += [f"{name}: badge image {image} should be the absolute {BADGE_IMAGE}"
              for image in BADGE_IMAGE_RE.findall(text) if image != BADGE_IMAGE]
    code = [cell.source.strip() for cell in jupytext.read(md_path).cells if cell.cell_type == "code"]
    if not code or code[0] != setup_source(url, branch):
        found.append(f"{name}: the first code cell is not the standard set-up cell (fix: --fix)")
    ipynb = md_path.with_suffix(".ipynb")
    if not ipynb.exists():
        return found + [f"{name}: paired notebook {ipynb.name} is missing"]
    md_cells = cells_of(jupytext.read(md_path))
    nb = nbformat.read(ipynb, as_version=4)
    if cells_of(nb) != md_cells:
        found.append(f"{name}: cells differ from {ipynb.name} (run `make sync-notebooks` or --fix)")
    if any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"):
        found.append(f"{ipynb.name}: has outputs (strip them: --fix)")
    if any(cell.get("execution_count") is not None for cell in nb.cells if cell.cell_type == "code"):
        found.append(f"{ipynb.name}: has execution counts (strip them: --fix)")
    if "widgets" in nb.metadata:
        found.append(f"{ipynb.name}: has saved widget state (strip it: --fix)")
    return found


def fix(md_path: Path, url: str, branch: str, root: Path = ROOT) -> None:
    """Rewrite the chapter's URLs and regenerate its stripped, paired .ipynb.

    Cell ids of an existing notebook are kept where the cell at the same position has the same
    type, so a re-sync only changes what really changed.
    """
    text = md_path.read_text()
    new = fixed_markdown(text, md_path, url, branch, root)
    if new != text:
        md_path.write_text(new)
    notebook = jupytext.read(md_path)
    ipynb = md_path.with_suffix(".ipynb")
    old_cells = nbformat.read(ipynb, as_version=4).cells if ipynb.exists() else []
    for index, cell in enumerate(notebook.cells):
        if index < len(old_cells) and old_cells[index].cell_type == cell.cell_type and "id" in old_cells[index]:
            cell["id"] = old_cells[index]["id"]
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    notebook.metadata.pop("widgets", None)
    notebook.metadata.setdefault("jupytext", {})["formats"] = "ipynb,md:myst"
    jupytext.write(notebook, ipynb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="sync URLs and regenerate stripped notebooks")
    args = parser.parse_args(argv)
    url, branch = repository()
    paths = chapters()
    if not paths:
        print("no jupytext chapters found in book/", file=sys.stderr)
        return 1
    if args.fix:  # only chapters with problems are rewritten
        for path in paths:
            if problems_of(path, url, branch):
                fix(path, url, branch)
    problems = [p for path in paths for p in problems_of(path, url, branch)] + url_problems()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(paths)} chapters in sync with their notebooks ({url}, branch {branch})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
