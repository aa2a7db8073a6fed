"""Mapping tools, beside the flow: tables for a person. Rich tables on a terminal, plain
aligned text in a pipe (so `| less`, `| grep` and cron mail stay readable)."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence

MAX_CELL = 40


def width(text: str) -> int:
    """Display width: Chinese characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cut(text: str, limit: int = MAX_CELL) -> str:
    text = " ".join(text.split())  # multi-line values (buyer messages) on one line
    if width(text) <= limit:
        return text
    out, used = "", 0
    for ch in text:
        used += width(ch)
        if used > limit - 1:
            break
        out += ch
    return out + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "",
          tty: bool | None = None, max_cell: int = MAX_CELL) -> str:
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    if tty if tty is not None else sys.stdout.isatty():
        return _rich(headers, cells, title, max_cell)
    cells = [[cut(c, max_cell) for c in row] for row in cells]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)
                         ).rstrip()

    out = [title] if title else []
    out += [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _rich(headers: Sequence[str], rows: list[list[str]], title: str, max_cell: int) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title or None, title_justify="left", show_lines=False)
    for header in headers:
        grid.add_column(Text(header), overflow="fold", max_width=max_cell)
    for row in rows:
        grid.add_row(*[Text(c) for c in row])  # Text: "[x]" in a value is not markup
    console = Console(record=True, width=max(80, Console().width))
    with console.capture() as captured:
        console.print(grid)
    return captured.get().rstrip("\n")
