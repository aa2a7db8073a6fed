"""Broken mapping files fail with the file, the key, what is wrong and a fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import MAPPINGS

from ingest.errors import MappingError
from ingest.mapping.loader import load_mapping, load_mappings, parse_mapping


def tmall() -> dict[str, Any]:
    return tomllib.loads((MAPPINGS / "tmall.toml").read_text(encoding="utf-8"))


def problem(data: dict[str, Any]) -> str:
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, "m.toml")
    return str(caught.value)


def test_bundled_mappings_load() -> None:
    channels = sorted({m.channel for m in load_mappings(MAPPINGS)})
    assert channels == ["1688", "amazon", "douyin", "ebay", "jd", "pinduoduo", "po-acme",
                        "po-huaxin", "po-scan", "shopify", "tmall", "woocommerce"]
    layouts = {m.name: m.layout for m in load_mappings(MAPPINGS)
               if m.channel in ("jd", "1688", "pinduoduo", "douyin")}
    assert layouts == {"jd": "2016", "jd-2018": "2018", "1688": "2025", "1688-core31": "core31",
                       "pinduoduo-pre2020": "pre2020", "pinduoduo": "2020",
                       "pinduoduo-2023": "2023", "pinduoduo-2026": "2026", "douyin": "2023",
                       "douyin-2025": "2025"}


def test_field_typo_suggests_the_nearest_field() -> None:
    data = tmall()
    data["fields"]["buyer_mesage"] = data["fields"].pop("buyer_message")
    assert problem(data) == ("m.toml: fields.buyer_mesage: is not a field of the standard "
                             "schema (did you mean 'buyer_message'?)")


def test_unknown_top_level_key_suggests() -> None:
    data = tmall()
    data["feilds"] = data.pop("fields")
    assert "m.toml: feilds: unknown key (did you mean 'fields'?)" in problem(data)


def test_unknown_rule_key_lists_the_allowed_ones() -> None:
    data = tmall()
    data["fields"]["ship_postcode"] = {"column": "收货地址", "extrac": "x"}
    message = problem(data)
    assert "fields.ship_postcode.extrac: unknown key (did you mean 'extract'?)" in message
    assert "allowed: column, first, join" in message


def test_required_field_left_unmapped() -> None:
    data = tmall()
    del data["fields"]["ordered_at"]
    assert "required field 'ordered_at' is not mapped" in problem(data)


def test_status_value_outside_the_vocabulary() -> None:
    data = tmall()
    data["values"]["order_status"]["交易成功"] = "complete"
    message = problem(data)
    assert "values.order_status.'交易成功'" in message
    assert "'complete' is not a status (did you mean 'completed'?)" in message


def test_bad_regex_timezone_region_and_encoding() -> None:
    data = tmall()
    data["fields"]["ship_postcode"] = {"column": "收货地址", "extract": "(unclosed"}
    assert "fields.ship_postcode.extract: is not a valid regular expression" in problem(data)
    data = tmall()
    data["parse"]["timezone"] = "Asia/Beijing"
    assert "parse.timezone: unknown time zone 'Asia/Beijing'" in problem(data)
    data = tmall()
    data["parse"]["phone_region"] = "XX"
    assert "parse.phone_region: unknown region 'XX'" in problem(data)
    data = tmall()
    data["reader"]["encoding"] = "gb1803"
    assert "reader.encoding: unknown encoding 'gb1803' (did you mean 'gb18030'?)" in problem(data)


def test_field_both_mapped_and_constant() -> None:
    data = tmall()
    data["constants"]["order_id"] = "x"
    assert "is set both here and in [constants]" in problem(data)


def test_rule_needs_exactly_one_source() -> None:
    data = tmall()
    data["fields"]["sku"] = {"column": "商家编码", "first": ["a"]}
    assert "fields.sku: needs exactly one of: column, first, join, cases" in problem(data)


def test_channel_missing_or_invalid() -> None:
    data = tmall()
    data["channel"] = "Tmall Store"
    assert "channel: is required: a short lower-case name" in problem(data)


def test_invalid_toml_and_duplicate_channels(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("channel = 'x\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"bad\.toml: is not valid TOML"):
        load_mapping(bad)
    twins = tmp_path / "twins"
    twins.mkdir()
    for name in ("a.toml", "b.toml"):
        (twins / name).write_text((MAPPINGS / "tmall.toml").read_text(encoding="utf-8"),
                                  encoding="utf-8")
    with pytest.raises(MappingError, match="channel 'tmall', layout 'default' is also read by"):
        load_mappings(twins)


def test_empty_mappings_directory(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="holds no mapping files"):
        load_mappings(tmp_path)


def test_split_part_rules_are_checked() -> None:
    data = tmall()
    data["fields"]["ship_city"] = {"column": "收货地址", "part": 1}
    assert "fields.ship_city.part: needs split" in problem(data)
    data["fields"]["ship_city"] = {"column": "收货地址", "split": " ", "part": "x"}
    assert "must be a 0-based part number or \"N:\"" in problem(data)


def _with(**extra: object) -> dict[str, object]:
    fields = {"order_id": "No", "ordered_at": "At", "order_status": "St", "currency": "Cur",
              "quantity": "Qty", "unit_price": "Price"}
    data: dict[str, object] = {"channel": "x", "detect": {"header_contains": ["No"]},
                               "fields": fields}
    for key, value in extra.items():
        if key == "fields":
            fields.update(value)  # type: ignore[call-overload]
        else:
            data[key] = value
    return data


def test_per_and_minus_are_checked() -> None:
    good = parse_mapping(_with(fields={"unit_price": {"column": "Amount", "per": "quantity"},
                                       "line_total": "Total",
                                       "discount_amount": {"column": "Sub",
                                                           "minus": "line_total"}}), "m.toml")
    assert good.fields["unit_price"].per == "quantity"
    assert good.fields["discount_amount"].minus == "line_total"
    with pytest.raises(MappingError, match=r"fields\.unit_price\.per: must name another "
                       r"integer field.*did you mean 'quantity'"):
        parse_mapping(_with(fields={"unit_price": {"column": "A", "per": "quantity_"}}), "m")
    with pytest.raises(MappingError, match=r"fields\.sku\.minus: works on amounts of money"):
        parse_mapping(_with(fields={"sku": {"column": "A", "minus": "unit_price"}}), "m")


def test_order_options_need_the_order_key() -> None:
    mapping = parse_mapping(_with(orders={"key": "No", "summary_when_empty": "Item",
                                          "sum": ["Ship"]}), "m.toml")
    assert mapping.summary_when_empty == "Item" and mapping.order_sums == ("Ship",)
    assert {"Item", "Ship"} <= mapping.used_columns
    with pytest.raises(MappingError, match=r"orders\.sum: needs key"):
        parse_mapping(_with(orders={"sum": ["Ship"]}), "m.toml")


def test_phone_region_from_country_must_be_a_boolean() -> None:
    with pytest.raises(MappingError, match="phone_region_from_country: must be true or false"):
        parse_mapping(_with(parse={"phone_region_from_country": "yes"}), "m.toml")
