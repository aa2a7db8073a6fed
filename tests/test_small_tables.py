"""A small table's layout is told by Python over its cells, a big one's by polars queries
(``SMALL_TABLE_ROWS``, ``SMALL_BODY``): planning a query costs more than a small table's
work. Both must tell the same, row for row, whatever the cells hold."""

from __future__ import annotations

import os

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from ingest.columns import READER_CODE, READER_DETAIL
from ingest.readers import base, csv, layout, sheetxml

# Cells as exports and forms hold them: empty, blank in the ways polars trims and the ways
# it does not (U+001C-U+001F, which Python's strip() would take), footer words, delimiters.
CELLS = st.one_of(
    st.none(), st.sampled_from(["", " ", "\t", "\u3000", "\xa0", "\x1c", " \x1f ", "x",
                                "Total", "合计", "Notes: see", "Subtotal", "a,b", "  ,  ",
                                "Total Station", "4", " record(s) downloaded", "\x00"]),
    st.text(max_size=6))
# More with EXAMPLES=20000 in the environment (a change to either path deserves it).
EXAMPLES = int(os.environ.get("EXAMPLES", "300"))
FOOTERS = st.sampled_from([None, r"^(Subtotal|Freight|Total)\b", r"record\(s\)"])


def frames(width: int) -> st.SearchStrategy[pl.DataFrame]:
    names = [f"c{i}" for i in range(width)]
    return st.lists(st.tuples(*[CELLS] * width), max_size=14).map(
        lambda rows: pl.DataFrame(rows, schema={n: pl.String for n in names}, orient="row"))


def both(run: object) -> tuple[object, object]:
    """``run()`` by the small path, then by the big path."""
    small = run()  # type: ignore[operator]
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(base, "SMALL_TABLE_ROWS", -1)
        patched.setattr(layout, "SMALL_TABLE_ROWS", -1)
        patched.setattr(csv, "SMALL_TABLE_ROWS", -1)
        patched.setattr(csv, "SMALL_BODY", -1)
        big = run()  # type: ignore[operator]
    return small, big


@settings(max_examples=300, deadline=None)
@given(data=st.data(), width=st.integers(1, 5), footer=FOOTERS)
def test_blank_and_footer_rows_are_the_same_either_way(data: st.DataObject, width: int,
                                                       footer: str | None) -> None:
    frame = data.draw(frames(width))
    header = frame.columns
    (small_table, small_layout), (big_table, big_layout) = both(  # type: ignore[misc]
        lambda: base.split_table(frame, header, footer))
    assert small_layout == big_layout
    assert_frame_equal(small_table, big_table)
    small_end, big_end = both(lambda: layout.table_end(frame, header, footer))
    assert small_end == big_end


LINE_PARTS = st.sampled_from(['"', '""', '"",', ",", ",,", "a", '"x"', '"a, b"', " ", "\r",
                              "\r\n", "\n", "\n\n", "x,y", '"q,\nr"', "\x00", "é"])
# What purchase orders' CSVs hold: the short bodies Python's csv module parses (``_parse_small``).
PLAIN_PARTS = st.sampled_from(['"a, b"', ",", "a", " ", "\r\n", "\n", "x,y", "é", '""', "12.40",
                               '"12,400.00"'])


@settings(max_examples=EXAMPLES, deadline=None)
@given(parts=st.one_of(st.lists(LINE_PARTS, max_size=30), st.lists(PLAIN_PARTS, max_size=40)),
       width=st.integers(1, 4))
def test_records_and_their_marks_are_the_same_either_way(parts: list[str], width: int
                                                         ) -> None:
    body = "".join(parts).encode()
    header = [f"h{i}" for i in range(width)]

    def parsed() -> object:
        try:
            return csv._parse_fast(body, header, ",")
        except (csv._NeedsLenient, pl.exceptions.ComputeError) as exc:
            return type(exc).__name__

    small_structure, big_structure = both(lambda: csv._record_structure(body, ","))
    assert small_structure[1] == big_structure[1]  # type: ignore[index]
    assert_series_equal(small_structure[0], big_structure[0],  # type: ignore[index]
                        check_names=False)
    small, big = both(parsed)
    if isinstance(small, pl.DataFrame) and isinstance(big, pl.DataFrame):
        # A field cut off past ``__extra`` whose quoted value held a delimiter is counted
        # as two by the polars parse (it never sees the value), as one by Python's: the
        # row is too-many-fields either way, the count said may differ only upwards.
        counted = [(int(s.split()[0]), int(b.split()[0])) for s, b, code in zip(
            small[READER_DETAIL], big[READER_DETAIL], big[READER_CODE],
            strict=True) if code == "too-many-fields"]
        assert all(mine <= theirs for mine, theirs in counted)
        assert_frame_equal(small.drop(READER_DETAIL), big.drop(READER_DETAIL))
        same = [s == b for s, b, code in zip(small[READER_DETAIL], big[READER_DETAIL],
                                             big[READER_CODE], strict=True)
                if code != "too-many-fields"]
        assert all(same)
    else:
        assert small == big


MERGES = st.lists(st.tuples(st.integers(0, 16), st.integers(-1, 5), st.integers(0, 4),
                            st.integers(0, 3)), max_size=5)


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data(), width=st.integers(1, 5), ranges=MERGES, first_row=st.integers(1, 4),
       offset=st.integers(0, 2))
def test_merged_cells_are_filled_the_same_either_way(
        data: st.DataObject, width: int, ranges: list[tuple[int, int, int, int]],
        first_row: int, offset: int) -> None:
    """Merges that start above the table, outside its columns, run past its end, or
    overlap (a column both filled and the source of another fill)."""
    frame = data.draw(frames(width))
    before = frame.clone()
    merges = [sheetxml.Merge(row, column, row + down, column + across)
              for row, column, down, across in ranges]
    small, big = both(lambda: layout.fill_merges(frame, merges, first_row, offset,
                                                 frame.columns))
    assert_frame_equal(small, big)  # type: ignore[arg-type]
    assert_frame_equal(frame, before)  # (the body itself is untouched)
