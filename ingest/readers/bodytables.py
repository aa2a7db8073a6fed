"""Reading, the second stage: tables written in a mail's body, as CSV for the CSV reader.

Buyers paste their order into the mail itself: an HTML table from Outlook or Foxmail, a
pipe table, columns separated by tabs (copied from Excel) or aligned with spaces. Each is
handed on as a small UTF-8 CSV (header row first), and the mail's HTML as plain text with
its lines kept, for labelled lines such as ``Delivery date: 2026-12-20``.

HTML tables win over text ones: the plain-text alternative of an HTML mail is the same
table, rendered worse. Spanned cells (colspan, rowspan) repeat their text in every cell
they cover, as the workbook reader fills merged cells. A quoted reply (``>`` lines, an HTML
``<blockquote>``) and a signature (after a ``-- `` line) are not read.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser

MAX_SPAN = 200  # a hostile colspan="100000" must not build a huge row
SKIPPED = frozenset(("style", "script", "title"))
BLOCKS = frozenset(("p", "div", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "h1",
                    "h2", "h3", "h4", "h5", "h6", "hr", "section", "article", "header",
                    "footer", "address", "dl", "dt", "dd"))
TABLE_TAG = re.compile(r"<table", re.I)
# Styles, scripts and comments (Outlook's are half of its HTML: CSS, VML, conditional
# comments) are cut out before parsing: html.parser reads about 2-3 MB/s.
NOT_TEXT = re.compile(r"<(style|script|head)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
RULE = re.compile(r"^[\s|+:=-]*[-=][\s|+:=-]*$")  # |---|:--:| or +----+----+
ALIGN_GAP = re.compile(r"\S {2,}\S")
Rows = list[list[str]]


def body_tables(html: str | None, text: str | None) -> list[tuple[str, bytes]]:
    """Candidate tables in a mail body as ("body-table-N.csv", UTF-8 CSV bytes with every
    cell quoted as needed, header row first). HTML tables first; when the HTML has none,
    the text (or the HTML's text) is searched for pipe, tab and space-aligned tables."""
    tables = html_tables(html) if html and TABLE_TAG.search(html) else []
    if not tables:
        source = text if text and text.strip() else html_text(html) if html else ""
        tables = text_tables(source)
    return [(f"body-table-{n}.csv", _csv(rows)) for n, rows in enumerate(tables, 1)]


def _csv(rows: Rows) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _tidy(rows: Rows) -> Rows | None:
    """Rows without empty rows and empty columns, all as wide; None when fewer than two
    rows or two columns remain (a layout table holding a whole mail has one cell a row)."""
    rows = [row for row in rows if any(row)]
    width = max((len(row) for row in rows), default=0)
    rows = [row + [""] * (width - len(row)) for row in rows]
    keep = [c for c in range(width) if any(row[c] for row in rows)]
    if len(rows) < 2 or len(keep) < 2:
        return None
    return [[row[c] for c in keep] for row in rows]


def _collapse(text: str) -> str:
    # (str.split takes &nbsp; and the ideographic space as spaces too)
    return " ".join(text.replace(HARD_SPACE, " ").split())


# ---- HTML: tables and text in one pass ---------------------------------------------------

HARD_SPACE = "\ue000"  # a space inside <pre>, kept through the clean-up of the text


class _Table:
    """One <table> being read: its rows so far (cells as text with their line breaks) and
    the spans still covering rows below."""

    def __init__(self, quoted: bool) -> None:
        self.quoted = quoted
        self.rows: Rows = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.span = (1, 1)
        self.below: dict[int, tuple[str, int]] = {}  # column -> (text, rows still covered)
        self.holds_table = False  # a table inside it was taken: this one is layout

    def start_row(self) -> None:
        self.end_row()
        self.row = []

    def start_cell(self, colspan: int, rowspan: int) -> None:
        self.end_cell()
        if self.row is None:
            self.row = []
        self.cell = []
        self.span = (colspan, rowspan)

    def add(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)

    def end_cell(self) -> None:
        if self.cell is None or self.row is None:
            return
        text = "".join(self.cell)
        self._fill_from_above()
        colspan, rowspan = self.span
        for _ in range(colspan):
            if rowspan > 1:
                self.below[len(self.row)] = (text, rowspan - 1)
            self.row.append(text)
        self.cell = None

    def end_row(self) -> None:
        self.end_cell()
        if self.row is None:
            return
        for column in sorted(c for c in self.below if c >= len(self.row)):
            self.row.extend([""] * (column - len(self.row)))
            self._fill_from_above()
        self.rows.append(self.row)
        self.row = None

    def _fill_from_above(self) -> None:
        assert self.row is not None
        while len(self.row) in self.below:
            text, left = self.below.pop(len(self.row))
            if left > 1:
                self.below[len(self.row)] = (text, left - 1)
            self.row.append(text)


class _HtmlParser(HTMLParser):
    """The tables of an HTML body and its text. A table's text is known when it closes: a
    data table is one line per row, cells apart by tabs (a <br> in a cell is a space); a
    layout table (one column, or holding a data table) keeps its cells' paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []  # outside any table
        self.open: list[_Table] = []
        self.found: list[Rows] = []
        self.skipping = 0
        self.quoting = 0
        self.pre = 0

    def _add(self, text: str) -> None:
        if self.open:
            self.open[-1].add(text)
        else:
            self.text.append(text)

    def _break(self) -> None:
        """A line break, unless the text (or cell) is at a line's start: nested blocks
        make one break, not several."""
        sink = self.open[-1].cell if self.open else self.text
        if sink and not sink[-1].endswith("\n"):
            sink.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag == "table":
            self.open.append(_Table(quoted=self.quoting > 0))
        elif tag == "tr" and self.open:
            self.open[-1].start_row()
        elif tag in ("td", "th") and self.open:
            named = dict(attrs)
            self.open[-1].start_cell(_span(named.get("colspan")), _span(named.get("rowspan")))
        elif tag == "br":
            self._add("\n")
        elif tag in BLOCKS:
            self._break()
            self.quoting += tag == "blockquote"
            self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "table" and self.open:
            self._close_table()
        elif tag == "tr" and self.open:
            self.open[-1].end_row()
        elif tag in ("td", "th") and self.open:
            self.open[-1].end_cell()
        elif tag in BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quoting = max(0, self.quoting - 1)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.pre:
            self._add(data.replace(" ", HARD_SPACE).replace("\xa0", HARD_SPACE))
        else:
            self._add(re.sub(r"\s+", " ", data))

    def _close_table(self) -> None:
        table = self.open.pop()
        table.end_row()
        rows = None if table.holds_table else _tidy(
            [[_collapse(cell) for cell in row] for row in table.rows])
        if rows is not None:
            if not table.quoted:
                self.found.append(rows)
            text = "\n".join("\t".join(row) for row in rows)
        else:
            text = "\n".join(cell for row in table.rows for cell in row)
        if self.open and (rows is not None or table.holds_table):
            self.open[-1].holds_table = True  # the innermost table with rows is the table
        self._break()
        self._add(text)
        self._break()

    def close(self) -> None:
        super().close()
        while self.open:  # (tables the mail never closed)
            self._close_table()


def _span(value: str | None) -> int:
    try:
        return min(max(int((value or "1").strip()), 1), MAX_SPAN)
    except ValueError:
        return 1


@functools.lru_cache(maxsize=4)  # (the tables and the text of one body are asked for apart)
def _parse_html(html: str) -> tuple[tuple[Rows, ...], str]:
    parser = _HtmlParser()
    parser.feed(NOT_TEXT.sub(" ", html))
    parser.close()
    lines = []
    for line in "".join(parser.text).split("\n"):
        line = re.sub(r" *\t *", "\t", re.sub(r" {2,}", " ", line)).strip(" ")
        lines.append(line.replace(HARD_SPACE, " ").rstrip())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return tuple(parser.found), text


def html_tables(html: str) -> list[Rows]:
    """The tables of an HTML body with at least two rows and two columns, the innermost
    where tables nest (the outer ones are layout), in the order they close; tables in a
    quoted reply (<blockquote>) are left out."""
    return [[list(row) for row in rows] for rows in _parse_html(html)[0]]


def html_text(html: str) -> str:
    """The readable text of an HTML body: a line per paragraph, <br> and table row, a data
    table's cells apart by tabs, entities decoded, styles and scripts left out."""
    return _parse_html(html)[1]


# ---- text tables ------------------------------------------------------------------------

def readable_lines(text: str) -> list[str]:
    """The body's lines without quoted reply lines (left blank, so that blocks do not join
    across them) and without the signature."""
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line in ("-- ", "--"):
            break
        lines.append("" if line.lstrip().startswith(">") else line.rstrip(" \xa0"))
    return lines


def text_tables(text: str) -> list[Rows]:
    """Pipe tables, tab-separated blocks and space-aligned columns in plain text."""
    lines = readable_lines(text)
    tables: list[Rows] = []
    at = 0
    while at < len(lines):
        line = lines[at]
        if not line.strip():
            at += 1
        elif _pipe_cells(line) is not None:
            end = _run(lines, at, lambda s: _pipe_cells(s) is not None)
            rows = [cells for s in lines[at:end] if not RULE.match(s)
                    for cells in [_pipe_cells(s)] if cells is not None]
            _keep(tables, rows)
            at = end
        elif "\t" in line.strip():
            end = _run(lines, at, functools.partial(_tab_row, cells=len(line.split("\t"))))
            if end - at >= 2:
                _keep(tables, [[_collapse(c) for c in s.split("\t")] for s in lines[at:end]])
            at = end
        elif ALIGN_GAP.search(line):
            end = _run(lines, at, lambda s: bool(ALIGN_GAP.search(s)) and "\t" not in s
                       and _pipe_cells(s) is None)
            if end - at >= 3:
                _keep(tables, _aligned(lines[at:end]) or [])
            at = end
        else:
            at += 1
    return tables


def _run(lines: list[str], start: int, fits: Callable[[str], bool]) -> int:
    """The end of the run of lines from ``start`` that ``fits`` (the first line always)."""
    end = start + 1
    while end < len(lines) and lines[end].strip() and fits(lines[end]):
        end += 1
    return end


def _tab_row(line: str, cells: int) -> bool:
    return "\t" in line.strip() and len(line.split("\t")) == cells


def _keep(tables: list[Rows], rows: Rows) -> None:
    tidy = _tidy(rows)
    if tidy is not None:
        tables.append(tidy)


def _pipe_cells(line: str) -> list[str] | None:
    stripped = line.strip()
    if RULE.match(stripped) and ("|" in stripped or "+" in stripped):
        return []  # (a rule between rows: dropped, but part of the table's run)
    if "|" not in stripped:
        return None
    stripped = stripped.removeprefix("|").removesuffix("|")
    cells = [_collapse(c) for c in stripped.split("|")]
    return cells if len(cells) >= 2 else None


def _width(char: str) -> int:
    """Columns a character takes on screen: CJK ideographs and full-width forms take two."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _aligned(lines: list[str]) -> Rows | None:
    """Lines split where every line has a space at the same screen columns: a gap two or
    more columns wide, or one column wide where each line has two spaces or more around it
    (a single space shared by chance, as in "Blue widget" over "Red gadget", is no gap).
    Leading indentation is not a gap; past a line's end counts as space."""
    placed: list[list[tuple[int, str]]] = []  # per line: (screen column, character)
    masks: list[bytearray] = []  # per line: 1 where its screen column is blank
    for line in lines:
        column, chars, mask = 0, [], bytearray()
        for char in line:
            width = _width(char)
            chars.append((column, char))
            mask.extend(b"\x01" * width if char.isspace() else b"\x00" * width)
            column += width
        placed.append(chars)
        masks.append(mask)
    width = max(len(m) for m in masks)
    blank = [all(c >= len(m) or m[c] for m in masks) for c in range(width)]
    cuts: list[tuple[int, int]] = []
    column = 0
    while column < width:
        if not blank[column]:
            column += 1
            continue
        start = column
        while column < width and blank[column]:
            column += 1
        wide = column - start >= 2 or all(_wide_there(m, start) for m in masks)
        if start > 0 and column < width and wide:
            cuts.append((start, column))
    if not cuts:
        return None
    bounds = [0, *(c for cut in cuts for c in cut), width + 1]
    rows = []
    for chars in placed:
        cells = ["".join(ch for col, ch in chars if bounds[i] <= col < bounds[i + 1]).strip()
                 for i in range(0, len(bounds), 2)]
        rows.append(cells)
    return rows if sum(1 for c in rows[0] if c) >= 2 else None


def _wide_there(mask: bytearray, column: int) -> bool:
    """Whether a line's blank at ``column`` is part of a run of two or more."""
    def blank(c: int) -> bool:
        return c >= len(mask) or (c >= 0 and bool(mask[c]))
    return blank(column - 1) or blank(column + 1)
