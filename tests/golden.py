"""Golden outputs: what ordermill makes of each bundled sample, checked in under
tests/golden/<case>/, a case named after the mapping that reads its sample (``tmall``: the
two-file export). ``regen_golden.py`` rewrites them after a deliberate change."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.api import ingest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
CASES = {
    "tmall": "samples/tmall",  # both halves of the two-file export
    "shopify": "samples/shopify/orders_export_1.csv",
    "jd": "samples/jd/订单导出_2016_20160302.csv",
    "jd-2018": "samples/jd/订单导出_2018_20180618.csv",
    "1688": "samples/1688/历史订单_2025-11-08.xlsx",
    "1688-core31": "samples/1688/订单导出_31列.xlsx",
    "pinduoduo-pre2020": "samples/pinduoduo/拼多多订单明细_2019.xlsx",
    "pinduoduo": "samples/pinduoduo/orders_export_2020.csv",
    "pinduoduo-2023": "samples/pinduoduo/orders_export_2023.csv",
    "pinduoduo-2026": "samples/pinduoduo/订单明细-pdd_2026.xlsx",
    "douyin": "samples/douyin/订单导出_抖店_2024.csv",
    "douyin-2025": "samples/douyin/1762873200_订单导出_抖店_2025.csv",
    "amazon": "samples/amazon/All_Orders_20241112.txt",
    "amazon-order-report": "samples/amazon/Order_Report_20241112.txt",
    "amazon-unshipped": "samples/amazon/Unshipped_Orders_20241112.txt",
    "ebay": "samples/ebay/eBay-OrdersReport-Nov-12-2024-10_32_15-0700-1234567890.csv",
    "ebay-sales-history": "samples/ebay/SalesHistory.csv",
    "woocommerce": "samples/woocommerce/orders-2024-11-12.csv",
    "woocommerce-advanced-order-export":
        "samples/woocommerce/orders-2024-11-12-advanced-order-export.csv",
    "woocommerce-webtoffee": "samples/woocommerce/order_export_2024-11-12-10-32-15.csv",
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
