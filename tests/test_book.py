"""The book's structure: every chapter is paired with a stripped notebook and listed in _toc.yml."""

from pathlib import Path

import pytest
import yaml

from tools_module import load_tool

ROOT = Path(__file__).resolve().parents[1]
check = load_tool("check_notebooks")

CHAPTERS = check.chapters()


def _toc_files(entry) -> list[str]:
    files = [entry["file"]] if isinstance(entry, dict) and "file" in entry else []
    if isinstance(entry, dict):
        for key in ("parts", "chapters", "sections"):
            for child in entry.get(key, []):
                files += _toc_files(child)
    return files


def test_there_are_chapters():
    names = {p.stem for p in CHAPTERS}
    assert {"intro", "01_sampling", "02_psf_noise", "03_density"} <= names


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_chapter_agrees_with_its_stripped_notebook(md):
    url, branch = check.repository(ROOT)
    assert check.problems_of(md, url, branch, ROOT) == []


def test_toc_lists_every_chapter_and_only_existing_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [toc["root"]] + _toc_files(toc)
    for md in CHAPTERS:
        assert md.relative_to(ROOT).with_suffix("").as_posix() in listed, f"{md.name} missing from _toc.yml"
    for name in listed:
        assert (ROOT / f"{name}.md").exists() or (ROOT / f"{name}.ipynb").exists(), f"{name} listed but absent"


def test_config_builds_md_sources_only_and_has_one_repository_url():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "book/*.ipynb" in config["exclude_patterns"]
    assert config["execute"]["allow_errors"] is False
    url, branch = check.repository(ROOT)
    assert url == config["repository"]["url"].rstrip("/")
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_checker_detects_a_mismatch(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/a/b\n  branch: main\n")
    book = tmp_path / "book"
    book.mkdir()
    md = book / "ch.md"
    md.write_text(
        "---\njupytext:\n  formats: ipynb,md:myst\n  text_representation:\n    extension: .md\n"
        "    format_name: myst\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n"
        "# Ch\n\n[![Open in Colab](x.svg)](https://colab.research.google.com/github/x/y/blob/main/book/ch.ipynb)\n\n"
        "```{code-cell} ipython3\nimport sys\nif \"google.colab\" in sys.modules:\n"
        "    %pip install \"structloc @ git+https://github.com/x/y@main\"\n```\n"
    )
    url, branch = check.repository(tmp_path)
    problems = check.problems_of(md, url, branch, tmp_path)
    assert any("Colab badge" in p for p in problems) and any("badge image x.svg" in p for p in problems)
    assert any("standard set-up cell" in p for p in problems)
    assert any("missing" in p for p in problems)
    check.fix(md, url, branch, tmp_path)
    assert check.problems_of(md, url, branch, tmp_path) == []
    assert "github/a/b/blob/main/book/ch.ipynb" in md.read_text()
    assert 'repository = "https://github.com/a/b"' in md.read_text()
    assert "git clone -q --depth 1 --branch main $repository /content/structloc" in md.read_text()
    ids = [cell["id"] for cell in check.nbformat.read(md.with_suffix(".ipynb"), as_version=4).cells]
    md.write_text(md.read_text() + "\nA new paragraph.\n")
    assert any("cells differ" in p for p in check.problems_of(md, url, branch, tmp_path))
    check.fix(md, url, branch, tmp_path)
    cells = check.nbformat.read(md.with_suffix(".ipynb"), as_version=4).cells
    assert [cell["id"] for cell in cells][: len(ids)] == ids  # a re-sync keeps cell ids
    assert check.problems_of(md, url, branch, tmp_path) == []


def test_every_chapter_starts_with_the_same_set_up_cell():
    url, branch = check.repository(ROOT)
    firsts = {md.name: next(c.source.strip() for c in check.jupytext.read(md).cells if c.cell_type == "code")
              for md in CHAPTERS}
    assert set(firsts.values()) == {check.setup_source(url, branch)}, firsts


def test_repository_urls_agree_with_config_and_the_public_url_is_given():
    assert check.url_problems(ROOT) == []
    assert check.pages_url("https://github.com/Structloc/structloc") == "https://structloc.github.io/structloc/"


def test_url_check_fails_when_two_urls_disagree(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/a/b\n  branch: main\n")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("online at https://a.github.io/b/\n")
    (tmp_path / "README.md").write_text("https://a.github.io/b/ and git clone https://github.com/a/c.git\n")
    assert check.url_problems(tmp_path) == [
        "README.md: github.com/a/c is not the repository of _config.yml (https://github.com/a/b)"]
    (tmp_path / "README.md").write_text("git clone https://github.com/a/b.git\n")
    assert check.url_problems(tmp_path) == ["README.md: does not give the book's public URL https://a.github.io/b/"]
