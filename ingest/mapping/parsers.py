"""Mapping, the fourth stage: parse rules as polars expressions over whole string columns.

Each ``parse_*`` takes an expression of cleaned strings (see ``clean_text``) and returns the
typed value, or null where the text does not parse. A null from a non-empty text is what the
row checks turn into a reject with the field's parse code.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import polars as pl

from ingest.mapping import vocab
from ingest.schema import INSTANT, MONEY, ORDER_STATUSES, field_kind

FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {
    "．": ".", "，": ",", "＋": "+", "－": "-", "（": "(", "）": ")", "＠": "@",
}
DEFAULT_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日")

# Region -> (country calling code, national trunk prefix, national significant number rule).
PHONE_REGIONS: dict[str, tuple[str, str, str]] = {
    "CN": ("86", "0", r"1[3-9]\d{9}|10\d{8}|[2-9]\d{8,10}"),  # mobile | Beijing | other areas
    "HK": ("852", "", r"[2-9]\d{7}"),
    "MO": ("853", "", r"[2-8]\d{7}"),
    "TW": ("886", "0", r"[2-9]\d{7,8}"),
    "US": ("1", "1", r"[2-9]\d{2}[2-9]\d{6}"),
    "CA": ("1", "1", r"[2-9]\d{2}[2-9]\d{6}"),
    "GB": ("44", "0", r"[1-9]\d{8,9}"),
    "DE": ("49", "0", r"[1-9]\d{5,13}"),
    "FR": ("33", "0", r"[1-9]\d{8}"),
    "JP": ("81", "0", r"[1-9]\d{8,9}"),
    "KR": ("82", "0", r"[1-9]\d{7,9}"),
    "SG": ("65", "", r"[3689]\d{7}"),
    "AU": ("61", "0", r"[2-478]\d{8}"),
    "IN": ("91", "0", r"[6-9]\d{9}|[1-9]\d{9}"),
}
# What a platform writes for a contact it does not disclose: a masked value (a run of ``*``:
# ``138****5678``, ``*****``, ``a***@qq.com``) or an encrypted one (抖店 ``##…``, ``$$…``,
# ``…密文``). Never a phone, e-mail or postcode: the field is left empty, with a warning.
MASKED = r"\*{2,}|^(?:##|\$\$)|密文"
# Names and addresses may hold a ``*`` of their own (``张*``: still a name), so only the
# encrypted forms count there.
ENCRYPTED = r"^(?:##|\$\$)|密文"
MASKABLE: dict[str, str] = {
    "buyer_phone": MASKED, "ship_phone": MASKED, "buyer_email": MASKED,
    "ship_postcode": MASKED, "buyer_name": ENCRYPTED, "ship_name": ENCRYPTED,
    "ship_address": ENCRYPTED,
}
E164_NUMBER = r"\+[1-9]\d{6,14}"
E164 = f"^{E164_NUMBER}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
# An amount once currency marks are gone: up to two decimals, or more that are all zeros.
MONEY_TEXT = r"^[+-]?(?:\d+(?:\.\d{0,2})?|\.\d{1,2}|\d*\.\d{2}0+)$"


SPACES = " \t\r\n\u3000\u00a0\ufeff"


def clean_text(raw: pl.Expr, guards: bool = True, apostrophes: bool = True,
               bom: bool = True) -> pl.Expr:
    """Trim (Unicode whitespace incl. ideographic and no-break spaces), drop Excel guards
    (``="0012"`` -> ``0012``, a leading ``'``), empty -> null.
    What a disarmed value is left as (``'=1+1``, ``\t=1+1`` -> ``=1+1``) is what the source
    meant, kept as data: the CSV writers guard it again (``writers.formats.guard_formulas``).
    A caller that knows a column holds no guards or stray BOMs (see ``guard_flags``) skips
    their cost: the default trim is several times cheaper than one with a character set."""
    text = raw.str.strip_chars(SPACES) if bom else raw.str.strip_chars()
    # No regex: this runs on every mapped column of every row.
    if guards:
        guarded = (text.str.starts_with('="') & text.str.ends_with('"')
                   & (text.str.len_bytes() > 2))
        # A guard whose quotes the exporter did not double (``"="4712"""`` in the file) comes
        # out of the CSV reader as ``=4712"""``: left alone it would be an ID starting with
        # ``=``. Any ``=``…``"`` whose inside, once its edge quotes go, holds no quote is a
        # guard around one value (``="0012"`` too); one with quotes inside (``="12"" tall"``,
        # ``=HYPERLINK("…")``) is not unwrapped by this rule.
        inside = text.str.strip_prefix("=").str.strip_chars('"')
        damaged = (text.str.starts_with("=") & text.str.ends_with('"')
                   & ~inside.str.contains('"', literal=True))
        text = pl.when(damaged).then(inside) \
            .when(guarded).then(text.str.strip_prefix('="').str.strip_suffix('"')) \
            .otherwise(text)
    if apostrophes:
        text = text.str.strip_prefix("'").str.strip_chars(SPACES if bom else None)
    return pl.when(text == "").then(None).otherwise(text)


def guard_flags(frame: pl.DataFrame, columns: list[str]) -> dict[str, tuple[bool, bool, bool]]:
    """Per column: might a value carry a ``="…"`` guard, a leading ``'``, a BOM? Searches
    that err on the side of yes, so the cleaning of columns without them stays a plain trim:
    one search for any of the three per column, then one per mark only where it hit."""
    # ``=``, not ``="``: a guard damaged in the export (see ``clean_text``) has no ``="``.
    marks = ("=", "'", "\ufeff")
    if not columns or not frame.height:
        return {c: (False, False, False) for c in columns}
    anything = frame.select(
        pl.col(c).str.contains("|".join(marks)).any().alias(str(i))
        for i, c in enumerate(columns)).row(0)
    hits = [c for c, hit in zip(columns, anything, strict=True) if hit]
    flags = {c: (False, False, False) for c in columns}
    if hits:
        row = frame.select(
            pl.col(c).str.contains(mark, literal=True).any().alias(f"{i}.{j}")
            for i, c in enumerate(hits) for j, mark in enumerate(marks)).row(0)
        for i, c in enumerate(hits):
            flags[c] = (bool(row[3 * i]), bool(row[3 * i + 1]), bool(row[3 * i + 2]))
    return flags


def _halfwidth(text: pl.Expr) -> pl.Expr:
    return text.str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values()))


