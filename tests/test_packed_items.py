"""``[orders] packed_items``: one row per order, items packed into cells of their own
(WebToffee's ``line_item_N``). Each non-empty cell is one line, numbered within its row;
a cell that does not split unambiguously rejects its line, never drops it; every line is
accounted for, and the order rows are named under ``layout_rows``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl

from ingest.api import ingest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "woocommerce" / "order_export_2024-11-12-10-32-15.csv"


def _header() -> list[str]:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def _order(number: str, items: list[str], total: str, **cells: str) -> dict[str, str]:
    return {"order_id": number, "order_number": number, "order_date": "2024-11-05 14:22:31",
            "status": "completed", "order_currency": "EUR", "shipping_total": "0.00",
            "tax_total": "0.00", "order_total": total,
            **{f"line_item_{n}": cell for n, cell in enumerate(items, start=1)}, **cells}


def _item(name: str, sku: str, qty: str, total: str) -> str:
    return f"name:{name}|product_id:1|sku:{sku}|quantity:{qty}|total:{total}|sub_total:{total}"


def _ingest(tmp_path: Path, rows: list[dict[str, str]]) -> tuple[dict[str, object],
                                                                  pl.DataFrame, pl.DataFrame]:
    header = _header()
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[row.get(h, "") for h in header] for row in rows])
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "order_export.csv"
    source.write_text(buffer.getvalue(), encoding="utf-8")
    report = ingest([source], tmp_path / "out", state_dir=tmp_path / "state")
    assert report.batch_dir is not None
    manifest = json.loads((report.batch_dir / "manifest.json").read_text(encoding="utf-8"))
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    return manifest["inputs"][0], orders, rejects


def test_each_packed_cell_is_a_line_of_its_row(tmp_path: Path) -> None:
    entry, orders, rejects = _ingest(tmp_path, [
        _order("1", [_item("Mug", "M-1", "2", "20.00"), _item("Plate", "P-1", "1", "9.00")],
               "29.00"),
        # an empty cell between two items is no line; line_no is the cell's column
        _order("2", [_item("Tee: Sencha", "S-1", "1", "5.00"), "",
                     _item("Cup", "C-1", "3", "6.00") + "|pa_color:blue|_reduced_stock:3"],
               "11.00"),
    ])
    assert rejects.height == 0
    assert entry["mapping"] == "woocommerce-webtoffee"
    assert (entry["rows_in"], entry["clean"]) == (4, 4)
    assert entry["layout_rows"]["packed_rows"] == 2  # type: ignore[index]
    got = orders.select("source_row", "order_id", "line_no", "sku", "product_name",
                        "quantity", "unit_price").rows()
    assert got == [("2", "1", "1", "M-1", "Mug", "2", "10.00"),
                   ("2", "1", "2", "P-1", "Plate", "1", "9.00"),
                   ("3", "2", "1", "S-1", "Tee: Sencha", "1", "5.00"),
                   ("3", "2", "3", "C-1", "Cup", "3", "2.00")]


def test_an_ambiguous_cell_rejects_its_line_and_holds_its_order(tmp_path: Path) -> None:
    entry, orders, rejects = _ingest(tmp_path, [
        _order("1", [_item("Pot | Iron", "P-1", "1", "5.00"), _item("Cup", "C-1", "1", "5.00")],
               "10.00"),
        _order("2", [_item("Set|Box: 3", "B-1", "1", "5.00")], "5.00"),  # 'Box' read as a key
        _order("3", [_item("Cup", "C-1", "1", "5.00") + "|sku:X"], "5.00"),  # sku twice
        _order("4", [], "0.00"),  # no item at all: a line without a product, rejected as one
        _order("5", [_item("Cup", "C-1", "1", "5.00")], "5.00"),
    ])
    assert entry["rows_in"] == 6
    assert entry["rows_in"] == entry["clean"] + entry["rejected"]
    assert orders["order_id"].to_list() == ["5"]
    codes = dict(zip(rejects["source_row"] + "/" + rejects["line_item.column"].fill_null(""),
                     rejects["codes"], strict=True))
    assert codes == {"2/line_item_1": "ambiguous-packed-item",
                     "2/line_item_2": "incomplete-order",
                     "3/line_item_1": "ambiguous-packed-item",
                     "4/line_item_1": "ambiguous-packed-item",
                     "5/": "missing-required;missing-product"}
    first = rejects.filter(pl.col("codes") == "ambiguous-packed-item")["messages"][0]
    assert first.startswith("line_item_1: name:Pot | Iron|")
    # Each rejected line shows its own cell only: fed back in, it is that one line again.
    held = rejects.filter(pl.col("codes") == "incomplete-order")
    assert held["line_item_1"].to_list() == [None]
    assert held["line_item_2"][0].startswith("name:Cup|")


def test_rejects_fed_back_give_the_same_lines(tmp_path: Path) -> None:
    _, _, rejects = _ingest(tmp_path / "a", [
        _order("1", [_item("Mug", "M-1", "2", "20.00"), _item("Plate", "P-1", "x", "9.00")],
               "29.00")])
    assert rejects.height == 2
    fixed = rejects.with_columns(pl.col("line_item_2").str.replace("quantity:x", "quantity:1"))
    again = tmp_path / "fixed.csv"
    fixed.write_csv(again)
    report = ingest([again], tmp_path / "out", state_dir=tmp_path / "state")
    assert report.batch_dir is not None
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    assert orders.select("order_id", "line_no", "sku").rows() == [("1", "1", "M-1"),
                                                                  ("1", "2", "P-1")]
