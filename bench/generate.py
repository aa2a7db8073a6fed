"""Deterministic Tmall-style export data for benchmarks: N lines, ~2 % bad rows of varied
kinds, buyer messages with embedded newlines. Built with polars expressions, so a million
rows take seconds.

    .venv/bin/python bench/generate.py 1000000 bench/data/tmall-1m.csv [--encoding gb18030]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

HEADER = ["订单编号", "子订单编号", "买家会员名", "买家支付宝账号", "订单状态", "订单创建时间",
          "订单付款时间", "宝贝标题", "商家编码", "商品属性", "价格", "购买数量", "优惠金额",
          "实付金额", "收货人姓名", "收货地址", "联系手机", "买家留言", "赠品编码", "物流公司",
          "物流单号", "店铺名称", "订单备注"]
STATUSES = ["交易成功", "买家已付款，等待卖家发货", "卖家已发货，等待买家确认", "等待买家付款",
            "交易关闭"]


def frame(n: int, seed: int = 7) -> pl.DataFrame:
    i = pl.int_range(0, n, dtype=pl.Int64)
    order = 3712345678900000000 + i // 2  # two lines per order
    qty = (i % 3) + 1
    cents = 990 + (i * 7919) % 150000
    discount = pl.when(i % 5 == 0).then(100).otherwise(0)
    total = qty * cents - discount
    money = lambda c: pl.format("{}.{}", c // 100, (c % 100).cast(pl.String).str.zfill(2))  # noqa: E731
    minute = (i * 37) % 1440
    created = pl.format("2024-11-{} {}:{}:{}", ((i % 28) + 1).cast(pl.String).str.zfill(2),
                        (minute // 60).cast(pl.String).str.zfill(2),
                        (minute % 60).cast(pl.String).str.zfill(2),
                        (i % 60).cast(pl.String).str.zfill(2))
    df = pl.select(
        pl.format('="{}"', order).alias("订单编号"),
        pl.format('="{}"', order * 10 + i % 2).alias("子订单编号"),
        pl.format("buyer_{}", i % 50000).alias("买家会员名"),
        pl.format("buyer{}@example.cn", i % 50000).alias("买家支付宝账号"),
        pl.lit(pl.Series(STATUSES)).gather(i % len(STATUSES)).alias("订单状态"),
        created.alias("订单创建时间"),
        created.alias("订单付款时间"),
        pl.format("山河 明前龙井 {}g 礼盒装", (i % 9 + 1) * 50).alias("宝贝标题"),
        pl.format("SKU-{}", i % 3000).alias("商家编码"),
        pl.lit("净含量:250g;包装:礼盒").alias("商品属性"),
        pl.when(i % 11 == 0).then(pl.format("¥{}", money(cents))).otherwise(money(cents))
        .alias("价格"),
        qty.cast(pl.String).alias("购买数量"),
        money(discount).alias("优惠金额"),
        money(total).alias("实付金额"),
        pl.lit("王小明").alias("收货人姓名"),
        pl.lit("浙江省 杭州市 西湖区 文三路100号华星大厦5楼(310012)").alias("收货地址"),
        pl.format("'138{}", (10000000 + i % 89999999).cast(pl.String)).alias("联系手机"),
        pl.when(i % 13 == 0).then(pl.lit("请周五前发货\n谢谢")).otherwise(pl.lit(""))
        .alias("买家留言"),
        pl.lit("").alias("赠品编码"),
        pl.lit("顺丰速运").alias("物流公司"),
        pl.format('="SF{}"', 1000000000 + i).alias("物流单号"),
        pl.lit("山河旗舰店").alias("店铺名称"),
        pl.lit("").alias("订单备注"),
    )
    # ~2 % bad rows, of varied kinds.
    bad = (i * 2654435761 + seed) % 100
    return df.with_columns(
        pl.when(bad == 0).then(pl.lit("2024-11-31 10:00:00")).otherwise(pl.col("订单创建时间"))
        .alias("订单创建时间"),
        pl.when(bad == 1).then(pl.lit("价格待定")).otherwise(pl.col("价格")).alias("价格"),
    )


def write_xlsx(data: pl.DataFrame, target: Path) -> None:
    """One sheet as a person's Excel would hold it: numbers as numbers, IDs as text."""
    import openpyxl

    numeric = {"购买数量"}
    # In a workbook IDs are text cells; the CSV guard ="…" would be a formula without a value.
    data = data.with_columns(pl.col(pl.String).str.replace(r'^="(.*)"$', "$1"))
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("订单")
    sheet.append(list(data.columns))
    for row in data.iter_rows():
        sheet.append([int(v) if name in numeric and v and v.isdigit() else v
                      for name, v in zip(data.columns, row, strict=True)])
    workbook.save(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", type=int)
    parser.add_argument("target", type=Path)
    parser.add_argument("--encoding", default="utf-8")
    args = parser.parse_args()
    args.target.parent.mkdir(parents=True, exist_ok=True)
    data = frame(args.rows)
    if args.target.suffix == ".xlsx":
        write_xlsx(data, args.target)
    elif args.encoding == "utf-8":
        data.write_csv(args.target)
    else:
        args.target.write_bytes(data.write_csv().encode(args.encoding))


if __name__ == "__main__":
    main()
