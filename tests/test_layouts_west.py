"""The Western channels' export layouts, each as the platform writes it (evidence/*.md):
every bundled sample is recognised as its channel and as its own layout's mapping, and
every one of its rows is accounted for."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from ingest.api import ingest

ROOT = Path(__file__).resolve().parent.parent

# mapping -> (channel, layout, sample)
LAYOUTS = {
    "amazon": ("amazon", "default", "samples/amazon/All_Orders_20241112.txt"),
    "amazon-order-report": ("amazon", "order-report",
                            "samples/amazon/Order_Report_20241112.txt"),
    "amazon-unshipped": ("amazon", "unshipped",
                         "samples/amazon/Unshipped_Orders_20241112.txt"),
    "ebay": ("ebay", "default",
             "samples/ebay/eBay-OrdersReport-Nov-12-2024-10_32_15-0700-1234567890.csv"),
    "ebay-sales-history": ("ebay", "sales-history", "samples/ebay/SalesHistory.csv"),
    "shopify": ("shopify", "default", "samples/shopify/orders_export_1.csv"),
    "woocommerce": ("woocommerce", "customer-order-csv-export",
                    "samples/woocommerce/orders-2024-11-12.csv"),
    "woocommerce-advanced-order-export": (
        "woocommerce", "advanced-order-export",
        "samples/woocommerce/orders-2024-11-12-advanced-order-export.csv"),
    "woocommerce-webtoffee": ("woocommerce", "webtoffee",
                              "samples/woocommerce/order_export_2024-11-12-10-32-15.csv"),
}


def _entry(sample: str, tmp_path: Path) -> dict[str, object]:
    report = ingest([str(ROOT / sample)], tmp_path / "out", state_dir=tmp_path / "state")
    assert report.batch_dir is not None
    manifest = json.loads((report.batch_dir / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["inputs"]
    return dict(entry)


@pytest.mark.parametrize("mapping", sorted(LAYOUTS))
def test_sample_is_recognised_as_its_layout_and_every_row_counted(
        mapping: str, tmp_path: Path) -> None:
    channel, layout, sample = LAYOUTS[mapping]
    entry = _entry(sample, tmp_path)
    assert (entry["channel"], entry["mapping"], entry["layout"]) == (channel, mapping, layout)
    assert not entry.get("missing_signature")
    parts = ("clean", "rejected", "duplicates", "waiting")
    assert entry["rows_in"] == sum(int(entry[k]) for k in parts) + int(entry.get("joined", 0))
    assert int(entry["rows_in"]) > 0


def test_unshipped_orders_all_wait_and_none_is_rejected(tmp_path: Path) -> None:
    """The Unshipped report has no price: every row waits (not-yet-priced), even a row that
    would be bad in a priced report, so the priced export takes the order later."""
    entry = _entry(LAYOUTS["amazon-unshipped"][2], tmp_path)
    assert entry["waiting"] == entry["rows_in"] == 5
    assert entry["clean"] == entry["rejected"] == 0


def test_unshipped_then_order_report_takes_the_order_as_new(tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    ingest([str(ROOT / LAYOUTS["amazon-unshipped"][2])], out, state_dir=state)
    report = ingest([str(ROOT / LAYOUTS["amazon-order-report"][2])], out, state_dir=state)
    assert report.batch_dir is not None
    orders = (report.batch_dir / "orders.csv").read_text(encoding="utf-8")
    # 112-5566778-9900112 waited in the Unshipped report; priced here, it is new.
    assert "112-5566778-9900112" in orders


def test_cancelled_item_of_a_shipped_amazon_order_is_cancelled(tmp_path: Path) -> None:
    report = ingest([str(ROOT / LAYOUTS["amazon"][2])], tmp_path / "out",
                    state_dir=tmp_path / "state")
    assert report.batch_dir is not None
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    order = orders.filter(pl.col("order_id") == "114-2468013-5791357").sort("line_no")
    assert order["order_status"].to_list() == ["shipped", "cancelled"]


def test_woocommerce_cart_discount_is_not_taken_twice(tmp_path: Path) -> None:
    """Item Cost is after the cart discount: the order adds up to its stated total with no
    order discount on top (36.00 + 5.00 + 7.79 = 48.79)."""
    report = ingest([str(ROOT / LAYOUTS["woocommerce-advanced-order-export"][2])],
                    tmp_path / "out", state_dir=tmp_path / "state")
    assert report.batch_dir is not None
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    order = orders.filter(pl.col("order_id") == "5001")
    assert order["line_total"].to_list() == ["18.00", "18.00"]
    assert set(order["order_discount_amount"].fill_null("").to_list()) == {""}
    assert set(order["order_total"].to_list()) == {"48.79"}
