"""`mappings suggest`, library level: names, value shapes, drafts that load and ingest, and
the accuracy the issue asks for (≥ 80 % of a hand-made mapping's fields)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, ROOT, SAMPLES, run_cli
from golden import CASES
from suggest_score import score

from ingest.api import ingest
from ingest.mapping.loader import load_mapping, load_mappings, parse_mapping
from ingest.schema import mappable_fields
from ingest.tools.draft import render
from ingest.tools.names import name_matches, normalise, synonyms
from ingest.tools.shapes import measure
from ingest.tools.suggest import status_of, suggest

FIXTURES = ROOT / "tests" / "fixtures" / "suggest"
FIXTURE_FILES = {
    "amazon": FIXTURES / "amazon" / "orders-report.txt",
    "ebay": FIXTURES / "ebay" / "SalesHistory.csv",
    "jd": FIXTURES / "jd" / "jd_orders.xlsx",
}


def mappings_without(channel: str, tmp_path: Path) -> Path:
    """The bundled mappings minus the channel's own file."""
    directory = tmp_path / "mappings"
    directory.mkdir()
    for path in MAPPINGS.glob("*.toml"):
        if tomllib.loads(path.read_text(encoding="utf-8")).get("channel") != channel:
            shutil.copy(path, directory / path.name)
    return directory


def test_names_are_normalised_before_matching() -> None:
    assert normalise("ＯＲＤＥＲ－ＩＤ") == normalise("order_id") == normalise("Order ID")
    assert name_matches("amazon-order-id")[0].field == "order_id"
    assert name_matches("ORDER_NUMBER")[0].field == "order_id"
    assert name_matches("Ship To Address 2")[0].field == "ship_address"
    # A buyer's column is never read as the recipient's field.
    assert all(not m.field.startswith("ship_") for m in name_matches("Buyer Address 1"))


def test_synonyms_for_fields_the_schema_lacks_are_skipped() -> None:
    table = tomllib.loads((ROOT / "ingest" / "tools" / "synonyms.toml").read_text("utf-8"))
    listed = set(table["fields"])
    assert {"order_discount_amount", "shipping_amount"} <= listed  # ready for the schema
    assert set(synonyms().fields) == listed & set(mappable_fields())


def test_value_shapes() -> None:
    frame = pl.DataFrame({
        "when": ["2024-03-05T14:22:41+00:00", "2024-03-06T01:00:00Z", ""],
        "us_date": ["03/05/24", "12/31/24", "01/02/25"],
        "money": ["$1,299.00", "$3.50", "¥12"],
        "phone": ["+1 617-555-0142", "(617) 555-0142", "13812345678"],
        "mail": ["a@example.com", "B@Example.org", "c@x.cn"],
        "qty": ["3", "1", "12"],
        "addr": ["浙江省 杭州市 西湖区 文三路100号(310012)", "上海 上海市 浦东新区 世纪大道88号",
                 "广东省 深圳市 南山区 科技园(518000)"],
    })
    shapes = measure(frame)
    assert shapes["when"].formats == ("%Y-%m-%dT%H:%M:%S%z",) and shapes["when"].has_offset
    assert shapes["when"].filled == 2
    assert shapes["us_date"].formats == ("%m/%d/%y",)  # not %Y/%m/%d (the year 3)
    assert shapes["money"].money == 1.0 and shapes["money"].symbol == "$"
    assert shapes["phone"].phone == 1.0 and shapes["mail"].email == 1.0
    assert shapes["qty"].small_integer == 1.0 and shapes["qty"].money_marked == 0.0
    assert shapes["addr"].cn_address == 1.0


def test_status_words() -> None:
    assert status_of("买家已付款，等待卖家发货") == "paid"
    assert status_of("卖家已发货，等待买家确认") == "shipped"
    assert status_of("Unshipped") == "paid"
    assert status_of("退款成功") == "refunded"
    assert status_of("锁定") is None


@pytest.mark.parametrize("channel", sorted(FIXTURE_FILES))
def test_fixture_suggestion_is_accurate_loads_and_ingests(channel: str, tmp_path: Path) -> None:
    path = FIXTURE_FILES[channel]
    drafted = suggest(path, load_mappings(MAPPINGS), channel=channel)
    text = render(drafted)
    mapping = parse_mapping(tomllib.loads(text), "draft.toml")  # the real loader
    accuracy, wrong = score(mapping, load_mapping(path.parent / "expected.toml"))
    assert accuracy >= 0.8, wrong
    draft_file = tmp_path / "mappings" / f"{channel}.toml"
    draft_file.parent.mkdir()
    draft_file.write_text(text, encoding="utf-8")
    report = ingest([path], out=tmp_path / "out", state_dir=tmp_path / "state",
                    mappings_dir=draft_file.parent)
    entry = report.manifest["inputs"][0] if report.manifest else {}
    assert not report.unreadable and entry["channel"] == channel
    assert entry["clean"] >= 3 and entry["rows_in"] == entry["clean"] + entry["rejected"]


