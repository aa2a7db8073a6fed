"""Golden outputs: what ordermill makes of each bundled sample, checked in under
tests/golden/<channel>/. ``regen_golden.py`` rewrites them after a deliberate change."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.api import ingest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
CASES = {
    "tmall": "samples/tmall",  # both halves of the two-file export
    "shopify": "samples/shopify/orders_export_1.csv",
    "jd": "samples/jd/订单导出_20241112.csv",
    "1688": "samples/1688/1688订单导出_20241108.xlsx",
    "pinduoduo": "samples/pinduoduo/orders_export_20241112.csv",
    "douyin": "samples/douyin/订单导出_抖店_20241112.csv",
    "amazon": "samples/amazon/All_Orders_20241112.txt",
    "amazon-order-report": "samples/amazon/Order_Report_20241112.txt",
    "amazon-unshipped": "samples/amazon/Unshipped_Orders_20241112.txt",
    "ebay": "samples/ebay/eBay-OrdersReport-Nov-12-2024-10_32_15-0700-1234567890.csv",
    "ebay-sales-history": "samples/ebay/SalesHistory.csv",
    "woocommerce": "samples/woocommerce/orders-2024-11-12.csv",
    "woocommerce-advanced-order-export":
        "samples/woocommerce/orders-2024-11-12-advanced-order-export.csv",
    "po-acme": "samples/po/acme-PO-4500012345.xlsx",
    "po-huaxin": "samples/po/huaxin-PO-HX-20241118-007.xlsx",
}


def produce(sample: str, out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ingest one sample (path relative to the repository root) into a fresh ledger and
    return its orders and rejects as strings, without the batch id (new on every run)."""
    report = ingest([sample], out / "out", state_dir=out / "state")
    assert report.batch_dir is not None
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    # ``source`` is the input's absolute path: shown relative to the checkout, so the golden
    # files hold no machine's folders.
    relative = pl.col("source").str.strip_prefix(f"{ROOT}/")
    return orders.drop("batch_id").with_columns(relative), rejects.with_columns(relative)
