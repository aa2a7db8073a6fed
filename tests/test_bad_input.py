"""Damaged inputs end to end: each gets a clear result, no traceback, and no row is lost."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.api import ingest

HEADER = "订单编号,买家会员名,订单状态,订单创建时间,宝贝标题,购买数量,价格\n"
GOOD = '="3712345678901234567",小王,交易成功,2024-11-11 10:00:00,龙井,1,12.00\n'


def run(tmp_path: Path, text: str, encoding: str = "utf-8") -> tuple[dict, pl.DataFrame]:
    source = tmp_path / "export.csv"
    source.write_bytes(text.encode(encoding))
    report = ingest([source], tmp_path / "out")
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    return report.manifest, rejects


def test_header_only_file_is_a_clean_empty_batch(tmp_path: Path) -> None:
    manifest, rejects = run(tmp_path, HEADER)
    assert manifest["inputs"][0]["rows_in"] == 0
    assert manifest["totals"]["unreadable"] == 0 and rejects.height == 0


def test_nul_byte_in_a_row_rejects_that_row_only(tmp_path: Path) -> None:
    bad = GOOD.replace("龙井", "龙\x00井").replace("4567", "4568")
    manifest, rejects = run(tmp_path, HEADER + GOOD + bad)
    entry = manifest["inputs"][0]
    assert (entry["rows_in"], entry["clean"], entry["rejected"]) == (2, 1, 1)
    assert rejects["codes"].to_list() == ["nul-byte"]
    assert rejects["source_row"].to_list() == ["3"]


def test_truncated_last_line_is_rejected_and_kept(tmp_path: Path) -> None:
    cut = '="3712345678901234999",小王,交易成功,2024-11-11 10:00:00,"龙井 明前'
    manifest, rejects = run(tmp_path, HEADER + GOOD + cut)
    entry = manifest["inputs"][0]
    assert (entry["rows_in"], entry["clean"], entry["rejected"]) == (2, 1, 1)
    assert rejects["codes"].to_list() == ["truncated-row"]
    assert "the file ends inside this row" in rejects["messages"][0]
    # The raw text of the broken row is kept for the analyst.
    assert "龙井 明前" in rejects["订单编号"][0]


def test_rows_with_too_many_or_too_few_fields_are_rejected(tmp_path: Path) -> None:
    extra = GOOD.replace("\n", ",surplus\n").replace("4567", "4501")
    short = '="3712345678901234502",小王,交易成功\n'
    manifest, rejects = run(tmp_path, HEADER + GOOD + extra + short)
    entry = manifest["inputs"][0]
    assert (entry["rows_in"], entry["clean"], entry["rejected"]) == (3, 1, 2)
    by_row = dict(zip(rejects["source_row"], rejects["codes"], strict=True))
    assert by_row["3"] == "too-many-fields"
    assert by_row["4"].startswith("too-few-fields")
    assert "8 fields, the header has 7" in rejects["messages"][0]


def test_blank_lines_and_junk_above_are_counted_not_lost(tmp_path: Path) -> None:
    text = "订单导出 2024-11-12\n\n" + HEADER + GOOD + "\n" + GOOD.replace("4567", "4500")
    manifest, _ = run(tmp_path, text)
    entry = manifest["inputs"][0]
    assert entry["header_row"] == 3
    assert entry["layout_rows"] == {"blank": 1, "footer": 0, "above_header": 2}
    assert (entry["rows_in"], entry["clean"]) == (2, 2)


def test_gb18030_export_with_yen_sign(tmp_path: Path) -> None:
    manifest, _ = run(tmp_path, HEADER + GOOD.replace("12.00", '"¥1,299.00"'), "gb18030")
    entry = manifest["inputs"][0]
    assert entry["encoding"] == "gb18030" and entry["clean"] == 1
