"""Closed vocabularies: ISO 3166-1 countries and ISO 4217 currencies, with common aliases.

Built once from pycountry's ISO data (kept current by its maintainers, so we do not copy
the tables ourselves) plus the Chinese and colloquial names our channels use. Keys are upper
case; values are the ISO codes.
"""

from __future__ import annotations

from functools import cache

import pycountry

COUNTRY_ALIASES = {
    "中国": "CN", "中国大陆": "CN", "中华人民共和国": "CN", "PRC": "CN", "MAINLAND CHINA": "CN",
    "中国香港": "HK", "香港": "HK", "中国澳门": "MO", "澳门": "MO", "中国台湾": "TW", "台湾": "TW",
    "TAIWAN": "TW", "美国": "US", "USA": "US", "U.S.A.": "US", "U.S.": "US",
    "UNITED STATES": "US", "AMERICA": "US", "英国": "GB", "UK": "GB", "U.K.": "GB",
    "GREAT BRITAIN": "GB", "ENGLAND": "GB", "日本": "JP", "韩国": "KR", "SOUTH KOREA": "KR",
    "KOREA": "KR", "德国": "DE", "法国": "FR", "加拿大": "CA", "澳大利亚": "AU", "新加坡": "SG",
    "RUSSIA": "RU", "俄罗斯": "RU", "VIETNAM": "VN", "越南": "VN", "泰国": "TH", "马来西亚": "MY",
    "印度": "IN", "意大利": "IT", "西班牙": "ES", "荷兰": "NL", "新西兰": "NZ", "巴西": "BR",
    "墨西哥": "MX", "IRAN": "IR", "SYRIA": "SY", "BOLIVIA": "BO", "VENEZUELA": "VE",
    "TANZANIA": "TZ", "MOLDOVA": "MD", "LAOS": "LA", "CZECH REPUBLIC": "CZ", "TURKEY": "TR",
}
CURRENCY_ALIASES = {
    "RMB": "CNY", "人民币": "CNY", "元": "CNY", "美元": "USD", "US$": "USD", "欧元": "EUR",
    "英镑": "GBP", "日元": "JPY", "港币": "HKD", "港元": "HKD", "新台币": "TWD",
}


@cache
def countries() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names = [code, country.alpha_3, country.name]
        names += [getattr(country, a, "") for a in ("official_name", "common_name")]
        for name in names:
            if name:
                table[name.upper()] = code
    table.update(COUNTRY_ALIASES)
    return table


@cache
def currencies() -> dict[str, str]:
    table = {currency.alpha_3.upper(): currency.alpha_3 for currency in pycountry.currencies}
    table.update(CURRENCY_ALIASES)
    return table
