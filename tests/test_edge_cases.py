"""Edge cases a review found: each once lost money, a line, or the run itself."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from conftest import MAPPINGS, run_cli

from ingest.api import ingest
from ingest.mapping.loader import parse_mapping
from ingest.mapping.model import Mapping
from ingest.readers.layout import table_end
from ingest.tools.suggest import channel_name, status_of, suggest

HEADER = "No,At,Qty,Price,Off,Ship,Item\n"


def toy(orders: dict[str, object] | None = None) -> Mapping:
    return parse_mapping({
        "channel": "toy",
        "detect": {"header_contains": ["No", "Price", "Ship"]},
        "orders": orders or {},
        "parse": {"datetime_formats": ["%Y/%m/%d %H:%M"]},
        "constants": {"currency": "EUR", "order_status": "paid"},
        "fields": {"order_id": "No", "ordered_at": "At", "quantity": "Qty",
                   "unit_price": "Price", "discount_amount": "Off", "product_name": "Item",
                   "shipping_amount": "Ship"},
    }, "toy.toml")


def ingest_toy(tmp_path: Path, bodies: list[str], orders: dict[str, object] | None = None
               ) -> tuple[pl.DataFrame, pl.DataFrame, list[dict[str, object]]]:
    paths = []
    for index, body in enumerate(bodies):
        path = tmp_path / f"toy-{index}.csv"
        path.write_text(HEADER + body, encoding="utf-8")
        paths.append(path)
    report = ingest(paths, tmp_path / "out", state_dir=tmp_path / "state",
                    mappings=[toy(orders)])
    assert report.batch_dir is not None
    orders_out = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    entries: list[dict[str, object]] = report.manifest["inputs"]  # type: ignore[assignment]
    for entry in entries:
        assert entry["rows_in"] == entry["clean"] + entry["rejected"] + entry["duplicates"]
    return orders_out, rejects, entries


def test_a_discount_that_does_not_read_is_rejected_not_zero(tmp_path: Path) -> None:
    orders, rejects, _ = ingest_toy(tmp_path, ["A1,2024/11/01 10:00,2,5.00,abc,0,tea\n"
                                               "B1,2024/11/01 10:00,2,5.00,,0,cup\n"])
    assert orders.select("order_id", "discount_amount", "line_total").rows() == [
        ("B1", "0.00", "10.00")]
    assert rejects["codes"].to_list() == ["invalid-money"]
    assert "'abc'" in rejects["messages"][0]


def test_two_exports_of_one_order_with_different_shipping_in_one_run(tmp_path: Path) -> None:
    """Two versions of an order in one batch (new, then update) are not a mismatch: each
    input's lines agree among themselves. This once stopped the run as an internal error."""
    orders, rejects, _ = ingest_toy(tmp_path, ["A1,2024/11/01 10:00,1,5.00,0,3.00,tea\n",
                                               "A1,2024/11/01 10:00,1,5.00,0,4.50,tea\n"])
    assert rejects.height == 0
    assert orders.select("shipping_amount", "change_type").rows() == [
        ("3.00", "new"), ("4.50", "update")]


def test_a_later_row_without_an_item_is_a_rejected_line_not_a_summary(tmp_path: Path) -> None:
    body = ("A1,2024/11/01 10:00,,,,6.00,\n"        # the order's summary row
            "A1,,1,5.00,0,,tea\n"
            "A1,,2,2.50,0,,\n")                      # a line that lost its item
    orders = {"key": "No", "summary_when_empty": "Item", "carry_forward": ["At", "Ship"]}
    out, rejects, entries = ingest_toy(tmp_path, [body], orders)
    assert entries[0]["layout_rows"]["order_summary"] == 1  # type: ignore[index]
    assert out.height == 0  # the order is held back whole
    assert sorted(rejects["codes"]) == ["incomplete-order", "missing-product"]


def test_a_five_digit_number_in_a_csv_date_column_is_not_an_excel_serial(
        tmp_path: Path) -> None:
    out, rejects, _ = ingest_toy(tmp_path, ["A1,45612,1,5.00,0,0,tea\n"
                                            "B1,2024-11-16,1,5.00,0,0,cup\n"])
    assert out.height == 0
    assert rejects["codes"].to_list() == ["invalid-date", "invalid-date"]


