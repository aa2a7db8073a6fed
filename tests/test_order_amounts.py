"""Order-level amounts are carried on every line, and an order's lines must agree on them;
per-order sums and summary rows are exact and keep every row accounted for."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.api import ingest
from ingest.mapping.loader import parse_mapping
from ingest.mapping.model import Mapping

HEADER = "No,At,Qty,Amount,Ship,Off,Item\n"


def mapping(orders: dict[str, object] | None = None) -> Mapping:
    return parse_mapping({
        "channel": "toy",
        "detect": {"header_contains": ["No", "Amount", "Ship"]},
        "orders": orders or {},
        "constants": {"currency": "EUR", "order_status": "paid"},
        "fields": {"order_id": "No", "ordered_at": "At", "quantity": "Qty",
                   "unit_price": {"column": "Amount", "per": "quantity"},
                   "product_name": "Item", "shipping_amount": "Ship",
                   "order_discount_amount": "Off"},
    }, "toy.toml")


def run(tmp_path: Path, body: str, orders: dict[str, object] | None = None
        ) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, object]]:
    source = tmp_path / "toy.csv"
    source.write_text(HEADER + body, encoding="utf-8")
    report = ingest([source], tmp_path / "out", state_dir=tmp_path / "state",
                    mappings=[mapping(orders)])
    assert report.batch_dir is not None
    read = {"infer_schema": False}
    orders_out = pl.read_csv(report.batch_dir / "orders.csv", **read)  # type: ignore[arg-type]
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", **read)  # type: ignore[arg-type]
    entry = report.manifest["inputs"][0]  # type: ignore[index]
    assert entry["rows_in"] == entry["clean"] + entry["rejected"] + entry["duplicates"]
    return orders_out, rejects, entry


def test_lines_that_disagree_on_an_order_amount_are_all_rejected(tmp_path: Path) -> None:
    orders, rejects, _ = run(tmp_path, "A1,2024-11-01 10:00:00,1,10.00,5.00,1.00,tea\n"
                                       "A1,2024-11-01 10:00:00,1,20.00,5.00,2.00,cup\n"
                                       "B1,2024-11-01 11:00:00,1,30.00,4.90,,pot\n"
                                       "B1,2024-11-01 11:00:00,1,30.00,,,lid\n")
    assert rejects["source_row"].to_list() == ["2", "3"]
    assert set(rejects["codes"]) == {"order-amount-mismatch"}
    assert "order_discount_amount: '1.00' in column Off" in rejects["messages"][0]
    assert "(from 1.00 to 2.00)" in rejects["messages"][0]
    # an empty value is not a disagreement
    assert orders["order_id"].to_list() == ["B1", "B1"]
    assert orders["shipping_amount"].to_list() == ["4.90", None]


def test_per_divides_exactly_or_rejects(tmp_path: Path) -> None:
    orders, rejects, _ = run(tmp_path, "A1,2024-11-01 10:00:00,3,37.50,0,,tea\n"
                                       "B1,2024-11-01 10:00:00,3,10.00,0,,cup\n"
                                       "C1,2024-11-01 10:00:00,3,ten,0,,pot\n")
    assert orders["unit_price"].to_list() == ["12.50"]
    assert orders["line_total"].to_list() == ["37.50"]
    assert rejects["codes"].to_list() == ["indivisible-amount", "invalid-money"]
    assert "'10.00'" in rejects["messages"][0] and "quantity 3" in rejects["messages"][0]


def test_sum_over_the_order_is_exact_and_a_bad_value_keeps_the_order_apart(
        tmp_path: Path) -> None:
    body = ("A1,2024-11-01 10:00:00,1,0.10,0.10,,a\n"
            "A1,2024-11-01 10:00:00,1,0.20,0.20,,b\n"
            "A1,2024-11-01 10:00:00,1,0.30,0.40,,c\n"
            "B1,2024-11-01 10:00:00,1,1.00,1.00,,d\n"
            "B1,2024-11-01 10:00:00,1,1.00,n/a,,e\n")
    orders, rejects, _ = run(tmp_path, body, orders={"key": "No", "sum": ["Ship"]})
    assert orders["shipping_amount"].to_list() == ["0.70"] * 3  # not 0.7000000000000001
    assert dict(zip(rejects["source_row"], rejects["codes"], strict=True))["6"] == \
        "invalid-money"
    assert rejects.height == 2  # B1's other line is held back with it


def test_summary_rows_are_layout_not_lines(tmp_path: Path) -> None:
    body = ("A1,2024-11-01 10:00:00,,,6.00,,\n"       # A1's summary row
            "A1,,1,10.00,,,tea\n"
            "A1,,2,8.00,,,cup\n"
            "B1,2024-11-01 11:00:00,1,5.00,3.00,,pot\n"  # one row: order and item
            "C1,2024-11-01 12:00:00,,,3.00,,\n")      # no item at all: a bad line, kept
    orders, rejects, entry = run(tmp_path, body, orders={
        "key": "No", "summary_when_empty": "Item", "carry_forward": ["At", "Ship"]})
    assert entry["layout_rows"]["order_summary"] == 1  # type: ignore[index]
    assert orders["source_row"].to_list() == ["3", "4", "5"]
    assert orders.filter(pl.col("order_id") == "A1")["shipping_amount"].to_list() == \
        ["6.00", "6.00"]
    assert rejects["source_row"].to_list() == ["6"]
