"""Mapping tools, beside the flow: what the values of a column look like. Dates (and their
formats), money, whole numbers, phones, e-mails, countries, currencies, Chinese addresses.
Measured with polars over a sample of each column, as shares of its non-empty values."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingest.mapping.parsers import (
    DEFAULT_DATETIME_FORMATS,
    clean_text,
    parse_country,
    parse_currency,
    parse_email,
    parse_integer,
    parse_money,
)

# Formats tried on date-like columns, beyond the ones ordermill reads by default.
DATETIME_FORMATS = (*DEFAULT_DATETIME_FORMATS,
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%m/%d/%y %H:%M", "%m/%d/%y",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%b-%d-%y %H:%M:%S", "%b-%d-%y", "%b %d, %Y %H:%M", "%b %d, %Y", "%d %b %Y", "%d-%b-%Y",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日", "%Y%m%d %H:%M:%S",
    "%Y%m%d")
DATE_LIKE = r"^(\d{1,4}[-/.年]\d{1,2}|\d{8}\b|[A-Za-z]{3}[- ]\d{1,2}|\d{1,2}[ -][A-Za-z]{3})"
PHONE = (r"^(?:(?:\+|00)\d{7,14}|1[3-9]\d{9}|0\d{9,11}|\d{10}|1\d{10})$")
CN_ADDRESS = r"^\S+?(?:省|市|自治区|特别行政区)?\s+\S+?(?:市|州|盟|区|县)\s+\S+\s+\S+"
CN_POSTCODE = r"[(（]\d{6}[)）]\s*$"
SYMBOLS = {"¥": "CNY", "￥": "CNY", "$": "USD", "€": "EUR", "£": "GBP"}
ENOUGH = 0.8  # share of values that must fit a shape (samples hold bad rows too)


@dataclass(frozen=True)
class Shape:
    filled: int  # non-empty values in the sample
    distinct: int
    integer: float  # shares of the non-empty values
    small_integer: float  # 1 ... 100,000: quantities, line numbers
    money: float
    money_marked: float  # with a currency sign, thousands separators or two decimals
    phone: float
    email: float
    country: float
    currency: float
    cn_address: float  # "省 市 区 street": split into province, city, district, street
    cn_postcode: float  # ends in "(310012)"
    dates: float  # share read by ``formats``
    formats: tuple[str, ...] = ()  # date/time formats that read the values, best first
    symbol: str | None = None  # the currency sign most values carry
    examples: tuple[str, ...] = ()

    @property
    def has_offset(self) -> bool:
        return bool(self.formats) and all("%z" in f for f in self.formats)


def measure(sample: pl.DataFrame) -> dict[str, Shape]:
    """The shape of every column of a frame of strings."""
    columns = [c for c in sample.columns if not c.startswith("__")]
    cleaned = sample.select([clean_text(pl.col(c)).alias(c) for c in columns])
    stats = cleaned.select([expr.alias(f"{i}:{key}") for i, c in enumerate(columns)
                            for key, expr in _stats(pl.col(c)).items()]).row(0, named=True)
    shapes: dict[str, Shape] = {}
    for i, column in enumerate(columns):
        got = {key.split(":", 1)[1]: value for key, value in stats.items()
               if key.split(":", 1)[0] == str(i)}
        filled = int(got.pop("filled") or 0)
        distinct = int(got.pop("distinct") or 0)
        share = {k: (float(v or 0) / filled if filled else 0.0) for k, v in got.items()}
        values = cleaned[column].drop_nulls()
        formats, dates = _date_formats(values) if share["date_like"] >= 0.5 else ((), 0.0)
        symbol = max(SYMBOLS, key=lambda s: share[f"sym{s}"])
        shapes[column] = Shape(
            filled=filled, distinct=distinct, integer=share["integer"],
            small_integer=share["small_integer"], money=share["money"],
            money_marked=share["money_marked"], phone=share["phone"], email=share["email"],
            country=share["country"], currency=share["currency"],
            cn_address=share["cn_address"], cn_postcode=share["cn_postcode"], dates=dates,
            formats=formats, symbol=symbol if share[f"sym{symbol}"] >= 0.5 else None,
            examples=tuple(values.unique(maintain_order=True).head(3).to_list()),
        )
    return shapes


def _stats(text: pl.Expr) -> dict[str, pl.Expr]:
    integer = parse_integer(text)
    phone = text.str.replace_all(r"[\s\-().]", "")
    stats = {
        "filled": text.is_not_null().sum(),
        "distinct": text.drop_nulls().n_unique(),
        "integer": integer.is_not_null().sum(),
        "small_integer": integer.is_between(1, 100_000).sum(),
        "money": parse_money(text).is_not_null().sum(),
        "money_marked": (parse_money(text).is_not_null() & text.str.contains(
            r"[¥￥$€£]|\d,\d{3}|\.\d{2}$")).sum(),
        "phone": (phone.str.contains(PHONE) & ~text.str.contains(r"^\d+\.\d+$")).sum(),
        "email": parse_email(text).is_not_null().sum(),
        "country": (parse_country(text).is_not_null() & (text.str.len_chars() <= 40)).sum(),
        # an ISO code alone, or beside its name as Chinese ERPs write it ("人民币CNY")
        "currency": (parse_currency(text).is_not_null() & text.str.contains(
            r"^[A-Za-z]{3}$|^[^A-Za-z\d]{1,6}\s?[A-Za-z]{3}$")).sum(),
        "cn_address": text.str.contains(CN_ADDRESS).sum(),
        "cn_postcode": text.str.contains(CN_POSTCODE).sum(),
        "date_like": text.str.contains(DATE_LIKE).sum(),
    }
    for sign in SYMBOLS:
        stats[f"sym{sign}"] = text.str.contains(sign, literal=True).sum()
    return stats


def _date_formats(values: pl.Series) -> tuple[tuple[str, ...], float]:
    """The formats that read the values, chosen greedily (the one reading most first, then
    the ones reading what is left), and the share they read together."""
    if not len(values):
        return (), 0.0
    text = values.str.replace(r"Z$", "+00:00").to_frame("t")
    hits = text.select([_parses(pl.col("t"), f).alias(str(i))
                        for i, f in enumerate(DATETIME_FORMATS)])
    left = pl.Series([True] * len(values))
    chosen: list[str] = []
    while True:
        counts = [int((hits[str(i)] & left).sum()) for i in range(len(DATETIME_FORMATS))]
        best = max(range(len(counts)), key=lambda i: counts[i])
        if counts[best] == 0 or len(chosen) >= 4:
            break
        chosen.append(DATETIME_FORMATS[best])
        left = left & ~hits[str(best)]
    return tuple(chosen), 1 - float(left.sum()) / len(values)


def _parses(text: pl.Expr, fmt: str) -> pl.Expr:
    dtype = pl.Datetime("us", "UTC") if "%z" in fmt else pl.Datetime("us")
    parsed = text.str.strptime(dtype, fmt, strict=False, exact=True)
    # "03/05/24" read as %Y/%m/%d is the year 3: a format that reads a value as a year
    # nobody orders in does not read it.
    return parsed.dt.year().is_between(1990, 2100).fill_null(False)
