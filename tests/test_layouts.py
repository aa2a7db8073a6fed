"""Several layouts per channel, header names as real files write them, and --channel forcing.

Real files throughout: the bundled samples, rewritten where a test needs another header, and
mapping files written beside copies of the bundled ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, ROOT, SAMPLES, run_cli
from golden import GOLDEN

from ingest.api import ingest
from ingest.errors import MappingError
from ingest.mapping.loader import load_mappings
from ingest.readers.base import header_columns, normalise_name

AMAZON = SAMPLES / "amazon" / "All_Orders_20241112.txt"
SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"
# The one-file Tmall layout (a test fixture: the seller centre's real export is two files).
TMALL = ROOT / "tests" / "fixtures" / "tmall-combined.csv"

# A second layout of the amazon channel for the layout machinery's tests (its own column
# names for the same fields), tab-separated like All Orders: a test layout, priced, named
# after the Unshipped orders report. The bundled Amazon layouts beside All Orders
# (amazon-order-report, amazon-unshipped: tests/test_layouts_west.py) are left out of the
# mapping folders these tests write, so they do not compete with it.
UNSHIPPED_HEADER = ["order-id", "order-item-id", "purchase-date", "payments-date",
                    "buyer-email", "buyer-name", "sku", "product-name", "quantity-purchased",
                    "currency", "item-price", "ship-city", "ship-state", "ship-postal-code",
                    "ship-country"]
UNSHIPPED_ROWS = [
    ["111-0000001-0000001", "50001", "2024-11-10T08:00:00+00:00", "2024-11-10T08:05:00+00:00",
     "a@marketplace.amazon.com", "Ann Lee", "DW-100", "Dragon Well 100g", "2", "USD", "37.00",
     "SEATTLE", "WA", "98109", "US"],
    ["111-0000002-0000002", "50002", "2024-11-10T09:00:00+00:00", "2024-11-10T09:01:00+00:00",
     "b@marketplace.amazon.com", "Bo Chen", "GW-WHT", "Gaiwan, White", "1", "USD", "32.00",
     "BOSTON", "MA", "02108", "US"],
]
UNSHIPPED_MAPPING = """\
channel = "amazon"
layout = "unshipped"
description = "Amazon Seller Central Unshipped orders report"
[detect]
header_contains = ["order-id", "order-item-id", "purchase-date", "quantity-purchased"]
[reader]
delimiter = "\\t"
[parse]
timezone = "UTC"
datetime_formats = ["%Y-%m-%dT%H:%M:%S%z"]
[constants]
order_status = "paid"
[fields]
order_id = "order-id"
ordered_at = "purchase-date"
paid_at = "payments-date"
currency = "currency"
buyer_email = "buyer-email"
buyer_name = "buyer-name"
sku = "sku"
product_name = "product-name"
quantity = "quantity-purchased"
unit_price = { column = "item-price", per = "quantity" }
ship_city = "ship-city"
ship_province = "ship-state"
ship_postcode = "ship-postal-code"
ship_country = "ship-country"
"""


def _mappings_with(tmp_path: Path, **extra: str) -> Path:
    """A copy of the bundled mappings (All Orders the only Amazon layout) plus ``extra``
    files (stem -> TOML)."""
    directory = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, directory, ignore=shutil.ignore_patterns("__*", "amazon-*"))
    for stem, text in extra.items():
        (directory / f"{stem}.toml").write_text(text, encoding="utf-8")
    return directory


def _unshipped(tmp_path: Path, header: list[str] | None = None) -> Path:
    path = tmp_path / "Unshipped_20241112.txt"
    lines = ["\t".join(header or UNSHIPPED_HEADER), *("\t".join(r) for r in UNSHIPPED_ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _entries(report_manifest: dict[str, object] | None) -> dict[str, dict[str, object]]:
    assert report_manifest is not None
    inputs = report_manifest["inputs"]
    assert isinstance(inputs, list)
    return {Path(e["path"]).name: e for e in inputs}


# --- several layouts per channel -------------------------------------------------------


def test_two_layouts_of_one_channel_are_each_recognised(tmp_path: Path) -> None:
    directory = _mappings_with(tmp_path, **{"amazon-unshipped": UNSHIPPED_MAPPING})
    unshipped = _unshipped(tmp_path)
    report = ingest([AMAZON, unshipped], tmp_path / "out", state_dir=tmp_path / "st",
                    mappings_dir=directory)
    entries = _entries(report.manifest)
    assert entries[AMAZON.name]["channel"] == "amazon"
    assert (entries[AMAZON.name]["mapping"], entries[AMAZON.name]["layout"]) == (
        "amazon", "default")
    assert entries[unshipped.name]["channel"] == "amazon"
    assert (entries[unshipped.name]["mapping"], entries[unshipped.name]["layout"]) == (
        "amazon-unshipped", "unshipped")
    assert entries[unshipped.name]["clean"] == 2
    assert report.batch_dir is not None
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    assert set(orders["channel"]) == {"amazon"}
    mine = orders.filter(pl.col("order_id") == "111-0000001-0000001")
    assert mine["unit_price"].to_list() == ["18.50"]  # 37.00 for 2, per quantity


def test_a_layout_repeated_or_a_bad_layout_name_is_refused(tmp_path: Path) -> None:
    again = UNSHIPPED_MAPPING.replace('layout = "unshipped"', 'layout = "default"')
    directory = _mappings_with(tmp_path, **{"amazon-copy": again})
    with pytest.raises(MappingError, match="channel 'amazon', layout 'default' is also read"):
        load_mappings(directory)
    result = run_cli("mappings", "check", str(directory / "amazon-copy.toml"),
                     "--mappings", str(MAPPINGS))
    assert result.returncode == 2 and "layout 'default' is also read by" in result.stderr
    bad = _mappings_with(tmp_path / "b", **{"amazon-x": UNSHIPPED_MAPPING.replace(
        'layout = "unshipped"', 'layout = "Order Report"')})
    with pytest.raises(MappingError, match="layout: must be a short lower-case name"):
        load_mappings(bad)


def test_layouts_are_listed_and_checked_as_mappings(tmp_path: Path) -> None:
    directory = _mappings_with(tmp_path, **{"amazon-unshipped": UNSHIPPED_MAPPING})
    listed = run_cli("mappings", "list", "--mappings", str(directory), "--json")
    rows = {r["mapping"]: r for r in json.loads(listed.stdout)}
    assert rows["amazon-unshipped"]["channel"] == "amazon"
    assert rows["amazon-unshipped"]["layout"] == "unshipped"
    assert rows["amazon"]["layout"] == "default"
    checked = run_cli("mappings", "check", "--mappings", str(directory))
    assert checked.returncode == 0, checked.stderr
    assert "amazon-unshipped (amazon/unshipped)" in checked.stdout
    detected = run_cli("mappings", "detect", str(_unshipped(tmp_path)), "--mappings",
                       str(directory))
    assert "channel amazon, layout unshipped" in detected.stdout


def test_most_columns_found_wins_and_a_tie_goes_to_the_name_sorting_first(
        tmp_path: Path) -> None:
    """Two layouts whose signatures (as long) both match: the one reading more of the
    header's columns wins; read as many and the name sorting first does, whatever order
    the files were listed in."""
    narrow = UNSHIPPED_MAPPING.replace('layout = "unshipped"', 'layout = "narrow"')
    narrow = "\n".join(line for line in narrow.splitlines()
                       if not line.startswith(("ship_", "buyer_", "paid_at")))
    directory = _mappings_with(tmp_path, **{"amazon-unshipped": UNSHIPPED_MAPPING,
                                            "amazon-a-narrow": narrow})
    unshipped = _unshipped(tmp_path)
    report = ingest([unshipped], tmp_path / "out", state_dir=tmp_path / "st",
                    mappings_dir=directory)
    assert _entries(report.manifest)[unshipped.name]["mapping"] == "amazon-unshipped"

    twin = UNSHIPPED_MAPPING.replace('layout = "unshipped"', 'layout = "twin"')
    for order in (("amazon-b", "amazon-c"), ("amazon-c", "amazon-b")):
        where = tmp_path / "-".join(order)
        directory = _mappings_with(where, **{order[0]: UNSHIPPED_MAPPING, order[1]: twin})
        report = ingest([unshipped], where / "out", state_dir=where / "st",
                        mappings_dir=directory, force=True)
        assert _entries(report.manifest)[unshipped.name]["mapping"] == "amazon-b"


# --- header names as real files write them -------------------------------------------


@pytest.mark.parametrize(("written", "meant"), [
    ("商品总价（元）", "商品总价(元)"),        # full-width brackets
    ("数量１", "数量1"),                      # full-width digit
    ("收货地址 ", "收货地址"),                 # trailing space
    ("订单付款时间\u3000", "订单付款时间"),    # ideographic space
    ("\ufeff订单编号", "订单编号"),            # byte-order mark
    ("\t订单编号", "订单编号"),                # tab (an Excel guard)
    ("'订单编号", "订单编号"),                 # apostrophe guard
    ('="订单编号"', "订单编号"),               # ="…" guard
    ('\ufeff"订单编号"', "订单编号"),          # BOM before quotes left by a writer
    ("Order  ID", "order id"),                 # a run of spaces, Latin case
    ("ＯＲＤＥＲ－ＩＤ", "order-id"),           # full-width Latin
])
def test_header_names_compare_normalised(written: str, meant: str) -> None:
    assert normalise_name(written) == normalise_name(meant)


def test_the_first_of_two_names_that_compare_equal_is_the_column() -> None:
    assert header_columns(["收货地址", "收货地址 ", "x"]) == {"收货地址": "收货地址", "x": "x"}


def _rewrite_header(sample: Path, target: Path, encoding: str, rename: dict[str, str],
                    lead: str = "") -> Path:
    text = sample.read_bytes().decode(encoding)
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if any(n in line for n in rename))
    cells = lines[index].split(",")
    cells = [rename.get(c, c) for c in cells]
    lines[index] = lead + ",".join(cells)
    target.write_bytes("\n".join(lines).encode(encoding))
    return target


def _as_written(path: Path, tmp_path: Path) -> pl.DataFrame:
    """The clean lines of the file as it is, header untouched."""
    report = ingest([path], tmp_path / "as-written", state_dir=tmp_path / "as-written-st")
    return _orders(report.batch_dir)


def _orders(report_dir: Path | None) -> pl.DataFrame:
    assert report_dir is not None
    return pl.read_csv(report_dir / "orders.csv", infer_schema=False).drop("batch_id", "source")


def test_tmall_header_with_trailing_spaces_and_a_guard_reads_as_the_golden(
        tmp_path: Path) -> None:
    """Every column a mapping reads (fields, the address split, paid_at) is found whatever
    spaces, guards or full-width forms the header carries; the rejects report keeps the
    header as the file wrote it."""
    rename = {"订单编号": '="订单编号"', "订单付款时间": "订单付款时间 ", "收货地址": "收货地址 ",
              "购买数量": "购买数量\u3000", "价格": "价格 "}
    path = _rewrite_header(TMALL, tmp_path / TMALL.name, "gb18030", rename)
    report = ingest([path], tmp_path / "out", state_dir=tmp_path / "st")
    assert _orders(report.batch_dir).equals(_as_written(TMALL, tmp_path))
    assert report.batch_dir is not None
    rejects = (report.batch_dir / "rejects.csv").read_text(encoding="utf-8-sig")
    assert "收货地址 ," in rejects.splitlines()[0]


def test_shopify_header_in_other_case_with_bom_and_tab_reads_as_the_golden(
        tmp_path: Path) -> None:
    """Latin names in another case, a BOM and a tab before the first name: the order key
    (Name), carry_forward columns and every field are still found."""
    header = SHOPIFY.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    rename = {name: name.upper() + " " for name in header}
    path = _rewrite_header(SHOPIFY, tmp_path / SHOPIFY.name, "utf-8", rename,
                           lead="\ufeff\t")
    report = ingest([path], tmp_path / "out", state_dir=tmp_path / "st")
    golden = pl.read_csv(GOLDEN / "shopify" / "orders.csv", infer_schema=False).drop("source")
    assert _orders(report.batch_dir).equals(golden)


def test_a_mapping_column_in_full_width_finds_the_half_width_header(tmp_path: Path) -> None:
    mapping = (MAPPINGS / "tmall.toml").read_text(encoding="utf-8").replace(
        'paid_at = "订单付款时间"', 'paid_at = "订单付款时间（北京）"')
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "tmall.toml").write_text(mapping, encoding="utf-8")
    path = _rewrite_header(TMALL, tmp_path / TMALL.name, "gb18030",
                           {"订单付款时间": "订单付款时间(北京)"})
    report = ingest([path], tmp_path / "out", state_dir=tmp_path / "st",
                    mappings_dir=directory)
    paid = _orders(report.batch_dir)["paid_at"]
    assert paid.is_not_null().any() and paid.equals(_as_written(TMALL, tmp_path)["paid_at"])


# --- --channel forces the mapping --------------------------------------------------------


def _amazon_without(tmp_path: Path, column: str, renamed: str) -> Path:
    text = AMAZON.read_text(encoding="utf-8").split("\n")
    text[0] = "\t".join(renamed if c == column else c for c in text[0].split("\t"))
    path = tmp_path / "All_Orders_renamed.txt"
    path.write_text("\n".join(text), encoding="utf-8")
    return path


def test_forced_by_channel_a_missing_signature_column_is_noted_not_refused(
        tmp_path: Path) -> None:
    path = _amazon_without(tmp_path, "sales-channel", "marketplace")
    refused = ingest([path], tmp_path / "o1", state_dir=tmp_path / "s1")
    assert refused.unreadable and refused.unreadable[0]["code"] == "unknown-channel"
    assert "pass --channel NAME" in refused.unreadable[0]["reason"]

    report = ingest([path], tmp_path / "o2", state_dir=tmp_path / "s2", channel="amazon")
    entry = _entries(report.manifest)[path.name]
    assert entry["mapping"] == "amazon" and entry["missing_signature"] == ["sales-channel"]
    assert any("sales-channel" in n for n in entry["notes"])  # type: ignore[attr-defined]
    golden = pl.read_csv(GOLDEN / "amazon" / "orders.csv", infer_schema=False).drop("source")
    assert _orders(report.batch_dir).equals(golden)  # (sales-channel is read by no field)
    assert "read with mapping amazon (forced)" in report.summary_line()

    cli = run_cli("ingest", str(path), "--channel", "amazon", "--out", str(tmp_path / "o3"))
    assert cli.returncode == 1, cli.stderr  # the sample holds bad rows on purpose
    assert "its header lacks sales-channel" in cli.stderr


def test_forced_by_channel_picks_the_layout_whose_signature_is_most_present(
        tmp_path: Path) -> None:
    directory = _mappings_with(tmp_path, **{"amazon-unshipped": UNSHIPPED_MAPPING})
    header = ["order_item_id" if c == "order-item-id" else c for c in UNSHIPPED_HEADER]
    path = _unshipped(tmp_path, header)
    report = ingest([path], tmp_path / "out", state_dir=tmp_path / "st",
                    mappings_dir=directory, channel="amazon")
    entry = _entries(report.manifest)[path.name]
    assert (entry["mapping"], entry["layout"]) == ("amazon-unshipped", "unshipped")
    assert entry["missing_signature"] == ["order-item-id"] and entry["clean"] == 2


def test_forced_by_mapping_name_and_missing_required_columns_reject(tmp_path: Path) -> None:
    """A mapping named by its file stem is used even for another channel's file: the
    required columns it lacks reject every row (missing-required)."""
    directory = _mappings_with(tmp_path, **{"amazon-unshipped": UNSHIPPED_MAPPING})
    report = ingest([AMAZON], tmp_path / "out", state_dir=tmp_path / "st",
                    mappings_dir=directory, channel="amazon-unshipped")
    entry = _entries(report.manifest)[AMAZON.name]
    assert entry["mapping"] == "amazon-unshipped" and entry["channel"] == "amazon"
    assert entry["missing_signature"] == ["order-id", "order-item-id", "quantity-purchased"]
    assert entry["clean"] == 0 and entry["rejected"] == entry["rows_in"]
    assert report.batch_dir is not None
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    assert rejects["codes"].str.contains("missing-required").all()


def test_preview_forced_by_mapping_name_shows_the_note(tmp_path: Path) -> None:
    directory = _mappings_with(tmp_path, **{"amazon-unshipped": UNSHIPPED_MAPPING})
    path = _amazon_without(tmp_path, "sales-channel", "marketplace")
    result = run_cli("mappings", "preview", str(path), "-m", "amazon", "--mappings",
                     str(directory))
    assert result.returncode == 1, result.stderr
    assert "header lacks the signature column(s) sales-channel" in result.stdout
    named = run_cli("mappings", "preview", str(_unshipped(tmp_path)), "-m",
                    "amazon-unshipped", "--mappings", str(directory))
    assert named.returncode == 0, named.stderr
    assert "channel amazon/unshipped" in named.stdout and "note:" not in named.stdout
    unknown = run_cli("ingest", str(path), "--channel", "nosuch", "--mappings",
                      str(directory))
    assert unknown.returncode == 2 and "amazon-unshipped" in unknown.stderr