def test_a_line_whose_description_starts_with_total_does_not_end_the_table() -> None:
    names = ["Item", "Description", "Qty", "Price", "Amount"]
    body = pl.DataFrame([
        ["TS-1", "Total Station TS-1", "1", "900.00", "900.00"],
        [None, "Total Station tripod", "1", "80.00", "80.00"],   # no item number, still a line
        ["Total", None, None, None, "980.00"],
    ], schema=names, orient="row")
    assert table_end(body, names, None) == (2, True)


def test_negated_statuses_are_left_for_a_person() -> None:
    assert status_of("Paid") == "paid" and status_of("Unshipped") == "paid"  # listed exactly
    assert status_of("unfulfilled") is None and status_of("Not Paid") is None
    assert status_of("未完成") is None and status_of("Incomplete") is None
    assert status_of("已发货") == "shipped"


def test_a_channel_name_is_not_an_export_date() -> None:
    assert channel_name(Path("订单导出_20241112.csv")) == "new-channel"
    assert channel_name(Path("orders-2024-11-12.csv")) == "orders"


def test_a_repeated_header_name_stays_out_of_the_signature(tmp_path: Path) -> None:
    source = tmp_path / "dup.csv"
    source.write_text("Order ID,Order ID,Created at,Quantity,Price,Product\n"
                      "A1,A1,2024-11-01 10:00:00,1,5.00,tea\n", encoding="utf-8")
    drafted = suggest(source, [])
    assert drafted.signature and not any("(2)" in name for name in drafted.signature)


def test_check_refuses_a_draft_that_reuses_a_channel_name(tmp_path: Path) -> None:
    draft = tmp_path / "copy.toml"
    draft.write_text((MAPPINGS / "tmall.toml").read_text(encoding="utf-8"), encoding="utf-8")
    result = run_cli("mappings", "check", str(draft), "--mappings", str(MAPPINGS))
    assert result.returncode == 2
    assert "channel 'tmall', layout 'default' is also read by" in result.stderr


def test_list_of_a_missing_mappings_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("mappings", "list", "--mappings", str(tmp_path / "nope"))
    assert result.returncode == 2 and "no such mappings directory" in result.stderr


def test_summed_amounts_leave_the_rows_own_values_in_the_rejects(tmp_path: Path) -> None:
    """The order's shipping is the sum of its lines' (Amazon); the rejects report shows what
    each row said, so feeding it back in does not sum a sum."""
    body = ("A1,2024/11/01 10:00,1,5.00,0,0.10,tea\n"
            "A1,2024/11/01 10:00,x,5.00,0,0.20,cup\n")
    out, rejects, _ = ingest_toy(tmp_path, [body], {"key": "No", "sum": ["Ship"]})
    assert out.height == 0
    assert sorted(rejects["Ship"].to_list()) == ["0.10", "0.20"]
    assert sorted(rejects["codes"]) == ["incomplete-order", "invalid-quantity"]


def test_a_national_phone_of_another_country_is_not_read_as_the_default_regions() -> None:
    from ingest.mapping.parsers import parse_phone

    frame = pl.DataFrame({"phone": ["0664 1234567", "0171 2345678", "0171 2345678",
                                    "+43 664 1234567"],
                          "country": ["AT", "DE", None, "AT"]})
    parsed = frame.select(parse_phone(pl.col("phone"), "DE", pl.col("country"))).to_series()
    assert parsed.to_list() == [None, "+491712345678", "+491712345678", "+436641234567"]


def test_a_unit_in_brackets_does_not_hide_a_known_column_name() -> None:
    from ingest.tools.names import name_matches, normalise

    assert normalise("单价(元)") == normalise("单价") and normalise("邮费（元）") == "邮费"
    assert normalise("Order ID (2)") != normalise("Order ID")  # a numbered repeat stays apart
    assert name_matches("单价(元)")[0].field == "unit_price"


def test_a_shared_prefix_does_not_make_two_names_alike() -> None:
    from ingest.tools.names import name_matches

    assert all(m.field != "ship_district" for m in name_matches("Shipping Street"))
    assert all(m.field != "ship_country" for m in name_matches("Shipping Company"))
    assert name_matches("Ship To Address 1")[0].field == "ship_address"
