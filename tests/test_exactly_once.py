"""Every order line reaches the ERP exactly once: re-runs, renamed copies, overlapping
exports, changed lines, two channels for the same purchase order."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, SAMPLES

from ingest import ledger as ledger_module
from ingest.api import ingest

TMALL = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"
HEADER = ["订单编号", "买家会员名", "订单状态", "订单创建时间", "宝贝标题", "商家编码", "价格",
          "购买数量", "收货人姓名", "收货地址"]
ADDRESS = "浙江省 杭州市 西湖区 文三路100号(310012)"


def export(path: Path, orders: list[tuple[str, int, str]]) -> Path:
    """A Tmall-style export: (order number, day of November, status) per order, two lines
    each, as the nightly 'last three days' export holds them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for number, day, status in orders:
        for sku, price in (("LJ-250", "128.00"), ("CUP-01", "39.90")):
            writer.writerow([f'="{number}"', "小王", status, f"2024-11-{day:02d} 10:00:00",
                             f"山河 {sku}", sku, price, "1", "王小明", ADDRESS])
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    return path


def orders_of(report_dir: Path | None) -> pl.DataFrame:
    assert report_dir is not None
    return pl.read_csv(report_dir / "orders.csv", infer_schema=False)


def test_the_same_file_again_even_renamed_is_skipped(tmp_path: Path) -> None:
    first = ingest([TMALL], tmp_path / "out")
    assert first.manifest is not None and first.manifest["totals"]["clean"] == 8
    renamed = tmp_path / "copy of export.csv"
    shutil.copy(TMALL, renamed)
    again = ingest([TMALL, renamed], tmp_path / "out")
    assert again.manifest is None and again.batch_dir is None
    assert [Path(s["path"]).name for s in again.skipped] == [TMALL.name, renamed.name]
    assert "already ingested in batch " + first.manifest["batch_id"] in again.skipped[0]["reason"]
    assert again.summary_line().endswith("2 already ingested -> no new batch")
    assert int(again.exit_code) == 0


def test_the_same_file_twice_in_one_run_is_read_once(tmp_path: Path) -> None:
    renamed = tmp_path / "copy of export.csv"
    shutil.copy(TMALL, renamed)
    report = ingest([TMALL, renamed], tmp_path / "out")
    assert report.manifest is not None
    assert [Path(i["path"]).name for i in report.manifest["inputs"]] == [TMALL.name]
    (skipped,) = report.skipped
    assert Path(skipped["path"]) == renamed
    assert skipped["reason"] == f"already ingested in this run (as {TMALL})"


def test_a_file_the_size_of_one_ingested_before_is_told_by_its_content(
        tmp_path: Path) -> None:
    # New files are hashed beside the work on them; one whose size the ledger knows is
    # hashed first, and only its content decides whether it was ingested before.
    first = export(tmp_path / "a.csv", [("3700000000000000001", 1, "等待买家付款")])
    second = export(tmp_path / "b.csv", [("3700000000000000009", 1, "等待买家付款")])
    assert first.stat().st_size == second.stat().st_size
    one = ingest([first], tmp_path / "out")
    two = ingest([second], tmp_path / "out")
    assert one.manifest is not None and two.manifest is not None
    assert not two.skipped and two.manifest["totals"]["clean"] == 2
    again = ingest([second], tmp_path / "out")
    assert again.manifest is None and len(again.skipped) == 1


def test_force_reads_again_but_outputs_nothing_twice(tmp_path: Path) -> None:
    ingest([TMALL], tmp_path / "out")
    forced = ingest([TMALL], tmp_path / "out", force=True)
    assert forced.manifest is not None
    (entry,) = forced.manifest["inputs"]
    assert (entry["clean"], entry["duplicates"], entry["rejected"]) == (0, 8, 6)
    assert entry["rows_in"] == entry["clean"] + entry["rejected"] + entry["duplicates"]


def test_overlapping_exports_output_each_line_once_and_changes_as_updates(
        tmp_path: Path) -> None:
    day1_3 = export(tmp_path / "day1-3.csv", [
        ("3700000000000000001", 1, "买家已付款，等待卖家发货"),
        ("3700000000000000002", 2, "买家已付款，等待卖家发货"),
        ("3700000000000000003", 3, "等待买家付款"),
    ])
    day2_4 = export(tmp_path / "day2-4.csv", [
        ("3700000000000000002", 2, "卖家已发货，等待买家确认"),  # shipped since
        ("3700000000000000003", 3, "等待买家付款"),  # unchanged
        ("3700000000000000004", 4, "买家已付款，等待卖家发货"),  # new
    ])
    first = ingest([day1_3], tmp_path / "out")
    second = ingest([day2_4], tmp_path / "out")
    lines1, lines2 = orders_of(first.batch_dir), orders_of(second.batch_dir)
    assert lines1["change_type"].unique().to_list() == ["new"] and lines1.height == 6
    assert second.manifest is not None
    (entry,) = second.manifest["inputs"]
    assert (entry["rows_in"], entry["clean"], entry["duplicates"], entry["updates"]) == (
        6, 4, 2, 2)
    updates = lines2.filter(pl.col("change_type") == "update")
    assert updates["order_id"].unique().to_list() == ["3700000000000000002"]
    assert updates["order_status"].unique().to_list() == ["shipped"]
    assert updates["changed_fields"].unique().to_list() == ["order_status"]
    new = lines2.filter(pl.col("change_type") == "new")
    assert new["order_id"].unique().to_list() == ["3700000000000000004"]
    # Across both batches, each line's latest state is there and no line is new twice.
    both = pl.concat([lines1, lines2])
    firsts = both.filter(pl.col("change_type") == "new").group_by("order_id", "line_no").len()
    assert firsts["len"].max() == 1 and firsts.height == 8


