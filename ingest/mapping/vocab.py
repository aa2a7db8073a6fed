"""Mapping, the fourth stage: ISO 3166-1 countries and ISO 4217 currencies, with aliases.

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
    # Names buyers type in their own language (addresses on marketplaces that ship abroad)
    "DEUTSCHLAND": "DE", "ÖSTERREICH": "AT", "SCHWEIZ": "CH", "SUISSE": "CH", "ESPAÑA": "ES",
    "ITALIA": "IT", "NEDERLAND": "NL", "BELGIË": "BE", "BELGIQUE": "BE", "POLSKA": "PL",
    "SVERIGE": "SE", "NORGE": "NO", "DANMARK": "DK", "SUOMI": "FI", "ÉIRE": "IE",
    "NIPPON": "JP", "日本国": "JP", "대한민국": "KR", "BRASIL": "BR", "MÉXICO": "MX",
    "UNITED STATES OF AMERICA": "US", "THE UNITED STATES": "US", "UNITED KINGDOM": "GB",
    "SCOTLAND": "GB", "WALES": "GB", "NORTHERN IRELAND": "GB", "HOLLAND": "NL",
    # More Chinese names
    "奥地利": "AT", "瑞士": "CH", "比利时": "BE", "波兰": "PL", "瑞典": "SE", "挪威": "NO",
    "丹麦": "DK", "芬兰": "FI", "爱尔兰": "IE", "葡萄牙": "PT", "希腊": "GR", "土耳其": "TR",
    "以色列": "IL", "阿联酋": "AE", "阿拉伯联合酋长国": "AE", "沙特阿拉伯": "SA",
    "印度尼西亚": "ID", "印尼": "ID", "菲律宾": "PH", "南非": "ZA", "阿根廷": "AR", "智利": "CL",
    "美利坚合众国": "US",    "大不列颠及北爱尔兰联合王国": "GB", "大韩民国": "KR", "中国内地": "CN",
}
CURRENCY_ALIASES = {
    "RMB": "CNY", "人民币": "CNY", "元": "CNY", "美元": "USD", "US$": "USD", "欧元": "EUR",
    "英镑": "GBP", "日元": "JPY", "港币": "HKD", "港元": "HKD", "新台币": "TWD",
}


def country_key(name: str) -> str:
    """How a country's name is looked up: upper case, no dots, single spaces (so ``U.S.``,
    ``u.s`` and ``US`` are one key). ``parsers.parse_country`` keys values the same way."""
    return " ".join(name.upper().replace(".", "").split())


@cache
def countries() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names = [code, country.alpha_3, country.name]
        names += [getattr(country, a, "") for a in ("official_name", "common_name")]
        for name in names:
            if name:
                table[country_key(name)] = code
    table.update({country_key(name): code for name, code in COUNTRY_ALIASES.items()})
    return table


@cache
def currencies() -> dict[str, str]:
    table = {currency.alpha_3.upper(): currency.alpha_3 for currency in pycountry.currencies}
    table.update(CURRENCY_ALIASES)
    return table
