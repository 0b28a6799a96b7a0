"""Sphinx extension: each page lists each inline script once.

sphinx-thebe and sphinx-togglebutton add inline ``<script>`` bodies while the HTML builder is
already initialised; Sphinx 7 then lists each of them twice (once with the file name ``None``,
once with ``""``), and the second copy of ``const THEBE_JS_URL = ...`` is a JavaScript
``SyntaxError`` on every page. This drops the later copies.
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple:
    """What makes two script entries the same script: file name and attributes (body included)."""
    attributes = getattr(script, "attributes", {})
    return (getattr(script, "filename", script) or "", tuple(sorted(attributes.items())))


def unique_scripts(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Remove repeated entries of the page's ``script_files`` (in place), keeping the first."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    kept = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def setup(app) -> dict:
    """Register the handler late, after the extensions that add page scripts."""
    app.connect("html-page-context", unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