def test_overlapping_exports_in_one_run(tmp_path: Path) -> None:
    a = export(tmp_path / "a.csv", [("3700000000000000009", 5, "等待买家付款")])
    b = export(tmp_path / "b.csv", [("3700000000000000009", 5, "等待买家付款"),
                                    ("3700000000000000010", 6, "交易成功")])
    report = ingest([a, b], tmp_path / "out")
    assert report.manifest is not None
    totals = report.manifest["totals"]
    assert (totals["rows_in"], totals["clean"], totals["duplicates"]) == (6, 4, 2)


def test_an_identical_line_twice_in_one_file_is_one_line(tmp_path: Path) -> None:
    text = TMALL.read_bytes().decode("gb18030").splitlines(keepends=True)
    # Rows 3-4 of the sample are one order of two lines; repeat row 5 (a one-line order):
    # as a line of the same order it becomes line 2, so append the whole order again.
    doubled = tmp_path / "doubled.csv"
    doubled.write_bytes("".join(text[:5] + text[4:5] + text[5:]).encode("gb18030"))
    report = ingest([doubled], tmp_path / "out")
    assert report.manifest is not None
    (entry,) = report.manifest["inputs"]
    assert entry["rows_in"] == 15
    assert entry["rows_in"] == entry["clean"] + entry["rejected"] + entry["duplicates"]


def test_the_same_purchase_order_through_two_channels_is_flagged(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for channel, marker in (("email-po", "邮件订单"), ("fax-po", "传真订单")):
        text = (MAPPINGS / "tmall.toml").read_text(encoding="utf-8")
        text = text.replace('channel = "tmall"', f'channel = "{channel}"')
        text = text.replace('header_contains = ["订单编号",',
                            f'header_contains = ["{marker}", "订单编号",')
        text += '\n[orders]\nkey_scope = "customer-po"\n'
        (mappings / f"{channel}.toml").write_text(text, encoding="utf-8")

    def po_file(name: str, marker: str) -> Path:
        path = export(tmp_path / name, [("4500012345", 7, "买家已付款，等待卖家发货")])
        lines = path.read_bytes().decode("gb18030").splitlines(keepends=True)
        lines[0] = marker + "," + lines[0]
        lines[1:] = ["," + line for line in lines[1:]]
        path.write_bytes("".join(lines).encode("gb18030"))
        return path

    by_mail = ingest([po_file("mail.csv", "邮件订单")], tmp_path / "out",
                     mappings_dir=mappings)
    by_fax = ingest([po_file("fax.csv", "传真订单")], tmp_path / "out", mappings_dir=mappings)
    assert by_mail.manifest is not None and by_fax.manifest is not None
    assert by_mail.manifest["inputs"][0]["channel"] == "email-po"
    assert by_fax.manifest["inputs"][0]["channel"] == "fax-po"
    assert by_fax.manifest["totals"]["clean"] == 0
    assert by_fax.batch_dir is not None
    rejects = pl.read_csv(by_fax.batch_dir / "rejects.csv", infer_schema=False)
    assert rejects["codes"].to_list() == ["cross-channel-duplicate"] * 2
    assert "already received through channel email-po" in rejects["messages"][0]


def test_history_stays_right_after_the_key_files_are_compacted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_module, "COMPACT_AFTER", 2)
    days = [export(tmp_path / f"day{d}.csv", [(f"37000000000000001{d:02d}", d, "等待买家付款")])
            for d in range(1, 5)]
    for day in days:
        ingest([day], tmp_path / "out")
    changed = export(tmp_path / "later.csv", [
        ("3700000000000000101", 1, "交易成功"),  # day 1's order, now completed
        ("3700000000000000104", 4, "等待买家付款"),  # unchanged
    ])
    report = ingest([changed], tmp_path / "out")
    assert report.manifest is not None
    totals = report.manifest["totals"]
    assert (totals["updates"], totals["duplicates"], totals["clean"]) == (2, 2, 2)
    keys = list((tmp_path / "state" / "keys").glob("*.parquet"))
    assert len(keys) <= 3  # merged: the history a run scans stays a few files