def test_junk_rows_footer_and_header_row(tmp_path: Path) -> None:
    drafted = suggest(FIXTURE_FILES["ebay"], [])
    assert drafted.header_row == 3
    assert drafted.footer is not None and drafted.constants["currency"][0] == "USD"
    assert drafted.datetime_formats == ("%b-%d-%y",)


def test_one_column_feeds_one_field_and_losers_are_listed() -> None:
    drafted = suggest(FIXTURE_FILES["ebay"], [])
    columns = [c for g in drafted.guesses.values() if g.how in ("column", "join", "first")
               for c in g.columns]
    assert len(columns) == len(set(columns))
    text = render(drafted)
    assert "'Total Price' also looked like unit_price" in text
    assert "#   Item Number" in text  # unmatched columns are listed
    assert "name is 'Sold For'; values fit" in text  # each guess says why, with confidence


def test_chinese_address_is_split_deliberately() -> None:
    drafted = suggest(SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv", [])
    assert drafted.guesses["ship_province"].how == "split"
    assert drafted.guesses["ship_postcode"].how == "extract"
    assert drafted.constants["currency"][0] == "CNY"
    assert drafted.timezone[0] == "Asia/Shanghai" and drafted.encoding == "gb18030"


def test_existing_channel_is_noted(tmp_path: Path) -> None:
    text = render(suggest(SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv",
                          load_mappings(MAPPINGS)))
    assert "already recognised as channel tmall" in text


@pytest.mark.parametrize("channel", ["amazon", "ebay", "jd"])
def test_suggestion_for_the_real_samples_gets_80_percent(channel: str, tmp_path: Path) -> None:
    """The issue's acceptance: with the channel's own mapping removed, `suggest` on its
    sample maps ≥ 80 % of the mapping's fields from the same source columns."""
    reference = MAPPINGS / f"{channel}.toml"
    # (the sample of that mapping's layout: the channel's other layouts are other mappings)
    samples = [ROOT / CASES[channel]] if channel in CASES else []
    assert reference.is_file() and samples, f"the bundled {channel} sample and mapping"
    directory = mappings_without(channel, tmp_path)
    for sample in samples:
        out = tmp_path / f"{sample.stem}.toml"
        result = run_cli("mappings", "suggest", str(sample), "--channel", channel,
                         "--mappings", str(directory), "--out", str(out))
        assert result.returncode == 0, result.stderr
        accuracy, wrong = score(load_mapping(out), load_mapping(reference))
        assert accuracy >= 0.8, f"{sample.name}: {accuracy:.0%}; wrong: {wrong}"


def test_tables_plain_in_a_pipe_rich_on_a_terminal() -> None:
    from ingest.tools.render import table

    rows = [["订单编号", "[bold]x[/bold]", "a" * 100]]
    plain = table(["name", "markup", "long"], rows, tty=False)
    assert "订单编号" in plain and "[bold]x[/bold]" in plain and "…" in plain
    assert plain.splitlines()[1].startswith("----")
    rich = table(["name", "markup", "long"], rows, tty=True)
    assert "[bold]x[/bold]" in rich  # values are text, never markup


@pytest.mark.parametrize(("column", "field"), [
    ("Unit Cost", "unit_price"), ("Cost", "line_total"), ("含税价", "unit_price"),
    ("不含税价", "unit_price"), ("含税单价", "unit_price"), ("单价", "unit_price"),
    ("创建日期", "ordered_at"), ("下单日期", "ordered_at"), ("订单日期", "ordered_at"),
    ("币种", "currency"), ("物料编码", "sku"), ("物料名称", "product_name"),
    ("规格型号", "variant"), ("数量", "quantity"), ("金额", "line_total"),
    ("价税合计", "line_total"), ("交货日期", "requested_delivery_date"),
    ("采购订单号", "order_id"), ("(订单明细)数量(*)", "quantity"),
    ("(订单明细)商品编码#名称(Null)", "product_name"), ("(基本信息)客户#编码(*)", "buyer_id"),
])
def test_customer_po_column_names(column: str, field: str) -> None:
    from ingest.tools.names import name_matches

    assert name_matches(column)[0].field == field


def test_currency_written_beside_its_name() -> None:
    import polars as pl

    from ingest.mapping.parsers import parse_currency

    values = pl.DataFrame({"t": ["人民币CNY", "美元 USD", "CNY", "人民币", "XYZ"]})
    assert values.select(parse_currency(pl.col("t")))["t"].to_list() == [
        "CNY", "USD", "CNY", "CNY", None]


def test_suggest_on_customer_po_sheets_keeps_its_floor() -> None:
    """`mappings suggest` on 13 real PO / sales-order layouts (tests/fixtures/po-headers):
    94 of the 96 fields a person would map are right (58 before names for customer POs);
    the floor leaves room for two more misses."""
    from suggest_score import po_header_scores

    scores = po_header_scores()
    right, wanted = sum(m.right for m in scores), sum(m.wanted for m in scores)
    assert wanted == 96 and right >= 92, [w for m in scores for w in m.wrong]
