"""The catalogue of codes: every code ordermill emits is in it, documented, and rendered as
before."""

from __future__ import annotations

import re

import polars as pl
import pytest
from conftest import ROOT

from ingest import codes
from ingest.checks import RowCheck, cross_channel_reason
from ingest.errors import InputError
from ingest.schema import FIELDS

# Where codes are named in the sources: file codes given to InputError, row codes given to
# RowCheck or written as a codes column, and (under readers/) the codes readers mark damaged
# rows with.
USES = (
    re.compile(r"\bcode=\"([a-z0-9-]+)\""),
    re.compile(r"\bRowCheck\(\s*\"([a-z0-9-]+)\""),
    re.compile(r"\bInputError\.of\([^,]+,\s*\"([a-z0-9-]+)\""),
    re.compile(r"\bpl\.lit\(\"([a-z0-9-]+)\"\)\.alias\(\"codes\"\)"),
)
READER_USE = re.compile(r"\bpl\.lit\(\"([a-z0-9]+(?:-[a-z0-9]+)+)\"\)")


def used_codes() -> dict[str, set[str]]:
    """code -> the source files that name it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "ingest").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        patterns = USES + ((READER_USE,) if path.parent.name == "readers" else ())
        for pattern in patterns:
            for name in pattern.findall(text):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_code_used_in_the_sources_is_catalogued() -> None:
    used = used_codes()
    assert {"unreadable-workbook", "missing-file", "total-mismatch", "nul-byte",
            "cross-channel-duplicate"} <= set(used)
    assert {name: where for name, where in used.items() if name not in codes.CODES} == {}


def test_parse_codes_of_the_schema_are_row_or_warning_codes() -> None:
    for field in FIELDS:
        if field.parse_code is not None:
            kind = codes.code(field.parse_code).kind
            assert kind == ("warning" if field.kind in ("phone", "email") else "row"), field.name


def test_the_default_input_code_is_catalogued() -> None:
    assert InputError("a.csv", "has no header row 9").code == "unreadable-file"
    assert codes.code("unreadable-file").kind == "file"
    assert not codes.is_transient("unreadable-file")  # the default never retries for ever


def test_every_code_has_a_meaning_and_a_template() -> None:
    for entry in codes.CODES.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.code)
        assert entry.meaning.strip() and not entry.meaning.endswith(".")
        assert entry.template.strip()
        assert "|" not in entry.meaning  # a table cell


def test_templates_use_only_known_placeholders() -> None:
    for entry in codes.CODES.values():
        assert codes.placeholders(entry.template) <= codes.PLACEHOLDERS[entry.kind], entry.code
        # Every brace is a placeholder: a stray one would be shown as it is.
        assert "{" not in re.sub(r"\{\w+(!r)?\}", "", entry.template), entry.code


def test_transient_codes_are_the_ones_of_the_moment() -> None:
    transient = {c.code for c in codes.CODES.values() if c.kind == "file" and c.transient}
    assert transient == {"cannot-open", "missing-file", "changed-during-run",
                         "source-unreachable",
                         # (a machine without tesseract: the scan reads once it is installed)
                         "ocr-unavailable"}
    assert codes.is_transient("cannot-open")
    assert not codes.is_transient("unknown-channel")
    assert not codes.is_transient("encrypted-workbook")
    with pytest.raises(ValueError, match="row code"):
        codes.is_transient("invalid-date")
    assert all(not c.transient for c in codes.CODES.values() if c.kind != "file")


def test_an_unknown_code_names_the_nearest() -> None:
    with pytest.raises(KeyError, match="did you mean 'invalid-date'"):
        codes.code("invalid-dates")


def test_input_error_refuses_a_code_outside_the_catalogue() -> None:
    with pytest.raises(KeyError, match="did you mean 'missing-file'"):
        InputError("a.csv", "no such file", code="missing-flie")
    with pytest.raises(ValueError, match="not a file code"):
        InputError("a.csv", "no such file", code="invalid-date")


def test_row_check_refuses_a_code_outside_the_catalogue() -> None:
    with pytest.raises(KeyError, match="did you mean 'total-mismatch'"):
        RowCheck("total-mismatsh", "line_total", pl.lit(True))
    with pytest.raises(ValueError, match="not a row code"):
        RowCheck("missing-file", "line_total", pl.lit(True))


def test_file_messages_render_as_before() -> None:
    error = InputError.of("a.csv", "missing-file")
    assert (str(error), error.code, error.reason) == ("a.csv: no such file", "missing-file",
                                                      "no such file")
    assert codes.render("unknown-channel", reason="holds no table") == "holds no table"


# Messages as the golden rejects files hold them (tests/golden/<channel>/rejects.csv).
GOLDEN_MESSAGES = [
    ("invalid-quantity", {"field": "quantity", "value": "两箱", "column": "数量"},
     "quantity: '两箱' in column 数量 is not a whole number"),
    ("missing-required", {"field": "unit_price", "column": "item-price"},
     "unit_price is required but column item-price is empty"),
    ("invalid-date", {"field": "ordered_at", "value": "2024-11-31T10:00:00-08:00",
                      "column": "purchase-date"},
     "ordered_at: '2024-11-31T10:00:00-08:00' in column purchase-date is not a date/time in a "
     "format this channel uses"),
    ("paid-before-ordered", {"value": "2024-11-07 09:00:00",
                             "detail": "ordered at 2024-11-07 02:00:00.000000+00:00"},
     "paid_at 2024-11-07 09:00:00 is earlier than ordered_at (ordered at 2024-11-07 "
     "02:00:00.000000+00:00)"),
    ("missing-product", {}, "the line names no product: sku and product_name are both empty"),
    ("order-amount-mismatch", {"field": "shipping_amount", "value": "6.00", "column": "运费金额",
                               "detail": "from 6.00 to 8.00"},
     "shipping_amount: '6.00' in column 运费金额 is an order-level amount but the lines of "
     "this order disagree (from 6.00 to 8.00)"),
    ("indivisible-amount", {"field": "unit_price", "value": "10.00", "column": "商品总价(元)",
                            "detail": "quantity 3"},
     "unit_price: '10.00' in column 商品总价(元) does not divide by quantity 3 into whole cents"),
    ("incomplete-order", {"value": "HX-PO-20241118-007",
                          "detail": "row 13 of huaxin-PO-HX-20241118-007.xlsx was rejected "
                          "(missing-required;invalid-money)"},
     "order HX-PO-20241118-007 is held back whole: row 13 of huaxin-PO-HX-20241118-007.xlsx "
     "was rejected (missing-required;invalid-money)"),
    ("total-mismatch", {"value": "240.00", "column": "实付金额",
                        "detail": "2 × 120.00 − 10.00 = 230.00"},
     "line_total 240.00 in column 实付金额 is not quantity × unit_price − discount_amount "
     "(2 × 120.00 − 10.00 = 230.00)"),
    ("too-many-fields", {"detail": "9 instead of 8"},
     "the row has more fields than the header (9 instead of 8)"),
]


@pytest.mark.parametrize(("name", "values", "expected"), GOLDEN_MESSAGES,
                         ids=[case[0] for case in GOLDEN_MESSAGES])
def test_row_messages_render_as_the_golden_files_hold_them(
        name: str, values: dict[str, str], expected: str) -> None:
    # As columns (the row path) and as literals: both give the text the golden files hold.
    frame = pl.DataFrame({key: [value] for key, value in values.items()})
    as_columns = frame.select(codes.message(name, {key: pl.col(key) for key in values}))
    assert as_columns.item() == expected
    assert pl.select(codes.message(name, values)).item() == expected
    assert codes.render(name, **values) == expected


def test_a_null_value_makes_the_message_null() -> None:
    # Callers fill nulls with what a person should read ("(empty)", "?"), as before.
    frame = pl.DataFrame({"order_id": [None, "A1"]}, schema={"order_id": pl.String})
    rendered = frame.select(cross_channel_reason(pl.lit("shopify"))).to_series().to_list()
    assert rendered == [None, "order A1 was already received through channel shopify; not "
                        "output twice"]


def test_readme_holds_exactly_the_generated_tables() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tables = re.findall(r"^\| code \|.*\n(?:\|.*\n)*", readme, flags=re.MULTILINE)
    kinds = ("exit", "row", "warning", "waiting", "file", "rule")
    assert tables == [codes.markdown_table(kind) for kind in kinds]
