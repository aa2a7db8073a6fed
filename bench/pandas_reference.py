"""What a user would write instead of ordermill: pandas + pandera (pandas backend), for the
Tmall export of bench/generate.py. Same reading, mapping, checks and valid/invalid split as
ordermill's tmall mapping, written the idiomatic pandas way, so the benchmark compares like
with like. It must give the same clean and rejected counts (bench/run.py checks).

    .venv/bin/python bench/pandas_reference.py EXPORT.csv OUT_DIR [--encoding gb18030]
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

STATUS = {
    "等待买家付款": "pending_payment", "买家已付款，等待卖家发货": "paid",
    "卖家已发货，等待买家确认": "shipped", "交易成功": "completed", "交易关闭": "cancelled",
    "退款成功": "refunded",
}
MONEY = r"^[+-]?(?:\d+(?:\.\d{0,2})?|\.\d{1,2})$"


def clean(column: pd.Series) -> pd.Series:
    text = column.str.strip().str.replace(r'^="(.*)"$', r"\1", regex=True)
    text = text.str.removeprefix("'").str.strip()
    return text.mask(text == "")


def money(text: pd.Series) -> pd.Series:
    plain = text.str.replace(r"[¥￥,\s]", "", regex=True)
    ok = plain.str.fullmatch(MONEY).fillna(False).astype(bool)
    return plain.where(ok).map(lambda v: Decimal(v).quantize(Decimal("0.01"))
                               if isinstance(v, str) else None)


def instant(text: pd.Series) -> pd.Series:
    local = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    return local.dt.tz_localize("Asia/Shanghai", nonexistent="NaT",
                                ambiguous="NaT").dt.tz_convert("UTC")


def phone(text: pd.Series) -> pd.Series:
    plain = text.str.replace(r"[\s\-().]", "", regex=True)
    plain = plain.str.replace(r"^(\+86|0086)", "", regex=True)
    e164 = ("+86" + plain).where(plain.str.fullmatch(r"1[3-9]\d{9}").fillna(False).astype(bool))
    return e164


def build(raw: pd.DataFrame) -> pd.DataFrame:
    c = {name: clean(raw[name]) for name in raw.columns}
    address = c["收货地址"].str.split(" ", n=3, expand=True)
    frame = pd.DataFrame({
        "order_id": c["订单编号"],
        "ordered_at_raw": c["订单创建时间"], "ordered_at": instant(c["订单创建时间"]),
        "paid_at_raw": c["订单付款时间"], "paid_at": instant(c["订单付款时间"]),
        "status_raw": c["订单状态"], "order_status": c["订单状态"].map(STATUS),
        "currency": "CNY", "buyer_id": c["买家会员名"], "ship_name": c["收货人姓名"],
        "phone_raw": c["联系手机"], "ship_phone": phone(c["联系手机"]), "ship_country": "CN",
        "ship_province": address[0], "ship_city": address[1], "ship_district": address[2],
        "ship_address": address[3].str.replace(r"\s*[(（]\d{6}[)）]\s*$", "", regex=True),
        "ship_postcode": c["收货地址"].str.extract(r"[(（](\d{6})[)）]\s*$")[0],
        "sku": c["商家编码"], "product_name": c["宝贝标题"], "variant": c["商品属性"],
        "quantity_raw": c["购买数量"],
        "quantity": pd.to_numeric(c["购买数量"], errors="coerce").astype("Int64"),
        "price_raw": c["价格"], "unit_price": money(c["价格"]),
        "discount_raw": c["优惠金额"], "discount_amount": money(c["优惠金额"]),
        "total_raw": c["实付金额"], "line_total": money(c["实付金额"]),
        "buyer_message": c["买家留言"], "promotion_id": c["赠品编码"],
    })
    frame["discount_amount"] = frame["discount_amount"].map(
        lambda v: Decimal("0.00") if v is None or pd.isna(v) else v)
    frame["line_no"] = frame.groupby("order_id", dropna=False).cumcount() + 1
    return frame


def parsed_when_present(raw: str, typed: str) -> pa.Check:
    return pa.Check(lambda df: df[raw].isna() | df[typed].notna(), name=f"{typed}-parses")


SCHEMA = pa.DataFrameSchema(
    {
        "order_id": pa.Column(str, nullable=False),
        "ordered_at": pa.Column(nullable=False),
        "order_status": pa.Column(str, pa.Check.isin(list(STATUS.values())), nullable=False),
        "quantity": pa.Column("Int64", pa.Check.gt(0), nullable=False),
        "unit_price": pa.Column(object, pa.Check(lambda s: s.map(
            lambda v: v is not None and v >= 0)), nullable=False),
    },
    checks=[
        parsed_when_present("paid_at_raw", "paid_at"),
        parsed_when_present("phone_raw", "ship_phone"),
        pa.Check(lambda df: df["quantity_raw"].str.fullmatch(r"\d+").fillna(True),
                 name="quantity-whole"),
        pa.Check(lambda df: pd.Series([
            t is None or q is pd.NA or p is None or t == q * p - d
            for t, q, p, d in zip(df["line_total"], df["quantity"], df["unit_price"],
                                  df["discount_amount"], strict=True)], index=df.index),
            name="total-matches"),
    ],
    strict=False,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--encoding", default="utf-8")
    args = parser.parse_args()
    raw = pd.read_csv(args.source, dtype=str, keep_default_na=False, encoding=args.encoding)
    frame = build(raw)
    try:
        SCHEMA.validate(frame, lazy=True)
        bad_rows: set[int] = set()
    except pa.errors.SchemaErrors as errors:
        bad_rows = {int(i) for i in errors.failure_cases["index"].dropna()}
    bad = frame.index.isin(list(bad_rows))
    # Hold back whole orders with a rejected line, as ordermill does.
    held = frame["order_id"].isin(frame.loc[bad, "order_id"].dropna()) & ~bad
    rejected = bad | held
    args.out.mkdir(parents=True, exist_ok=True)
    clean_rows = frame.loc[~rejected].drop(columns=[c for c in frame if c.endswith("_raw")])
    clean_rows.to_parquet(args.out / "orders.parquet")
    raw.loc[rejected].to_csv(args.out / "rejects.csv", index=False)
    counts = {"rows_in": len(frame), "clean": int((~rejected).sum()),
              "rejected": int(rejected.sum())}
    (args.out / "counts.json").write_text(json.dumps(counts), encoding="utf-8")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