def parse_money(text: pl.Expr) -> pl.Expr:
    """``¥1,299.00``, ``￥ 12``, ``１２.５``, ``USD 3.50`` -> Decimal(18, 2).
    More than two decimal places (other than trailing zeros) is an error, not a rounding."""
    plain = _halfwidth(text).str.replace_all(r"[¥￥$€£,\s]|^(?:RMB|CNY|USD|EUR|GBP|元)|元$", "")
    # A test without a capture group runs on the regex engine's fastest path, twice as fast
    # as an extract; trailing zeros past the cents are exact, so to_decimal may round them.
    amount = pl.when(plain.str.contains(MONEY_TEXT)).then(plain)
    return amount.str.to_decimal(scale=2).cast(MONEY, strict=False)


def parse_integer(text: pl.Expr) -> pl.Expr:
    """``3``, ``3.0`` (spreadsheets), ``1,000``, ``３`` -> Int64; ``2.5`` -> null."""
    plain = _halfwidth(text).str.replace_all(r"[,\s]", "").str.replace(r"\.0*$", "")
    return plain.str.extract(r"^([+-]?\d{1,18})$", 1).cast(pl.Int64, strict=False)


def parse_instant(text: pl.Expr, formats: tuple[str, ...], timezone: str) -> pl.Expr:
    """Local timestamps are read in ``timezone``; ones with an offset (``%z``) keep it.
    Both end as UTC. A local time that does not exist (DST gap) is an error."""
    text = text.str.replace(r"Z$", "+00:00")
    attempts = []
    for fmt in formats or DEFAULT_DATETIME_FORMATS:
        if "%z" in fmt:
            parsed = text.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, exact=True)
        else:
            local = text.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True)
            parsed = local.dt.replace_time_zone(timezone, ambiguous="earliest",
                                                non_existent="null")
        attempts.append(parsed.dt.convert_time_zone("UTC").cast(INSTANT))
    return pl.coalesce(attempts)


