#!/usr/bin/env python
"""Open every page of the built HTML book in headless Chromium and report what a reader would see broken.

The pages are served from a local HTTP server on the loopback interface (``file://`` URLs hide
some errors, e.g. scripts that fetch) and loaded at a 1280 px wide window. Each page fails on:

- a JavaScript console error (severity SEVERE) from the page itself. Resources on other hosts
  (CDN scripts such as MathJax and the widget manager, the Colab badge) are blocked, so the check
  is the same online and offline (and does not test them); their blocked loads are counted, not
  reported. Nor is the browser's own request for ``/favicon.ico`` (the book declares no icon);
- a broken image: a local ``<img>`` that finished loading with ``naturalWidth`` 0 (images are
  forced to load eagerly first, so lazy ones below the fold are checked too);
- raw MyST markup in the text a reader gets (collapsed solutions included, code excluded):
  ``{cite}``/``{cite:p}``-style roles, ``:::`` fences, ````` ```{ ````` directives;
- chapter content outside the content column (``<main>`` sections or headings that are not in
  the article: what unbalanced raw HTML such as an unclosed ``<details>`` does);
- horizontal overflow of the content column: the page itself scrolls sideways, or an element
  inside the article reaches past the article's edges without an ancestor inside the article that
  clips or scrolls it. A code cell or table that scrolls in its own box is not page overflow.

One full-page PNG screenshot (1280 px wide) per chapter (``book/*.html`` except the
bibliography) goes to ``--screenshots``: look at them. With MathJax blocked they show the TeX
source of formulas, which readers online see typeset. Problems are printed one a line,
``page: problem``, and the exit status is 1 when there are any.

Usage: python tools/check_rendered_book.py [_build/html] [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import io
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Raw MyST markup that must not reach a reader (roles, colon fences, backtick directives).
RAW_MYST = re.compile(r"\{[a-z][\w-]*(?::[\w-]+)?\}`|\{cite(?::[\w-]+)?\}|:::|```\{")
#: Pages that are not chapters: no screenshot for them.
NOT_CHAPTERS = {"bibliography"}
WIDTH, HEIGHT = 1280, 900
PAGE_TIMEOUT_S = 30
IMAGE_WAIT_S = 10
SCREENSHOT_TILE_PX = 4000

# Every image loads eagerly; resolves once each local image has finished (or after a timeout).
WAIT_IMAGES_JS = """
const done = arguments[arguments.length - 1];
const local = Array.from(document.images).filter(i => i.src.startsWith(location.origin));
local.forEach(i => { i.loading = "eager"; });
const deadline = Date.now() + arguments[0] * 1000;
(function poll() {
  if (local.every(i => i.complete) || Date.now() > deadline) { done(local.length); }
  else { setTimeout(poll, 50); }
})();
"""

# Returns {broken: [...], raw: [...], overflow: [...], page: [scrollWidth, clientWidth]}.
INSPECT_JS = """
const root = document.documentElement;
const result = {broken: [], overflow: [], page: [root.scrollWidth, root.clientWidth]};
const describe = el => {
  let s = el.tagName.toLowerCase();
  if (el.id) s += "#" + el.id;
  const cls = (el.getAttribute("class") || "").trim().split(/\\s+/).filter(Boolean).slice(0, 2);
  if (cls.length) s += "." + cls.join(".");
  const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 50);
  return text ? `${s} ("${text}")` : s;
};
for (const img of document.images) {
  if (img.src.startsWith(location.origin) && img.complete && img.naturalWidth === 0) {
    result.broken.push(img.getAttribute("src"));
  }
}
const article = document.querySelector("article.bd-article") || document.querySelector("main")
  || document.body;
const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "KBD", "SAMP"]);
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
  acceptNode: node => {
    for (let p = node.parentElement; p && p !== article; p = p.parentElement) {
      if (skip.has(p.tagName) || p.classList.contains("highlight")) return NodeFilter.FILTER_REJECT;
    }
    return NodeFilter.FILTER_ACCEPT;
  }
});
const texts = [];
for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node.nodeValue);
result.text = texts.join(" ");
// Unbalanced raw HTML in a chapter (an unclosed <details>, say) pushes the rest of the chapter
// out of the article, beside it.
result.outside = Array.from(document.querySelectorAll("main section, main h1, main h2"))
  .filter(el => !article.contains(el) && el.getBoundingClientRect().width > 0)
  .filter((el, i, all) => !all.slice(0, i).some(p => p.contains(el))).map(describe);
const box = article.getBoundingClientRect();
const clips = el => {
  for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== "visible") return true;
  }
  return false;
};
const reported = [];
for (const el of article.querySelectorAll("*")) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (r.right <= box.right + 1 && r.left >= box.left - 1) continue;
  if (getComputedStyle(el).position === "fixed" || clips(el)) continue;
  if (reported.some(p => p.contains(el))) continue;
  reported.push(el);
  result.overflow.push(`${describe(el)} spans ${Math.round(r.left - box.left)}..` +
                       `${Math.round(r.right - box.left)} px of a ${Math.round(box.width)} px article`);
}
// Not problems, counted for the summary: code boxes and tables a reader must scroll sideways.
result.scrolling = Array.from(article.querySelectorAll("pre"))
  .filter(el => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1).length;
result.wide_tables = Array.from(article.querySelectorAll("table"))
  .filter(el => el.getBoundingClientRect().width > box.width + 1).length;
return result;
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port) and yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def find_browser() -> tuple[str | None, str | None]:
    """Paths of a Chromium binary and of its chromedriver, or None where missing."""
    browser = next((p for name in ("chromium", "chromium-browser", "google-chrome")
                    if (p := shutil.which(name))), None)
    return browser, shutil.which("chromedriver")


