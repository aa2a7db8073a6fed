"""Reading, the second stage: where a spreadsheet's table ends, and merged cells inside it.

Customers' purchase orders put totals, notes and a signature block under the line items.
The table ends at the first sparse row (at most half the header's columns filled) whose first
non-empty cell reads like one of those (the mapping's ``footer`` or ``DEFAULT_FOOTER``), or
at a run of two or more blank rows followed by a row that fills fewer than half of the
header's columns (a note, not a line). Rows from
there down are not read as lines: they are counted as layout rows (``below_table``) and
kept as cells, where a mapping's form labels may find PO-level values.
"""

from __future__ import annotations

import polars as pl

from ingest.readers.base import SMALL_TABLE_ROWS
from ingest.readers.sheetxml import Merge

DEFAULT_FOOTER = (
    r"(?i)^(?:(?:sub|grand|net)?\s*totals?\b|amount\s+due\b|notes?\b|remarks?\b|"
    r"signature\b|signed\b|approved\s+by\b|authori[sz]ed\b|terms\s+and\s+conditions\b|"
    r"合计|总计|小计|总金额|备注|说明|签字|签名|签章|盖章|审批|制单)"
)
Cells = list[tuple[int, list[str]]]  # (spreadsheet row, cell texts) outside the table


def table_end(body: pl.DataFrame, names: list[str], footer: str | None) -> tuple[int, bool]:
    """Index in ``body`` of the first row below the table (``body.height`` when none), and
    whether that row is a footer (else a blank run)."""
    if not body.height or not names:
        return body.height, False
    if body.height <= SMALL_TABLE_ROWS:
        return _small_table_end(body, names, footer)
    # Byte lengths, not trimmed text: trimming every cell of 200,000 rows costs 20x more,
    # and a cell of spaces is rare enough to count as filled here.
    present = [pl.col(n).str.len_bytes().fill_null(0) > 0 for n in names]
    filled = [p.cast(pl.Int32) for p in present]
    first = pl.coalesce([pl.when(p).then(pl.col(n)) for p, n in zip(present, names,
                                                                     strict=True)])
    first = first.str.strip_chars()
    is_footer = first.str.contains(DEFAULT_FOOTER)
    if footer:
        is_footer = is_footer | first.str.contains(footer)
    count = pl.sum_horizontal(filled)
    marks = body.select(
        count.alias("filled"),
        # A footer word ends the table only on a sparse row: "Total: 1,234.00" or a
        # signature line, not a line item whose description starts with "Total Station".
        (is_footer.fill_null(False) & (count <= max(2, len(names) // 2))).alias("footer"),
        # The row after a blank run: the next non-blank row's filling, looked up backwards.
        pl.when(count > 0).then(count).backward_fill().shift(-1).alias("next"))
    blank = marks["filled"] == 0
    next_filled = marks["next"]
    run_end = blank & blank.shift(-1, fill_value=False) & (
        next_filled.fill_null(0) * 2 < len(names))
    ends = (marks["footer"] | run_end).arg_true()
    if not len(ends):
        return body.height, False
    end = int(ends[0])
    return end, bool(marks["footer"][end])


def _small_table_end(body: pl.DataFrame, names: list[str], footer: str | None
                     ) -> tuple[int, bool]:
    """``table_end`` by Python over a small table's cells (a purchase order's twenty rows:
    planning the query over every column costs two milliseconds, the work nothing); only
    the footer words are matched by polars, on the few sparse rows, so that the patterns
    mean what they mean on a big table."""
    rows = list(zip(*(body[n].to_list() for n in names), strict=True))
    filled = [sum(1 for v in row if v) for row in rows]
    sparse = max(2, len(names) // 2)
    candidates = [i for i, count in enumerate(filled) if 0 < count <= sparse]
    texts = [next(v for v in rows[i] if v) for i in candidates]
    known = footer_words(texts, footer)
    footers = {i for i, text in zip(candidates, texts, strict=True) if known[text]}
    following: int | None = None  # the filling of the next non-blank row
    ahead: list[int | None] = [None] * len(rows)
    for i in range(len(rows) - 1, -1, -1):
        ahead[i] = following
        if filled[i]:
            following = filled[i]
    for i in range(len(rows)):
        run_end = (not filled[i] and i + 1 < len(rows) and not filled[i + 1]
                   and (ahead[i] or 0) * 2 < len(names))
        if i in footers or run_end:
            return i, i in footers
    return body.height, False


_FOOTER_WORDS: dict[tuple[str | None, str], bool] = {}  # (pattern, text) -> a footer's?
FOOTER_WORDS_KEPT = 1 << 14


def footer_words(texts: list[str], footer: str | None) -> dict[str, bool]:
    """Whether each first cell (trimmed) reads like a footer: ``DEFAULT_FOOTER`` or the
    mapping's ``footer``, matched by polars (so that the patterns mean what they mean on a
    big table). Forms repeat their footers (Subtotal, 合计, the signature line) file after
    file: each text is matched once a run, the others in one query."""
    known = {t: _FOOTER_WORDS[(footer, t)] for t in texts if (footer, t) in _FOOTER_WORDS}
    new = [t for t in dict.fromkeys(texts) if t not in known]
    if new:
        first = pl.col("first").str.strip_chars()
        hit = first.str.contains(DEFAULT_FOOTER)
        if footer:
            hit = hit | first.str.contains(footer)
        found = pl.DataFrame({"first": new}, schema={"first": pl.String}).select(
            hit.fill_null(False)).to_series().to_list()
        known.update((text, bool(yes)) for text, yes in zip(new, found, strict=True))
        if len(_FOOTER_WORDS) + len(new) > FOOTER_WORDS_KEPT:
            _FOOTER_WORDS.clear()
        _FOOTER_WORDS.update(((footer, text), known[text]) for text in new)
    return known


def fill_merges(body: pl.DataFrame, merges: list[Merge], first_body_row: int,
                column_offset: int, columns: list[str]) -> pl.DataFrame:
    """Copy each merged range's value (calamine puts it in the top-left cell only) into the
    cells it covers, within the table's columns and rows. The typical case is an order
    number merged down over the lines of one order."""
    width = len(columns)
    # (target column, source column) -> (target rows, source rows)
    moves: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
    for merge in merges:
        top = merge.first_row - first_body_row
        left = merge.first_col - column_offset
        if top < 0 or top >= body.height or not 0 <= left < width:
            continue  # starts above the table or outside its columns: layout, not lines
        bottom = min(merge.last_row - first_body_row, body.height - 1)
        right = min(merge.last_col - column_offset, width - 1)
        for column in range(left, right + 1):
            targets, sources = moves.setdefault((column, left), ([], []))
            for row in range(top, bottom + 1):
                if (row, column) != (top, left):
                    targets.append(row)
                    sources.append(top)
    if not moves:
        return body
    if body.height <= SMALL_TABLE_ROWS:
        # A form's few lines: the copies made on Python lists; a gather and a scatter per
        # merge cost 50-100 us each in polars, however few the rows.
        saved: dict[str, list[object]] = {}
        lists: dict[str, list[object]] = {}
        for (column, left), (targets, sources) in moves.items():
            name, origin = columns[column], columns[left]
            if origin not in saved:
                saved[origin] = body[origin].to_list()
            if name not in lists:
                lists[name] = body[name].to_list()
            for target, source in zip(targets, sources, strict=True):
                lists[name][target] = saved[origin][source]
        filled_body = body.clone()  # (shares the columns; replaced in place: no query)
        for name, values in lists.items():
            filled_body.replace_column(body.get_column_index(name),
                                       pl.Series(name, values, dtype=body[name].dtype))
        return filled_body
    filled: dict[str, pl.Series] = {}
    for (column, left), (targets, sources) in moves.items():
        name = columns[column]
        current = filled.get(name, body[name])
        filled[name] = current.scatter(targets, body[columns[left]].gather(sources))
    return body.with_columns(list(filled.values()))


def context_rows(grid: pl.DataFrame, start: int, stop: int, first_row: int) -> Cells:
    """Non-blank rows ``start``..``stop`` of the grid as (spreadsheet row, texts)."""
    rows: Cells = []
    for offset, values in enumerate(grid.slice(start, max(0, stop - start)).iter_rows()):
        cells = [(v or "").strip() for v in values]
        if any(cells):
            rows.append((first_row + start + offset, cells))
    return rows