def parse_date(text: pl.Expr, formats: tuple[str, ...]) -> pl.Expr:
    # Spreadsheets give dates as "2024-05-01 00:00:00": a midnight time is dropped first.
    text = text.str.replace(r"[ T]00:00(:00(\.0+)?)?$", "")
    attempts = [text.str.strptime(pl.Date, fmt, strict=False, exact=True)
                for fmt in formats or DEFAULT_DATE_FORMATS]
    return pl.coalesce(attempts)


EXCEL_EPOCH = (1899, 12, 30)  # serial 1 is 1900-01-01 (Excel counts 1900-02-29, so 30th)
SERIAL = r"^\d{5}(?:\.\d+)?$"  # 10000..99999: 1927-05-18..2173-10-14, no 8-digit yyyymmdd
ISO_CELL = "%Y-%m-%d %H:%M:%S"  # how calamine writes a cell formatted as a date


def parse_spreadsheet_date(text: pl.Expr, kind: str, timezone: str) -> pl.Expr:
    """What a spreadsheet makes of a date whatever the channel's formats: a date cell read as
    text (``2024-11-16 00:00:00``), or a date stored as a number, its serial (``45612`` is
    2024-11-16, ``45612.5`` noon), read in ``timezone``."""
    serial = pl.when(text.str.contains(SERIAL)).then(text.cast(pl.Float64, strict=False))
    days = serial.floor().cast(pl.Int64)
    epoch = pl.datetime(*EXCEL_EPOCH)
    if kind == "date":
        from_serial = (epoch + pl.duration(days=days)).dt.date()
        return pl.coalesce(parse_date(text, (ISO_CELL, "%Y-%m-%d")), from_serial)
    millis = (serial * 86_400_000).round(0).cast(pl.Int64)
    local = (epoch + pl.duration(milliseconds=millis)).cast(pl.Datetime("us"))
    from_serial = local.dt.replace_time_zone(timezone, ambiguous="earliest",
                                             non_existent="null").dt.convert_time_zone("UTC")
    return pl.coalesce(parse_instant(text, (ISO_CELL, "%Y-%m-%d"), timezone),
                       from_serial.cast(INSTANT))


def parse_phone(text: pl.Expr, region: str | None,
                country: pl.Expr | None = None) -> pl.Expr:
    """To E.164. International forms (``+86 138...``, ``0086138...``) keep their country code;
    national forms get the code of ``country`` (the row's ISO country, when given) or, where
    the row has no country or is in ``region``, of ``region``, after the trunk prefix is
    dropped.
    Each step reads the step before once: polars evaluates an expression used twice twice,
    and the cleaning was a phone number's main cost when every branch repeated it."""
    plain = _halfwidth(text).str.replace_all(r"[\s\-().]|ext.*$", "")
    numbers = plain.str.replace(r"^(?:\+|00)", "+")  # international forms: +<digits>
    if country is None:
        return _e164(_national(numbers, region) if region else numbers)
    # Each region's rule only where the row is in that region; a row in another country
    # (one without rules here) is not read as the default region's: a wrong number is worse
    # than none.
    branches = [pl.when(numbers.str.starts_with("+")).then(numbers)]
    branches += [pl.when(country == name).then(_national(numbers, name))
                 for name in PHONE_REGIONS if name != region]
    if region is not None:
        branches.append(pl.when(country.is_null() | (country == region)).then(
            _national(numbers, region)))
    return _e164(pl.coalesce(branches))


def phones_by_library(text: pl.Series, region: pl.Series) -> pl.Series:
    """Phone numbers the fast rules above could not read, read with libphonenumber's metadata
    (the ``phonenumbers`` library: every region's forms, kept up to date upstream): ``text``
    in the row's ``region`` (ISO code, or null: then only international forms read). Python
    runs once per distinct (number, region), not per row: exports repeat a buyer's number
    on each of their lines, and only the numbers the fast path missed come here. The E.164
    form of a valid number, else null."""
    pairs = pl.DataFrame({"t": text, "r": region}, schema={"t": pl.String, "r": pl.String})
    distinct = pairs.filter(pl.col("t").is_not_null()).unique()
    if not distinct.height:
        return pl.Series(text.name, [None] * len(text), dtype=pl.String)
    found = distinct.with_columns(pl.struct("t", "r").map_elements(
        _library_e164, return_dtype=pl.String).alias("e"))
    return pairs.join(found, on=["t", "r"], how="left", nulls_equal=True,
                      maintain_order="left")["e"].alias(text.name)