def start_browser(browser: str, driver: str):
    """Headless Chromium at WIDTH x HEIGHT that keeps its console log and reaches only loopback."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WIDTH},{HEIGHT}", "--force-device-scale-factor=1",
                "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: selenium must not try to download one.
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_page_load_timeout(PAGE_TIMEOUT_S)
    chrome.set_script_timeout(IMAGE_WAIT_S + 5)
    return chrome


def console_problems(entries: list[dict], base: str) -> tuple[list[str], int]:
    """SEVERE console messages of the page itself, and how many were blocked external loads."""
    problems, external = [], 0
    for entry in entries:
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        if not message.startswith(base) and "Failed to load resource" in message:
            external += 1  # a resource on another host: blocked on purpose
            continue
        if message.startswith(base + "favicon.ico "):
            continue  # the browser's own request: the book declares no icon
        problems.append("JavaScript console error: " + " ".join(message.removeprefix(base).split())[:200])
    return problems, external


def raw_markup(text: str) -> list[str]:
    """One problem per distinct piece of raw MyST markup in ``text``, with its context."""
    found = {}
    for match in RAW_MYST.finditer(text):
        context = " ".join(text[max(0, match.start() - 30):match.end() + 30].split())
        found.setdefault(match[0], f"raw MyST {match[0]!r} in the text: ...{context}...")
    return list(found.values())


def full_page_png(chrome) -> bytes:
    """A PNG of the whole page at the window's width (Chrome DevTools protocol).

    The viewport is made as tall as the page (so the layout is the one a reader scrolls
    through) and captured in tiles, which Pillow joins: one capture is limited to 16384 px.
    """
    from PIL import Image

    height = int(chrome.execute_script("return document.documentElement.scrollHeight"))
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False})
    try:
        tiles = []
        for top in range(0, height, SCREENSHOT_TILE_PX):
            clip = {"x": 0, "y": top, "width": WIDTH, "height": min(SCREENSHOT_TILE_PX, height - top), "scale": 1}
            shot = chrome.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip})
            tiles.append(Image.open(io.BytesIO(base64.b64decode(shot["data"]))))
    finally:
        chrome.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    page = Image.new("RGB", (WIDTH, sum(tile.height for tile in tiles)), "white")
    top = 0
    for tile in tiles:
        page.paste(tile, (0, top))
        top += tile.height
    out = io.BytesIO()
    page.save(out, format="PNG")
    return out.getvalue()


def check_page(chrome, base: str, rel: str, screenshot: Path | None) -> tuple[list[str], dict]:
    """Problems of one page (relative path ``rel``) and counts for the summary line.

    The counts: blocked external loads, and code boxes and tables that scroll sideways in their
    own boxes (not problems, but a reader then sees clipped lines).
    """
    chrome.get_log("browser")  # drop what the previous page left
    chrome.get(base + rel)
    chrome.execute_async_script(WAIT_IMAGES_JS, IMAGE_WAIT_S)
    time.sleep(0.2)  # late console messages of scripts run at load
    found = chrome.execute_script(INSPECT_JS)
    problems, external = console_problems(chrome.get_log("browser"), base)
    problems += [f"broken image {src}" for src in found["broken"]]
    problems += raw_markup(found["text"])
    scroll_width, client_width = found["page"]
    if scroll_width > client_width + 1:
        problems.append(f"the page scrolls sideways ({scroll_width} px of content in a {client_width} px window)")
    problems += [f"overflows the content column: {what}" for what in found["overflow"]]
    problems += [f"outside the content column (unbalanced raw HTML?): {what}" for what in found["outside"]]
    if screenshot is not None:
        screenshot.write_bytes(full_page_png(chrome))
    return [f"{rel}: {p}" for p in problems], {"external": external, "scrolling": found["scrolling"],
                                              "wide_tables": found["wide_tables"]}


def pages(html_dir: Path) -> list[str]:
    """Every built HTML page (relative paths), Sphinx's asset folders (``_*``) excluded."""
    return sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(html_dir).parts[:-1]))


def check_book(html_dir: Path, screenshots: Path | None, browser: str, driver: str) -> tuple[list[str], int]:
    """All problems of the book in ``html_dir`` (one line each) and the number of pages checked."""
    rels = pages(html_dir)
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    problems = []
    with serve(html_dir) as base:
        chrome = start_browser(browser, driver)
        try:
            for rel in rels:
                stem = Path(rel).stem
                chapter = rel.startswith("book/") and stem not in NOT_CHAPTERS
                shot = screenshots / f"{stem}.png" if screenshots is not None and chapter else None
                start = time.perf_counter()
                found, counts = check_page(chrome, base, rel, shot)
                problems += found
                print(f"{rel:34s} {len(found):2d} problems, {counts['external']:2d} external loads blocked; "
                      f"scroll sideways: {counts['scrolling']:2d} code boxes, {counts['wide_tables']:2d} tables "
                      f"({time.perf_counter() - start:4.1f} s)")
        finally:
            chrome.quit()
    return problems, len(rels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--screenshots", default=Path("_build/screenshots"), type=Path,
                        help="folder for one full-page PNG per chapter (default: _build/screenshots)")
    args = parser.parse_args(argv)
    browser, driver = find_browser()
    if browser is None or driver is None:
        print("check_rendered_book: needs chromium and chromedriver on PATH "
              "(Debian: apt-get install chromium chromium-driver)", file=sys.stderr)
        return 1
    if not pages(args.html_dir):
        print(f"check_rendered_book: no HTML pages under {args.html_dir}", file=sys.stderr)
        return 1
    start = time.perf_counter()
    problems, n = check_book(args.html_dir, args.screenshots, browser, driver)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{n} pages checked in {time.perf_counter() - start:.0f} s: {len(problems)} problems; "
          f"screenshots in {args.screenshots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
