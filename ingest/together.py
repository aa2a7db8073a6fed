"""Mapping and checks (stages four and five) for small inputs, many at once.

A night of e-mailed purchase orders is thousands of inputs of a few lines each, and every
polars query costs a tenth of a millisecond or more however few its rows: mapped and
checked one by one (``ingest.reading``), each input paid for a hundred queries, most of
the time a batch of them took. So a small input read whole is shaped on its own (its
orders are its own: ``ingest.mapping.orders``) and waits; inputs of one mapping, with the
same header and kind of reader, are then concatenated into one table, mapped and checked
once (``ingest.lines``), and the result is split into one ``CheckedInput`` per input:
the one mapping it alone gives (tests/test_together.py).

In the concatenated table a row's identity is its input's place in the group, shifted by
``INPUT_SHIFT`` bits, plus its ``__row`` (``ingest.columns``): every step keyed by
``__row`` works unchanged, and what looks at an order's lines groups by the input as well
(``ingest.mapping.compile.order_group``). Each input's form values (a PO number beside
its table) come as a column instead of a constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from ingest import early
from ingest.columns import INPUT_SHIFT, READER_CODE, READER_DETAIL, ROW
from ingest.inputs import Input
from ingest.lines import CheckedTable, map_and_check
from ingest.mapping.detect import Match
from ingest.mapping.form import form_values
from ingest.mapping.model import Mapping
from ingest.mapping.orders import ShapedTable, shape
from ingest.readers import read_ahead
from ingest.reading import CheckedInput, ReadTable, input_details

GROUP_ROWS = 100_000  # a group is mapped once it holds this many rows (memory stays bounded)
FORM = "__form_"  # + field: each input's form value, as a column of the group
AHEAD_INPUTS = 16  # inputs after the one read that readers may start on
PLACE = "__place"  # an input's place in its group, while the results are split
_PENDING = pl.DataFrame()  # what an input holds until its group is mapped


@dataclass
class _Member:
    checked: CheckedInput  # completed when its group is mapped
    match: Match
    shaped: ShapedTable
    frame: pl.DataFrame  # the shaped rows, with the values carried to an order's lines
    form: dict[str, str | None]


@dataclass
class Together:
    """Small inputs, read one by one (``add``), mapped and checked in groups: when a group
    is full, and the rest by ``complete``. Until then, the ``CheckedInput`` that ``add``
    gave holds what was read (its rows as read, its counts of rows) but no lines.

    ``upcoming``: the run's inputs in the order they are read (more may be added as they
    become known, ``extend``); as each is read, the readers may start on the next few
    (``reading``: small workbooks and text inputs go to the parser's process)."""

    default_timezone: str = "UTC"
    group_rows: int = GROUP_ROWS
    upcoming: list[Input] = field(default_factory=list)
    # The run's mappings and --channel: with them, small text inputs are recognised and
    # read ahead as well (``ingest.early``), not only workbooks.
    mappings: list[Mapping] | None = None
    channel: str | None = None
    _places: dict[int, int] = field(default_factory=dict)
    _placed: int = 0  # (how many of ``upcoming`` have their place in ``_places``)
    _groups: dict[tuple[object, ...], list[_Member]] = field(default_factory=dict)
    _rows: dict[tuple[object, ...], int] = field(default_factory=dict)
    _failed: list[tuple[CheckedInput, Exception]] = field(default_factory=list)

    def extend(self, inputs: Sequence[Input]) -> None:
        """More inputs to be read after those already upcoming (a mail's parts, once the
        mail is opened)."""
        self.upcoming.extend(inputs)
        self._index()

    def _index(self) -> None:
        """Each upcoming input's place, for those not placed yet."""
        for at in range(self._placed, len(self.upcoming)):
            self._places[id(self.upcoming[at])] = at
        self._placed = len(self.upcoming)

    def reading(self, one: Input) -> None:
        """``one`` is about to be read: readers may start on it and the inputs after it."""
        self._index()
        at = self._places.get(id(one))
        if at is not None and self.upcoming[at] is one:
            coming = self.upcoming[at:at + 1 + AHEAD_INPUTS]
            read_ahead(coming)
            if self.mappings is not None:
                early.read_ahead(coming, self.mappings, self.channel)

    def add(self, read: ReadTable) -> CheckedInput:
        """The input shaped now (so a failure here is the input's own), mapped later."""
        mapping = read.match.mapping
        shaped = shape(read.table, mapping)
        table = shaped.table
        frame = table.frame.with_columns(shaped.carried) if shaped.carried else table.frame
        checked = CheckedInput(
            read.input, read.sha256, read.size, mapping, table.header, table.frame,
            lines=[], hashes=_PENDING, reasons=_PENDING, rejected_orders=_PENDING,
            rows_in=table.frame.height)
        # (a reader's columns are text but for __row: the same names, the same types)
        key = (id(mapping), tuple(table.header), table.delimiter is None,
               tuple(shaped.substitutes.items()), tuple(frame.columns))
        self._groups.setdefault(key, []).append(
            _Member(checked, read.match, shaped, frame, form_values(mapping, table)))
        self._rows[key] = self._rows.get(key, 0) + frame.height
        if self._rows[key] >= self.group_rows:
            self._map(key)
        return checked

    def complete(self) -> list[tuple[CheckedInput, Exception]]:
        """Map what waits; the inputs whose mapping failed, each with its exception (their
        ``CheckedInput`` is not complete: they are unreadable)."""
        for key in list(self._groups):
            self._map(key)
        failed, self._failed = self._failed, []
        return failed

    def _map(self, key: tuple[object, ...]) -> None:
        members = self._groups.pop(key)
        del self._rows[key]
        try:
            _map_group(members, self.default_timezone)
        except Exception as exc:
            if len(members) == 1:
                self._failed.append((members[0].checked, exc))
                return
            # Which input broke it? Each alone: the others are read as they would be.
            for member in members:
                try:
                    _map_group([member], self.default_timezone)
                except Exception as alone:
                    self._failed.append((member.checked, alone))


def _map_group(members: list[_Member], default_timezone: str) -> None:
    """Map and check the members' tables as one, and complete each member's input."""
    first = members[0]
    mapping = first.checked.mapping
    heights = pl.Series([m.frame.height for m in members], dtype=pl.Int64)
    total = int(heights.sum())
    for member in members:  # (a row number must leave room for the input's place)
        if member.frame.height and member.frame[ROW].max() >= 1 << INPUT_SHIFT:  # type: ignore[operator]
            raise ValueError(f"{member.checked.name}: row numbers too large to map together")
    place = heights.cum_sum().search_sorted(pl.int_range(total, eager=True), side="right")
    forms = [name for name, rule in mapping.fields.items() if rule.form is not None]
    frame = pl.concat([m.frame for m in members]).with_columns(
        (pl.col(ROW) + place.cast(pl.Int64) * (1 << INPUT_SHIFT)).alias(ROW),
        *[pl.Series(FORM + name, [m.form.get(name) for m in members], dtype=pl.String)
          .gather(place) for name in forms])
    shaped = ShapedTable(replace(first.shaped.table, frame=frame), first.shaped.substitutes)
    checked = map_and_check(shaped, mapping, default_timezone,
                            {name: pl.col(FORM + name) for name in forms}, together=True)
    _complete(members, frame, checked)


def _complete(members: list[_Member], frame: pl.DataFrame, checked: CheckedTable) -> None:
    """Each member's share of the group's results, with its own row numbers."""
    count = len(members)
    lines = _split(checked.passed, count)
    hashes = _split(checked.hashes, count)
    reasons = _split(checked.reasons, count)
    rejected_orders = _split(checked.rejected_orders, count)
    warnings = _split(checked.warnings, count)
    waiting = dict((checked.waiting_rows // (1 << INPUT_SHIFT)).value_counts().iter_rows()) \
        if checked.waiting else {}
    # The rows as read, for the rejects report: without the reader's columns, and without
    # values carried to an order's other lines (the report shows what each row said).
    carried = any(m.shaped.carried for m in members)
    kept = [c for c in frame.columns
            if c not in (READER_CODE, READER_DETAIL) and not c.startswith(FORM)]
    raws = [m.shaped.table.frame.select(kept) for m in members] if carried else _split(
        frame.select(kept), count)
    for place, member in enumerate(members):
        input_ = member.checked
        input_.raw = raws[place]
        input_.memory = lines[place]
        input_.lines = [lines[place].lazy()]
        input_.hashes = hashes[place]
        input_.reasons = reasons[place]
        input_.rejected_orders = rejected_orders[place]
        input_.warnings = [warnings[place].lazy()] if warnings[place].height else []
        input_.waiting = int(waiting.get(place, 0))
        table = member.shaped.table
        input_.details = {**input_.details, **input_details(  # (kept: a mail's lineage)
            member.match, table, dict(table.layout), checked.missing_columns, member.form)}


def _split(frame: pl.DataFrame, count: int) -> list[pl.DataFrame]:
    """A group's frame keyed by ``__row``, one frame per input (in place order), each with
    its own row numbers: one query for the group, not a filter per input."""
    keyed = frame.with_columns((pl.col(ROW) // (1 << INPUT_SHIFT)).alias(PLACE),
                               (pl.col(ROW) % (1 << INPUT_SHIFT)).alias(ROW))
    parts = keyed.partition_by(PLACE, as_dict=True, include_key=False) if frame.height else {}
    empty = keyed.clear().drop(PLACE)
    return [parts.get((place,), empty) for place in range(count)]