@cache
def _phonenumbers() -> Any:
    import phonenumbers  # (its metadata takes 0.1 s to load: only when a number needs it)

    return phonenumbers


def _library_e164(pair: dict[str, str | None]) -> str | None:
    library = _phonenumbers()
    text, region = pair["t"], pair["r"]
    if text is None:
        return None
    try:
        number = library.parse(text, region)
    except library.NumberParseException:
        return None
    if not library.is_valid_number(number):
        return None
    e164: str = library.format_number(number, library.PhoneNumberFormat.E164)
    return e164


def _national(numbers: pl.Expr, region: str) -> pl.Expr:
    """A national number of ``region`` (with or without its trunk prefix, or already
    prefixed by the bare country code) as ``+<code><number>``; anything else as it was.
    The forms are tried in order, so a number the rule reads as it is keeps a leading
    digit that looks like a trunk prefix. Tests without capture groups, not one regex
    replace with groups: the regex engine's fast path, twice as fast."""
    code, trunk, rule = PHONE_REGIONS[region]
    national = pl.when(numbers.str.contains(f"^{code}(?:{rule})$")).then(
        pl.lit("+") + numbers).when(numbers.str.contains(f"^(?:{rule})$")).then(
        pl.lit(f"+{code}") + numbers)
    if trunk:
        national = national.when(numbers.str.contains(f"^{trunk}(?:{rule})$")).then(
            pl.lit(f"+{code}") + numbers.str.slice(len(trunk)))
    return national.otherwise(numbers)


def _e164(number: pl.Expr) -> pl.Expr:
    """The number where it is E.164, else null (an extract reads it once; a test and then
    the value would read it twice)."""
    return number.str.extract(f"^({E164_NUMBER})$", 1)


def parse_email(text: pl.Expr) -> pl.Expr:
    lowered = text.str.to_lowercase()
    return pl.when(lowered.str.contains(EMAIL)).then(lowered)


def parse_country(text: pl.Expr) -> pl.Expr:
    """Any common name or code (``U.S.``, ``United States``, ``中国``, ``Deutschland``) to
    ISO 3166-1 alpha-2; the text is keyed as ``vocab.country_key`` keys it."""
    key = text.str.to_uppercase().str.replace_all(r"\.", "").str.replace_all(r"\s+", " ") \
        .str.strip_chars()
    return key.replace_strict(vocab.countries(), default=None, return_dtype=pl.String)


def parse_currency(text: pl.Expr) -> pl.Expr:
    """An ISO 4217 code, name or symbol ordermill knows; or a name written beside its code,
    as Chinese ERPs do (``人民币CNY``, ``美元 USD``): the code."""
    upper = text.str.to_uppercase()
    known = vocab.currencies()
    code = upper.str.extract(r"^[^A-Z]*([A-Z]{3})[^A-Z]*$", 1)
    return pl.coalesce(upper.replace_strict(known, default=None, return_dtype=pl.String),
                       code.replace_strict(known, default=None, return_dtype=pl.String))


def parse_status(text: pl.Expr) -> pl.Expr:
    """The mapping's ``[values.order_status]`` runs first; what is left must already be one of
    the standard statuses (in any letter case)."""
    lowered = text.str.to_lowercase()
    return pl.when(lowered.is_in(ORDER_STATUSES)).then(lowered)


def parser_for(field: str, formats: tuple[str, ...], timezone: str,
               phone_region: str | None,
               country: pl.Expr | None = None) -> Callable[[pl.Expr], pl.Expr]:
    """The parse rule of a standard field (text fields: the cleaned text as it is);
    ``country``: the row's ISO country, for national phone numbers."""
    kind = field_kind(field)
    parsers: dict[str, Callable[[pl.Expr], pl.Expr]] = {
        "money": parse_money,
        "integer": parse_integer,
        "instant": lambda t: parse_instant(t, formats, timezone),
        "date": lambda t: parse_date(t, formats),
        "phone": lambda t: parse_phone(t, phone_region, country),
        "email": parse_email,
        "country": parse_country,
        "currency": parse_currency,
        "status": parse_status,
        "text": lambda t: t,
    }
    return parsers[kind]

