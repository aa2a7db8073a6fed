"""Unit tests of the parse rules in ingest.mapping.parsers, run on small polars frames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from ingest.mapping.parsers import (
    clean_text,
    parse_country,
    parse_currency,
    parse_date,
    parse_email,
    parse_instant,
    parse_integer,
    parse_money,
    parse_phone,
    parse_status,
)

UTC = dt.UTC
SHOPIFY_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S")


def apply(rule: Callable[..., pl.Expr], values: list[str | None], **kwargs: Any) -> pl.Series:
    """The rule evaluated over a one-column frame of strings."""
    frame = pl.DataFrame({"text": values}, schema={"text": pl.String})
    return frame.select(rule(pl.col("text"), **kwargs).alias("value")).to_series()


def one(rule: Callable[..., pl.Expr], value: str | None, **kwargs: Any) -> Any:
    return apply(rule, [value], **kwargs).item()


# clean_text


def test_clean_text_removes_excel_formula_guard() -> None:
    assert one(clean_text, '="0012"') == "0012"


def test_clean_text_removes_leading_apostrophe_guard() -> None:
    assert one(clean_text, "'0812") == "0812"


def test_clean_text_removes_guard_surrounded_by_spaces() -> None:
    assert one(clean_text, '  ="0012"\u3000') == "0012"


@pytest.mark.parametrize(
    "raw",
    [" abc ", "\tabc\r\n", "\u3000abc\u3000", "\u00a0abc\u00a0", "\u3000 \u00a0abc \u00a0"],
    ids=["ascii", "tab-crlf", "ideographic-space", "nbsp", "mixed"],
)
def test_clean_text_trims_ascii_fullwidth_and_nbsp_spaces(raw: str) -> None:
    assert one(clean_text, raw) == "abc"


def test_clean_text_keeps_inner_spaces() -> None:
    assert one(clean_text, " 杭州市 西湖区 ") == "杭州市 西湖区"


@pytest.mark.parametrize("raw", ["", "   ", "\u3000\u00a0", '=""', "'", None])
def test_clean_text_turns_empty_into_null(raw: str | None) -> None:
    assert one(clean_text, raw) is None


# parse_money


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("¥1,299.00", Decimal("1299.00")),
        ("￥ 12", Decimal("12.00")),
        ("１２.５０", Decimal("12.50")),
        ("USD 3.50", Decimal("3.50")),
        ("12.3400", Decimal("12.34")),
        ("7.10" + "0" * 40, Decimal("7.10")),
        ("$1,000,000.10", Decimal("1000000.10")),
        ("0", Decimal("0.00")),
    ],
)
def test_parse_money_reads_exact_decimal(raw: str, expected: Decimal) -> None:
    value = one(parse_money, raw)
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize("raw", ["12.345", "12.3450", "1e3", "12.3.4", "价格待定", ""])
def test_parse_money_rejects_what_is_not_an_exact_amount(raw: str) -> None:
    assert one(parse_money, raw) is None


def test_parse_money_dtype_is_decimal_18_2_not_float() -> None:
    result = apply(parse_money, ["¥1,299.00", "12.345"])
    assert result.dtype == pl.Decimal(18, 2)
    assert not result.dtype.is_float()


def test_parse_money_keeps_cents_a_float_would_lose() -> None:
    # 9999999999999999.99 is 1e16 as a float64
    assert one(parse_money, "9999999999999999.99") == Decimal("9999999999999999.99")


# parse_integer


@pytest.mark.parametrize(("raw", "expected"), [("3", 3), ("3.0", 3), ("1,000", 1000), ("３", 3)])
def test_parse_integer_reads_whole_numbers(raw: str, expected: int) -> None:
    assert one(parse_integer, raw) == expected


@pytest.mark.parametrize("raw", ["2.5", "abc"])
def test_parse_integer_rejects_fractions_and_text(raw: str) -> None:
    assert one(parse_integer, raw) is None


def test_parse_integer_dtype_is_int64() -> None:
    assert apply(parse_integer, ["3"]).dtype == pl.Int64


# parse_instant


def test_parse_instant_reads_local_time_in_the_zone() -> None:
    value = one(parse_instant, "2024-11-11 00:01:02", formats=(), timezone="Asia/Shanghai")
    assert value == dt.datetime(2024, 11, 10, 16, 1, 2, tzinfo=UTC)


def test_parse_instant_keeps_the_value_offset_over_the_zone() -> None:
    value = one(parse_instant, "2024-03-05 14:22:10 -0500", formats=SHOPIFY_FORMATS,
                timezone="Asia/Shanghai")
    assert value == dt.datetime(2024, 3, 5, 19, 22, 10, tzinfo=UTC)


def test_parse_instant_reads_trailing_z_as_utc() -> None:
    value = one(parse_instant, "2024-03-05T14:22:10Z", formats=SHOPIFY_FORMATS,
                timezone="Asia/Shanghai")
    assert value == dt.datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)


def test_parse_instant_default_formats_read_trailing_z_as_utc() -> None:
    # The README promises "timestamps to UTC from the mapping's zone or the value's own
    # offset"; a mapping without datetime_formats gets the default formats.
    value = one(parse_instant, "2024-03-05T14:22:10Z", formats=(), timezone="Asia/Shanghai")
    assert value == dt.datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)


def test_parse_instant_dst_gap_local_time_is_null() -> None:
    values = apply(parse_instant, ["2024-03-10 02:30:00", "2024-03-10 03:30:00"], formats=(),
                   timezone="America/New_York")
    assert values.to_list() == [None, dt.datetime(2024, 3, 10, 7, 30, tzinfo=UTC)]


def test_parse_instant_invalid_calendar_date_is_null() -> None:
    assert one(parse_instant, "2024-11-31 10:00:00", formats=(), timezone="UTC") is None


def test_parse_instant_text_that_matches_no_format_is_null() -> None:
    assert one(parse_instant, "11/11/2024", formats=("%Y-%m-%d %H:%M:%S",),
               timezone="UTC") is None


def test_parse_instant_dtype_is_utc_microseconds() -> None:
    values = apply(parse_instant, ["2024-11-11 00:01:02"], formats=(), timezone="Asia/Shanghai")
    assert values.dtype == pl.Datetime("us", "UTC")


# parse_date


@pytest.mark.parametrize(
    "raw", ["2024-05-01", "2024-05-01 00:00:00", "2024/05/01", "20240501", "2024年05月01日"]
)
def test_parse_date_default_formats(raw: str) -> None:
    assert one(parse_date, raw, formats=()) == dt.date(2024, 5, 1)


def test_parse_date_drops_spreadsheet_midnight_with_own_format() -> None:
    assert one(parse_date, "01.05.2024 00:00:00", formats=("%d.%m.%Y",)) == dt.date(2024, 5, 1)


@pytest.mark.parametrize("raw", ["2024-02-30", "tomorrow"])
def test_parse_date_invalid_is_null(raw: str) -> None:
    assert one(parse_date, raw, formats=()) is None


def test_parse_date_dtype_is_date() -> None:
    assert apply(parse_date, ["2024-05-01"], formats=()).dtype == pl.Date


# parse_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("0571-88886666", "+8657188886666"),
        ("(0571) 8888 6666", "+8657188886666"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("0086 13812345678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("＋８６ １３８１２３４５６７８", "+8613812345678"),
    ],
)
def test_parse_phone_cn_to_e164(raw: str, expected: str) -> None:
    assert one(parse_phone, raw, region="CN") == expected


def test_parse_phone_cn_beijing_landline_with_trunk_zero() -> None:
    # Beijing's area code is 10: 010-6552 9988 is +86 10 6552 9988.
    assert one(parse_phone, "010-6552 9988", region="CN") == "+861065529988"


@pytest.mark.parametrize(
    "raw", ["(415) 555-0100", "415-555-0100", "1 415 555 0100", "+1 (415) 555-0100"]
)
def test_parse_phone_us_to_e164(raw: str) -> None:
    assert one(parse_phone, raw, region="US") == "+14155550100"


def test_parse_phone_international_form_keeps_its_country_code() -> None:
    assert one(parse_phone, "+86 138 1234 5678", region="US") == "+8613812345678"


@pytest.mark.parametrize("raw", ["138****5678", "12345", "555-0100", "phone"])
def test_parse_phone_masked_or_too_short_is_null(raw: str) -> None:
    assert one(parse_phone, raw, region="CN") is None
    assert one(parse_phone, raw, region="US") is None


def test_parse_phone_national_number_without_region_is_null() -> None:
    assert one(parse_phone, "13812345678", region=None) is None


# parse_email


def test_parse_email_lowercases_a_valid_address() -> None:
    assert one(parse_email, "Foo.Bar@Example.COM") == "foo.bar@example.com"


@pytest.mark.parametrize("raw", ["no-at-sign", "a@b", "a b@c.com", "a@@b.com"])
def test_parse_email_invalid_is_null(raw: str) -> None:
    assert one(parse_email, raw) is None


# parse_country


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("中国", "CN"), ("usa", "US"), ("United States", "US"), ("CHN", "CN"), ("US", "US"),
     ("cn", "CN"), ("Germany", "DE"), ("UK", "GB")],
)
def test_parse_country_to_iso_alpha_2(raw: str, expected: str) -> None:
    assert one(parse_country, raw) == expected


@pytest.mark.parametrize("raw", ["Narnia", "火星", "XX"])
def test_parse_country_unknown_is_null(raw: str) -> None:
    assert one(parse_country, raw) is None


# parse_currency


@pytest.mark.parametrize(
    ("raw", "expected"), [("rmb", "CNY"), ("人民币", "CNY"), ("CNY", "CNY"), ("usd", "USD")]
)
def test_parse_currency_to_iso_4217(raw: str, expected: str) -> None:
    assert one(parse_currency, raw) == expected


def test_parse_currency_unknown_is_null() -> None:
    assert one(parse_currency, "XYZ") is None


# parse_status


@pytest.mark.parametrize(
    ("raw", "expected"), [("paid", "paid"), ("Paid", "paid"), ("SHIPPED", "shipped")]
)
def test_parse_status_standard_status_in_any_case(raw: str, expected: str) -> None:
    assert one(parse_status, raw) == expected


@pytest.mark.parametrize("raw", ["交易成功", "lost"])
def test_parse_status_unmapped_text_is_null(raw: str) -> None:
    assert one(parse_status, raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("U.S.", "US"), ("u.s.a.", "US"), ("United States of America", "US"), ("美国", "US"),
     ("中华人民共和国", "CN"), ("Deutschland", "DE"), ("  united   kingdom ", "GB"),
     ("Österreich", "AT"), ("España", "ES"), ("大韩民国", "KR"), ("DEU", "DE")],
)
def test_parse_country_common_forms_dots_spacing_and_own_language(raw: str,
                                                                  expected: str) -> None:
    assert one(parse_country, raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [("+86 138 0013 8000", "CN", "+8613800138000"), ("0086 138 0013 8000", "CN",
                                                      "+8613800138000"),
     ("138-0013-8000", "CN", "+8613800138000"), ("(415) 555-0132", "US", "+14155550132"),
     ("+1 415 555 0132", "CN", "+14155550132"), ("07700 900123", "GB", "+447700900123"),
     ("+44 7700 900123", "US", "+447700900123"), ("030 12345678", "DE", "+493012345678")],
)
def test_parse_phone_local_and_international_forms(raw: str, region: str,
                                                   expected: str) -> None:
    assert one(parse_phone, raw, region=region) == expected


def test_parse_phone_national_numbers_follow_the_row_country() -> None:
    frame = pl.DataFrame({"phone": ["07700 900123", "(415) 555-0132", "030 12345678",
                                    "(415) 555-0132"],
                          "country": ["GB", "US", "DE", None]})
    result = frame.select(parse_phone(pl.col("phone"), "US", pl.col("country"))).to_series()
    # the row's country first, the mapping's region for the rest
    assert result.to_list() == ["+447700900123", "+14155550132", "+493012345678",
                                "+14155550132"]


def test_parse_phone_row_country_does_not_rescue_a_number_of_another_country() -> None:
    frame = pl.DataFrame({"phone": ["07700 900123"], "country": ["FR"]})
    result = frame.select(parse_phone(pl.col("phone"), "US", pl.col("country"))).item()
    assert result is None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    # the forms in order: with the bare country code, as it is, after the trunk prefix
    [("4930123456", "DE", "+4930123456"), ("9198765432", "IN", "+919198765432"),
     ("919876543210", "IN", "+919876543210"), ("09876543210", "IN", "+919876543210"),
     ("+44 20 7946 0958", "CN", "+442079460958"), ("8613812345678", "CN", "+8613812345678")],
)
def test_parse_phone_national_forms_are_tried_in_order(raw: str, region: str,
                                                       expected: str) -> None:
    assert one(parse_phone, raw, region=region) == expected
