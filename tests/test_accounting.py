"""The accounting rule, as a property: whatever mix of good and bad rows a file holds,
rows_in = clean + rejected + duplicates, no row is in two of them, and none is lost."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.api import ingest

HEADER = ["订单编号", "买家会员名", "订单状态", "订单创建时间", "订单付款时间", "宝贝标题",
          "商家编码", "价格", "购买数量", "优惠金额", "实付金额", "收货人姓名", "收货地址",
          "联系手机", "买家留言"]

GOOD = {
    "订单编号": st.from_regex(r"=\"[0-9]{18,19}\"", fullmatch=True),
    "订单状态": st.sampled_from(["交易成功", "等待买家付款", "卖家已发货，等待买家确认"]),
    "订单创建时间": st.just("2024-11-11 10:00:00"),
    "价格": st.sampled_from(["¥1,299.00", "12.50", "０.９９", "100"]),
    "购买数量": st.sampled_from(["1", "2", "3"]),
    "联系手机": st.sampled_from(["'13812345678", "+86 139 1234 5678", ""]),
}
BAD = {
    "订单编号": st.just(""),
    "订单状态": st.sampled_from(["待处理", "???"]),
    "订单创建时间": st.sampled_from(["2024-13-01 00:00:00", "yesterday", ""]),
    "价格": st.sampled_from(["价格待定", "12.3.4", "-5", ""]),
    "购买数量": st.sampled_from(["0", "-1", "2.5", "many"]),
    "联系手机": st.sampled_from(["138****5678", "12"]),
    "实付金额": st.just("99999.99"),
}
TEXT = st.text(alphabet=st.characters(codec="gb18030", exclude_categories=("Cs", "Cc")),
               max_size=12)


@st.composite
def rows(draw: st.DrawFn) -> list[str]:
    row = {name: draw(TEXT) for name in HEADER}
    row["订单付款时间"] = ""
    row["优惠金额"] = ""
    row["实付金额"] = ""
    row["收货地址"] = "浙江省 杭州市 西湖区 文三路100号(310012)"
    for name, strategy in GOOD.items():
        row[name] = draw(strategy)
    for name in draw(st.sets(st.sampled_from(sorted(BAD)), max_size=3)):
        row[name] = draw(BAD[name])
    if draw(st.booleans()):
        row["买家留言"] = "第一行\n第二行, \"引号\""
    values = [row[name] for name in HEADER]
    shape = draw(st.sampled_from(["ok"] * 8 + ["extra", "short"]))
    if shape == "extra":
        values.append("surplus")
    elif shape == "short":
        values = values[: draw(st.integers(2, len(HEADER) - 1))]
    return values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(rows(), min_size=0, max_size=25), encoding=st.sampled_from(
    ["utf-8", "utf-8-sig", "gb18030"]))
def test_every_row_is_clean_or_rejected_never_both(body: list[list[str]], encoding: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(body)
        source = Path(tmp) / "export.csv"
        source.write_bytes(buffer.getvalue().encode(encoding))
        report = ingest([source], Path(tmp) / "out", state_dir=Path(tmp) / "state")
        manifest = report.manifest
        assert manifest is not None and report.batch_dir is not None
        (entry,) = manifest["inputs"]
        # A row of nothing but empty cells is a blank row: counted apart, as layout.
        blank = sum(1 for row in body if not any(cell.strip() for cell in row))
        assert entry["layout_rows"]["blank"] == blank
        assert entry["rows_in"] == len(body) - blank
        assert entry["rows_in"] == entry["clean"] + entry["rejected"] + entry["duplicates"]
        orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
        rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
        clean_rows = set(orders["source_row"].cast(pl.Int64).to_list())
        rejected_rows = set(rejects["source_row"].cast(pl.Int64).to_list())
        assert not clean_rows & rejected_rows
        # Header on row 1: the data rows are 2..n+1; each is clean, rejected or a duplicate
        # of an identical line before it (counted, not output).
        assert clean_rows | rejected_rows <= set(range(2, len(body) + 2))
        assert len(clean_rows | rejected_rows) + entry["duplicates"] == entry["rows_in"]
        assert json.loads((report.batch_dir / "manifest.json").read_text())["totals"][
            "rows_in"] == entry["rows_in"]
