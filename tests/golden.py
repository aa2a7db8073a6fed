"""Golden outputs: what ordermill makes of each bundled sample, checked in under
tests/golden/<case>/, a case named after the mapping that reads its sample. A two-file
export is one case of both its files, named after its channel and layout (``tmall``: the
2016-2019 pair, layout default; ``tmall-2021``: the 2021+ pair): ``pair_halves`` gives its
two mappings. ``regen_golden.py`` rewrites them after a deliberate change."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from ingest.api import ingest
from ingest.mapping.model import Mapping

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
CASES: dict[str, str | tuple[str, ...]] = {
    # both halves of each two-file export (one folder holds both layouts' pairs)
    "tmall": ("samples/tmall/ExportOrderDetailList202411120800.csv",
              "samples/tmall/ExportOrderList202411120800.csv"),
    "tmall-2021": ("samples/tmall/ExportOrderDetailList202411150930.csv",
                   "samples/tmall/ExportOrderList202411150930.csv"),
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


# Mailed purchase orders: a mail is read by the mappings of what it carries, so its case is
# named after the mail (samples/mail/), not a mapping.
MAIL_CASES: dict[str, str | tuple[str, ...]] = {
    "mail-po-acme-xlsx": "samples/mail/acme-PO-4500012399.eml",
    "mail-po-huaxin-body-table": "samples/mail/huaxin-HX-20261206-003.eml",
}


def sample_files(sample: str | tuple[str, ...]) -> list[Path]:
    """A case's files, absolute: one, or both halves of a two-file export."""
    return [ROOT / name for name in ((sample,) if isinstance(sample, str) else sample)]


def case_name(mapping: Mapping) -> str:
    """The case a mapping's sample is: its own name, or for a half of a two-file export its
    channel, then its layout unless that is the default (``tmall``, ``tmall-2021``)."""
    if mapping.pair is None:
        return mapping.name
    return mapping.channel if mapping.layout == "default" else f"{mapping.channel}-{mapping.layout}"


def pair_halves(name: str, mappings: Iterable[Mapping]) -> set[str]:
    """The two mappings of a two-file export's case (empty for any other case)."""
    return {m.name for m in mappings if m.pair is not None and case_name(m) == name}


def produce(sample: str | tuple[str, ...], out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ingest one sample (a path relative to the repository root, or both halves of a
    two-file export) into a fresh ledger and return its orders and rejects as strings,
    without the batch id (new on every run)."""
    names = [sample] if isinstance(sample, str) else list(sample)
    report = ingest(names, out / "out", state_dir=out / "state")
    assert report.batch_dir is not None
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    # ``source`` is the input's absolute path: shown relative to the checkout, so the golden
    # files hold no machine's folders.
    relative = pl.col("source").str.strip_prefix(f"{ROOT}/")
    return orders.drop("batch_id").with_columns(relative), rejects.with_columns(relative)


# ERP profiles: the lines of these samples in every bundled profile's layout, checked in
# under tests/golden/profiles/<profile>/ (an xlsx as the text of its cells, one row a line).
PROFILE_SAMPLES = ("samples/shopify/orders_export_1.csv",
                   "samples/po/acme-PO-4500012345.xlsx", "samples/1688/历史订单_2025-11-08.xlsx")


def profile_outputs(batch_dir: Path) -> dict[str, str]:
    """Each profile file of a batch as text (relative name -> text): CSV and NDJSON as
    written (the batch id and this checkout's folder taken out), an xlsx as its cells."""
    import csv
    import io

    from openpyxl import load_workbook

    batch_id = batch_dir.name
    found: dict[str, str] = {}
    for path in sorted((batch_dir / "profiles").rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(batch_dir / "profiles"))
        if path.suffix == ".xlsx":
            book = load_workbook(path, read_only=True)
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            for sheet in book.worksheets:
                buffer.write(f"# sheet {sheet.title}\n")
                for row in sheet.iter_rows(values_only=True):
                    writer.writerow(["" if v is None else v for v in row])
            book.close()
            found[name + ".csv"] = buffer.getvalue()
            continue
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
        prefix = "BOM " if raw.startswith(b"\xef\xbb\xbf") else ""
        found[name] = prefix + text.replace(batch_id, "<batch>").replace(f"{ROOT}/", "")
    return found


def produce_profiles(out: Path) -> dict[str, str]:
    """``PROFILE_SAMPLES`` ingested with every bundled profile into a fresh ledger."""
    from ingest.writers.profiles import profile_files

    report = ingest(list(PROFILE_SAMPLES), out / "out", state_dir=out / "state",
                    profiles=list(profile_files()))
    assert report.batch_dir is not None
    return profile_outputs(report.batch_dir)
