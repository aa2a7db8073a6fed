"""Order-level amounts the platforms state reach the order's fields once, and a stated order
total is checked (whole orders); orders not complete yet wait for the export that carries
them whole."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
from conftest import MAPPINGS

from ingest.api import ingest
from ingest.mapping.loader import load_mapping

SHOPIFY_HEADER = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status",
                  "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
                  "Discount Amount", "Created at", "Lineitem quantity", "Lineitem name",
                  "Lineitem price", "Lineitem sku", "Lineitem discount", "Shipping Country",
                  "Cancelled at"]
AT = "2026-04-01 10:00:00 -0400"


def shopify_order(name: str, lines: list[tuple[str, str, str]], totals: tuple[str, ...],
                  code: str = "") -> list[list[str]]:
    """lines: (quantity, price, Lineitem discount); totals: Subtotal, Shipping, Taxes,
    Total, Discount Amount (first row only, as Shopify writes them)."""
    subtotal, shipping, taxes, total, discount = totals
    rows = []
    for i, (qty, price, line_discount) in enumerate(lines):
        first = i == 0
        rows.append([name, "a@example.com", "paid" if first else "", AT if first else "",
                     "", "USD" if first else "", subtotal if first else "",
                     shipping if first else "", taxes if first else "", total if first else "",
                     code if first else "", discount if first else "", AT, qty,
                     f"Item {i + 1}", price, f"SKU-{i + 1}", line_discount,
                     "US" if first else "", ""])
    return rows


def ingest_rows(tmp_path: Path, name: str, header: list[str], rows: list[list[str]],
                channel: str, delimiter: str = ",", state: str = "state"
                ) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    source = tmp_path / name
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    source.write_text(out.getvalue(), encoding="utf-8")
    report = ingest([source], tmp_path / "out", state_dir=tmp_path / state,
                    mappings=[load_mapping(MAPPINGS / f"{channel}.toml")])
    assert report.batch_dir is not None
    read: dict[str, Any] = {"infer_schema": False}
    orders = pl.read_csv(report.batch_dir / "orders.csv", **read)
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", **read)
    manifest = json.loads((report.batch_dir / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["inputs"]
    assert entry["rows_in"] == (entry["clean"] + entry["rejected"] + entry["duplicates"]
                                + entry["waiting"])
    return orders, rejects, manifest


def test_a_shopify_discount_code_reaches_the_order_once(tmp_path: Path) -> None:
    # The evidence's shape: a code's amount is in Discount Amount, not in the lines (their
    # Lineitem discount is 0.00); the lines sum to Subtotal + Discount Amount.
    rows = shopify_order("#2001", [("1", "600.00", "0.00"), ("1", "1400.00", "0.00")],
                         ("1600.00", "100.00", "0.00", "1700.00", "400.00"), "SPRING")
    # Automatic product discounts are in the lines: Σ Lineitem discount = Discount Amount,
    # so nothing is left for the order (never counted twice).
    rows += shopify_order("#2002", [("3", "6.99", "2.07"), ("6", "7.49", "4.44")],
                          ("59.40", "5.00", "4.36", "68.76", "6.51"))
    # Both: a code on top of automatic discounts; the order keeps the rest.
    rows += shopify_order("#2003", [("2", "79.00", "23.60")],
                          ("119.55", "0.00", "0.00", "119.55", "38.45"), "EXTRA")
    orders, rejects, _ = ingest_rows(tmp_path, "orders_export_1.csv", SHOPIFY_HEADER, rows,
                                     "shopify")
    assert rejects.height == 0
    got = orders.select("order_id", "line_total", "order_discount_amount", "shipping_amount",
                        "tax_amount", "order_total").rows()
    assert got == [
        ("#2001", "600.00", "400.00", "100.00", "0.00", "1700.00"),
        ("#2001", "1400.00", "400.00", "100.00", "0.00", "1700.00"),
        ("#2002", "18.90", "0.00", "5.00", "4.36", "68.76"),
        ("#2002", "40.50", "0.00", "5.00", "4.36", "68.76"),
        ("#2003", "134.40", "14.85", "0.00", "0.00", "119.55"),
    ]
    # Added once per order, the figures give the stated total back: no amount was lost.
    per_order = orders.with_columns(pl.col(c).cast(pl.Decimal(18, 2)) for c in (
        "line_total", "order_discount_amount", "shipping_amount", "tax_amount",
        "order_total")).group_by("order_id", maintain_order=True).agg(
        (pl.col("line_total").sum() - pl.col("order_discount_amount").first()
         + pl.col("shipping_amount").first() + pl.col("tax_amount").first()).alias("sum"),
        pl.col("order_total").first())
    assert (per_order["sum"] == per_order["order_total"]).all()


def test_an_order_that_does_not_add_up_is_rejected_whole_with_both_figures(
        tmp_path: Path) -> None:
    rows = shopify_order("#3001", [("1", "600.00", "0.00"), ("1", "1400.00", "0.00")],
                         ("1600.00", "100.00", "0.00", "1800.00", "400.00"), "SPRING")
    rows += shopify_order("#3002", [("1", "45.00", "0.00")],
                          ("45.00", "8.00", "6.89", "59.89", "0.00"))
    # A store whose prices include VAT: Total = Subtotal + Shipping, Taxes is its share.
    rows += shopify_order("#3003", [("1", "85.00", "0.00")],
                          ("85.00", "0.00", "15.90", "85.00", "0.00"))
    orders, rejects, manifest = ingest_rows(tmp_path, "orders_export_1.csv", SHOPIFY_HEADER,
                                            rows, "shopify")
    assert orders["order_id"].to_list() == ["#3002", "#3003"]
    assert rejects["source_row"].to_list() == ["2", "3"]
    assert set(rejects["codes"]) == {"order-total-mismatch"}
    assert rejects["messages"][0] == (
        "order_total: '1800.00' in column Total is not what the order adds up to (stated "
        "1800.00, computed 1700.00: lines 2000.00 − order discount 400.00 + shipping 100.00 "
        "+ tax 0.00)")
    assert manifest["totals"]["rejected"] == 2


def test_woocommerce_totals_are_checked_with_tax_added(tmp_path: Path) -> None:
    sample = (MAPPINGS.parent / "samples" / "woocommerce" / "orders-2024-11-12.csv")
    table = list(csv.reader(io.StringIO(sample.read_text(encoding="utf-8-sig"))))
    header, first = table[0], dict(zip(table[0], table[3], strict=True))  # order 4102

    def order(number: str, total: str, tax: str) -> list[str]:
        row = {**first, "order_id": number, "order_number": number, "order_total": total,
               "tax_total": tax}
        return [row[h] for h in header]

    # 45.00 + shipping 9.90 + tax 8.55 = 63.45; prices exclude tax in WooCommerce
    orders, rejects, _ = ingest_rows(tmp_path, "orders.csv", header, [
        order("5001", "63.45", "8.55"), order("5002", "54.90", "8.55")], "woocommerce")
    assert orders["order_id"].to_list() == ["5001"]
    assert rejects["codes"].to_list() == ["order-total-mismatch"]
    assert "stated 54.90, computed 63.45" in rejects["messages"][0]


AMAZON = MAPPINGS.parent / "samples" / "amazon" / "All_Orders_20241112.txt"


def amazon_rows(status: str, price: str) -> tuple[list[str], list[list[str]]]:
    table = [line.split("\t") for line in AMAZON.read_text(encoding="utf-8").splitlines()]
    header, base = table[0], dict(zip(table[0], table[1], strict=True))
    rows = []
    for sku, qty in [("DW-100", "2"), ("GW-WHT", "1")]:
        row = {**base, "amazon-order-id": "111-0000000-0000001", "order-status": status,
               "item-status": status, "sku": sku, "quantity": qty,
               "item-price": price if price else "", "item-promotion-discount": "0.00",
               "shipping-price": "0.00", "ship-promotion-discount": "0.00"}
        rows.append([row[h] for h in header])
    other = {**base, "amazon-order-id": "111-0000000-0000002"}
    rows.append([other[h] for h in header])
    return header, rows


def test_a_pending_order_waits_and_is_taken_complete_later(tmp_path: Path) -> None:
    header, rows = amazon_rows("Pending", "")
    orders, rejects, manifest = ingest_rows(tmp_path, "pending.txt", header, rows, "amazon",
                                            delimiter="\t")
    (entry,) = manifest["inputs"]
    assert (entry["rows_in"], entry["clean"], entry["rejected"], entry["waiting"]) == (
        3, 1, 0, 2)
    assert manifest["totals"]["waiting"] == 2 and rejects.height == 0
    assert orders["order_id"].to_list() == ["111-0000000-0000002"]
    # The later report carries the order priced: its lines are new, not duplicates (the
    # waiting rows were never remembered); the other order is a duplicate now.
    header, rows = amazon_rows("Unshipped", "20.00")
    orders, _, manifest = ingest_rows(tmp_path, "later.txt", header, rows, "amazon",
                                      delimiter="\t")
    (entry,) = manifest["inputs"]
    assert (entry["clean"], entry["duplicates"], entry["waiting"]) == (2, 1, 0)
    assert orders["order_id"].to_list() == ["111-0000000-0000001"] * 2
    assert orders["change_type"].to_list() == ["new", "new"]
