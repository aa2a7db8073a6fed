"""Detection as a step a mapping chooses, over a document opened once: the strategies a
mapping may name, what a detector is handed, and inputs that are bytes rather than files."""

from __future__ import annotations

from typing import Any

import polars as pl

from ingest.mapping.loader import parse_mapping
from ingest.mapping.model import Mapping
from ingest.mapping.orders import shape_orders
from ingest.readers import RawTable

FIELDS = {"order_id": "No", "ordered_at": "At", "order_status": "St", "currency": "Cur",
          "quantity": "Qty", "unit_price": "Price"}


def mapping(detect_table: dict[str, Any], channel: str = "toy", **extra: Any) -> Mapping:
    return parse_mapping({"channel": channel, "detect": detect_table, "fields": FIELDS,
                          **extra}, f"{channel}.toml")


def test_carried_values_reach_the_lines_once_and_the_table_keeps_its_own() -> None:
    frame = pl.DataFrame({"No": ["A1", "A1", "B2"], "Item": ["x", "y", "z"],
                          "Ship": ["Ann", "", "Bob"], "__reader_code": [None, None, None]},
                         schema_overrides={"__reader_code": pl.String})
    table = RawTable("t.csv", ["No", "Item", "Ship"], 1, frame)
    orders = {"key": "No", "carry_forward": ["Ship"]}
    plain = shape_orders(table, mapping({"header_contains": ["No"]}, orders=orders))
    # Without summary rows, compile carries the values; the table as read keeps its own.
    assert plain.table.frame["Ship"].to_list() == ["Ann", "", "Bob"]
    carried = plain.table.frame.select(plain.carried)["Ship"].to_list()
    assert carried == ["Ann", "Ann", "Bob"]
    summary = {**orders, "summary_when_empty": "Item"}
    folded = shape_orders(table, mapping({"header_contains": ["No"]}, orders=summary))
    # With them, the table holds the carried values already: nothing is carried twice.
    assert folded.carried == []
    assert folded.table.frame["Ship"].to_list() == ["Ann", "Ann", "Bob"]
