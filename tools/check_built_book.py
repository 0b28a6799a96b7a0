"""Check the built HTML book: every chapter page shows figures (and print how many).

A chapter whose plots silently failed to render (for example because a non-inline matplotlib
backend leaked into the kernel's environment) still builds without warnings; this catches it.

Usage: python tools/check_built_book.py [_build/html]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FIGURE = re.compile(r'<img[^>]+src="[^"]*_images/[^"]+\.(?:png|jpg|jpeg|svg)"')
BADGE = "colab-badge"


def figures_per_page(html_dir: Path) -> dict[str, int]:
    """Number of rendered figures (images under ``_images/``, the Colab badge excluded) per chapter."""
    counts = {}
    for page in sorted((html_dir / "book").glob("[0-9][0-9]_*.html")):
        tags = FIGURE.findall(page.read_text(encoding="utf-8"))
        counts[page.stem] = sum(BADGE not in tag for tag in tags)
    return counts


def main(argv: list[str]) -> int:
    html_dir = Path(argv[0]) if argv else Path("_build/html")
    counts = figures_per_page(html_dir)
    if not counts:
        print(f"check_built_book: no chapter pages under {html_dir / 'book'}", file=sys.stderr)
        return 1
    for name, n in counts.items():
        print(f"{name:32s} {n:3d} figures")
    print(f"{'total':32s} {sum(counts.values()):3d} figures")
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        print(f"check_built_book: chapters without a single figure: {', '.join(empty)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
