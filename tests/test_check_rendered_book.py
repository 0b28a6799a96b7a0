"""tools/check_rendered_book.py: a good page passes, and each kind of defect a reader would see is reported."""

import struct
import zlib
from pathlib import Path

import pytest

from tools_module import load_tool

ROOT = Path(__file__).resolve().parents[1]
check = load_tool("check_rendered_book")

BASE = "http://127.0.0.1:8000/"


def _png(width: int = 4, height: int = 3) -> bytes:
    """A valid grey PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _page(body: str, outside: str = "") -> str:
    """A page shaped like the book's: the article (800 px) inside <main>."""
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head>"
            "<body style='margin:0'><main style='width:900px'><article class='bd-article' "
            f"style='width:800px'><section><h1>Title</h1>{body}</section></article>{outside}</main>"
            "</body></html>")


GOOD = _page(
    "<p>Plain prose with a citation rendered as [Sage et al., 2019].</p>"
    "<img src='../_images/ok.png' alt='figure'>"
    "<img src='../_images/later.png' loading='lazy' style='margin-top:3000px' alt='below the fold'>"
    # A long code line and a wide table that scroll in their own boxes are fine.
    "<div class='highlight' style='overflow:auto'><pre>x = 1  # ::: and ```{note} in code are code"
    + " " * 400 + "end</pre></div>"
    "<div style='overflow-x:auto'><table style='width:2000px'><tr><td>wide</td></tr></table></div>"
    "<details><summary>Solution</summary><p>A hidden solution, rendered properly.</p></details>")

PAGES = {
    "book/01_good.html": GOOD,
    "book/02_console.html": _page("<p>text</p><script>notDefinedAnywhere();</script>"),
    "book/03_image.html": _page("<p>text</p><img src='../_images/corrupt.png' alt='broken'>"),
    "book/04_raw.html": _page(
        "<p>as shown by {cite:p}`sage2019` and</p><p>:::{note}</p><p>```{figure} x.png</p>"
        "<details><summary>Solution</summary><p>see {cite}`abc`</p></details>"),
    "book/05_overflow.html": _page("<p>text</p><div style='width:1600px'>a very wide figure</div>"),
    "book/06_outside.html": _page("<p>text</p>", outside="<section><h2>Summary</h2><p>lost</p></section>"),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    browser, driver = check.find_browser()
    if browser is None or driver is None:
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")
    html = tmp_path_factory.mktemp("html")
    (html / "_images").mkdir()
    (html / "_images" / "ok.png").write_bytes(_png())
    (html / "_images" / "later.png").write_bytes(_png())
    (html / "_images" / "corrupt.png").write_bytes(b"this is not an image")
    (html / "book").mkdir()
    for rel, text in PAGES.items():
        (html / rel).write_text(text)
    shots = html.parent / "shots"
    problems, n = check.check_book(html, shots, browser, driver)
    return problems, n, shots


def _of(problems, page):
    return [p for p in problems if p.startswith(page + ": ")]


def test_every_page_is_checked_and_each_chapter_gets_a_screenshot(report):
    problems, n, shots = report
    assert n == len(PAGES)
    for rel in PAGES:
        png = shots / (Path(rel).stem + ".png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


def test_the_good_page_has_no_problems(report):
    assert _of(report[0], "book/01_good.html") == []


def test_a_javascript_error_is_reported(report):
    found = _of(report[0], "book/02_console.html")
    assert len(found) == 1 and "JavaScript console error" in found[0] and "notDefinedAnywhere" in found[0]


def test_a_broken_image_is_reported(report):
    assert _of(report[0], "book/03_image.html") == ["book/03_image.html: broken image ../_images/corrupt.png"]


def test_raw_myst_markup_is_reported_also_in_a_collapsed_solution(report):
    found = " ".join(_of(report[0], "book/04_raw.html"))
    for raw in ("'{cite:p}`'", "':::'", "'```{'", "'{cite}`'"):
        assert raw in found, raw


def test_horizontal_overflow_of_the_content_column_is_reported(report):
    found = _of(report[0], "book/05_overflow.html")
    assert any("scrolls sideways" in p for p in found)
    assert any("overflows the content column: div" in p and "a very wide figure" in p for p in found)


def test_content_pushed_out_of_the_article_is_reported(report):
    found = _of(report[0], "book/06_outside.html")
    assert found == ["book/06_outside.html: outside the content column (unbalanced raw HTML?): "
                     'section ("Summarylost")']


def test_blocked_external_loads_and_the_implicit_favicon_are_not_problems():
    entries = [
        {"level": "SEVERE", "message": "https://cdn.jsdelivr.net/npm/mathjax@3/x.js - Failed to load resource: "
                                       "net::ERR_NAME_NOT_RESOLVED"},
        {"level": "SEVERE", "message": BASE + "favicon.ico - Failed to load resource: 404 (File not found)"},
        {"level": "WARNING", "message": BASE + "book/a.html 3:1 something harmless"},
        {"level": "SEVERE", "message": BASE + "_images/x.png - Failed to load resource: 404 (File not found)"},
    ]
    problems, external = check.console_problems(entries, BASE)
    assert external == 1
    assert problems == ["JavaScript console error: _images/x.png - Failed to load resource: 404 (File not found)"]


def test_raw_markup_lists_each_kind_once_with_context():
    found = check.raw_markup("a {cite:p}`x` b {cite:p}`y` c ::: d")
    assert len(found) == 2
    assert found[0].startswith("raw MyST '{cite:p}`' in the text: ...a {cite:p}`x`")
    assert check.raw_markup("ratios 1:2, a::b, x[::2] and {braces} in prose") == []
