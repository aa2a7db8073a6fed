# ruff: noqa: E501  (the rules are written as a rule file is)
"""Benchmark: what 20 order rules add to `ordermill ingest` of 1,000,000 Tmall lines.

The same file is ingested with and without rules in one run, taking turns (without, with,
without, with, ...), each into a fresh state and out folder; the ratio of the medians is
the cost of the rules (target: at most 1.20). The 20 rules mix every action and scope and
read all three reference tables (3,000 SKUs of stock and products, 50,000 customers of
credit). Writes a section to bench/RESULTS.md.

    .venv/bin/python bench/rules.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
ORDERMILL = str(Path(PYTHON).parent / "ordermill")

RULES = """
[[rule]]
name = "out-of-stock"
when = "stock.available <= 0"
action = "reject"
message = "no stock for {sku}"

[[rule]]
name = "inactive-product"
when = "product.active == false"
action = "reject"

[[rule]]
name = "credit-low"
when = "credit.limit - credit.used < 0.05 * credit.limit"
scope = "order-any"
action = "hold"
approver = "sales-manager"

[[rule]]
name = "big-order"
when = "sum(quantity) >= 40"
scope = "order-any"
action = "hold"
approver = "ops-lead"

[[rule]]
name = "urgent-fj"
when = "starts_with(sku, \\"SKU-1\\") and days_until(requested_delivery_date) <= 3"
action = "flag"
flag = "urgent"

[[rule]]
name = "bom-check"
when = "n_distinct(sku) >= 5"
scope = "order-any"
action = "flag"
flag = "bom-check"

[[rule]]
name = "gsp"
when = "contains(buyer_message, \\"GSP\\")"
scope = "order-any"
action = "flag"
flag = "compliance"

[[rule]]
name = "friday"
when = "contains(buyer_message, \\"周五\\")"
action = "flag"
flag = "deadline"

[[rule]]
name = "gift-box"
when = "contains(product_name, \\"礼盒\\")"
action = "flag"
flag = "gift"

[[rule]]
name = "big-line"
when = "quantity * unit_price > 500"
action = "flag"
flag = "big-line"

[[rule]]
name = "discounted"
when = "discount_amount > 0"
action = "flag"
flag = "discounted"

[[rule]]
name = "all-paid"
when = "paid_at != null"
scope = "order-all"
action = "flag"
flag = "paid"

[[rule]]
name = "customs"
when = "ship_country != \\"CN\\" and not matches(coalesce(hs_code, product.hs_code), \\"^[0-9]{6,10}$\\")"
action = "reject"

[[rule]]
name = "route-zj"
when = "ship_province in [\\"浙江省\\", \\"江苏省\\", \\"上海市\\"]"
action = "set"
set = { warehouse = "WH-HANGZHOU" }

[[rule]]
name = "route-south"
when = "ship_province in [\\"广东省\\", \\"广西壮族自治区\\", \\"海南省\\"]"
action = "set"
set = { warehouse = "WH-GUANGZHOU" }

[[rule]]
name = "route-sku"
when = "ends_with(sku, \\"7\\")"
action = "set"
set = { warehouse = "WH-SPECIAL" }
stop = true

[[rule]]
name = "priority-channel"
when = "channel == \\"tmall\\""
action = "set"
set = { priority = "normal" }

[[rule]]
name = "priority-vip"
when = "starts_with(buyer_id, \\"buyer_1\\")"
action = "set"
set = { priority = "high" }

[[rule]]
name = "long-address"
when = "len(ship_address) > 40"
action = "flag"
flag = "check-address"

[[rule]]
name = "many-lines"
when = "lines() >= 3"
scope = "order-any"
action = "flag"
flag = "multi"
"""


def reference(folder: Path) -> None:
    skus = [f"SKU-{i}" for i in range(3000)]
    pl.DataFrame({"sku": skus, "available": [str(0 if i % 500 == 0 else 50) for i in
                                              range(3000)]}).write_csv(folder / "stock.csv")
    pl.DataFrame({"sku": skus, "hs_code": ["0902109000"] * 3000, "origin": ["CN"] * 3000,
                  "active": ["true"] * 3000}).write_parquet(folder / "products.parquet")
    pl.DataFrame({"customer": [f"buyer_{i}" for i in range(50000)],
                  "limit": ["10000.00"] * 50000,
                  "used": ["9990.00" if i % 1000 == 0 else "100.00" for i in range(50000)]}
                 ).write_csv(folder / "credit.csv")
    (folder / "rules.toml").write_text(RULES, encoding="utf-8")
    (folder / "with.toml").write_text(
        'rules = ["rules.toml"]\n[reference.stock]\npath = "stock.csv"\n'
        '[reference.credit]\npath = "credit.csv"\n[reference.product]\n'
        'path = "products.parquet"\n', encoding="utf-8")
    (folder / "without.toml").write_text("", encoding="utf-8")


def once(data: Path, folder: Path, config: str) -> float:
    out, state = folder / "out", folder / "state"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run([ORDERMILL, "ingest", str(data), "--format", "parquet", "--out",
                           str(out), "--state-dir", str(state), "--config",
                           str(folder / config)], capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"ordermill failed ({done.returncode}): {done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = HERE / "data" / f"tmall-{args.rows}.csv"
    if not data.is_file():
        data.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([PYTHON, str(HERE / "generate.py"), str(args.rows), str(data)],
                       check=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        reference(folder)
        without, with_rules = [], []
        for _ in range(args.runs):
            without.append(once(data, folder, "without.toml"))
            with_rules.append(once(data, folder, "with.toml"))
    base, ruled = statistics.median(without), statistics.median(with_rules)
    ratio = ruled / base
    print(f"ingest {args.rows:,} lines: without rules {base:.2f} s, with 20 rules "
          f"{ruled:.2f} s, ratio {ratio:.3f} (target <= 1.20); runs {without} / {with_rules}")
    section = (f"\n## rules-1m: 20 order rules on {args.rows:,} lines (`bench/rules.py`)\n\n"
               f"| ingest | median of {args.runs} | runs (s) |\n| --- | --- | --- |\n"
               f"| without rules | {base:.2f} s | {', '.join(f'{t:.2f}' for t in without)} |\n"
               f"| with 20 rules | {ruled:.2f} s | "
               f"{', '.join(f'{t:.2f}' for t in with_rules)} |\n\n"
               f"Ratio with / without: **{ratio:.3f}** (target: at most 1.20).\n")
    results = HERE / "RESULTS.md"
    text = results.read_text(encoding="utf-8")
    marker = "\n## rules-1m:"
    if marker in text:
        text = text[:text.index(marker)]
    results.write_text(text.rstrip("\n") + "\n" + section, encoding="utf-8")


if __name__ == "__main__":
    main()
