"""Mapping tools, beside the flow: column names matched to fields through ``synonyms.toml``."""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingest.schema import mappable_fields

SYNONYMS = Path(__file__).with_name("synonyms.toml")
FUZZY_CUTOFF = 0.8  # below this, two names are different names
_NOT_WORD = re.compile(r"[\W_]+")


_UNIT = re.compile(r"\s*\((?!\d+\))[^()]{1,8}\)\s*$")  # "单价(元)", "Weight (kg)"


_SECTION = re.compile(r"^\s*\((?!\d+\))[^()]{1,12}\)\s*(?=\S)")  # "(订单明细)数量"
_ERP_PART = re.compile(r"#(编码|名称|code|name)$", re.IGNORECASE)  # Kingdee "客户#名称"


def normalise(name: str) -> str:
    """Full-width to half-width, case folded, a trailing unit in brackets, spaces and
    punctuation dropped: "Order ID", "order_id", "ＯＲＤＥＲ－ＩＤ" all become "orderid", and
    "单价(元)" is "单价". ERP import labels too: a leading section in brackets and a
    required/unused mark go ("(订单明细)数量(*)" is "数量"), and a "#编码"/"#名称" part
    names the code or the name ("客户#名称" is "客户名称", "商品编码#名称" is "商品名称")."""
    text = unicodedata.normalize("NFKC", name)
    text = _UNIT.sub("", text) or text
    text = _SECTION.sub("", text) or text
    part = _ERP_PART.search(text)
    if part is not None:
        base, kind = text[:part.start()], part.group(1).casefold()
        if kind in ("编码", "名称") and base.endswith("编码"):
            base = base[:-2]
        text = base + kind
    return _NOT_WORD.sub("", text.casefold())


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@dataclass(frozen=True)
class Synonyms:
    fields: dict[str, tuple[str, ...]]  # field -> names (as written)
    status_dates: dict[str, tuple[str, ...]]  # status -> names of date columns
    statuses: dict[str, tuple[str, ...]]  # status -> words in status values, in order


@cache
def synonyms(path: Path = SYNONYMS) -> Synonyms:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    known = set(mappable_fields())
    # Names for fields the schema does not have (yet) are skipped, not an error.
    fields = {f: tuple(names) for f, names in data.get("fields", {}).items() if f in known}
    return Synonyms(
        fields=fields,
        status_dates={k: tuple(v) for k, v in data.get("status_dates", {}).items()},
        statuses={k: tuple(v) for k, v in data.get("statuses", {}).items()},
    )


@dataclass(frozen=True)
class NameMatch:
    field: str
    score: float  # 1.0: a listed name; less: how close to the nearest listed name
    via: str  # the listed name it matched


def name_matches(column: str, table: dict[str, tuple[str, ...]] | None = None
                 ) -> list[NameMatch]:
    """Every field the column's name may stand for, best first."""
    table = table if table is not None else synonyms().fields
    key = normalise(column)
    if not key:
        return []
    # "Ship To Address 2" is the second line of a "Ship To Address".
    unnumbered = key.rstrip("0123456789") or key
    role = _role(key)
    best: dict[str, NameMatch] = {}
    for field, names in table.items():
        if role and _role(field.replace("_", "")) not in (None, role):
            continue  # a buyer's column is never the recipient's field, and the reverse
        for rank, name in enumerate(names):
            other = normalise(name)
            if not other:
                continue
            if other == key:
                # The names listed first are the field's most usual: they win a tie.
                score = 1.0 - rank / 1000
            elif other == unnumbered:
                score = 1.0 - rank / 1000 - 0.0005
            else:
                score = _closeness(key, other)
            if score and score > (best[field].score if field in best else 0.0):
                best[field] = NameMatch(field, score, name)
    return sorted(best.values(), key=lambda m: m.score, reverse=True)


ROLES = {"buyer": ("buyer", "billing", "billto", "买家"),
         "ship": ("ship", "recipient", "收货", "收件", "delivery", "consignee")}


def _role(key: str) -> str | None:
    """Whose column it is by its name: the buyer's or the recipient's (None: not said)."""
    for role, words in ROLES.items():
        if any(key.startswith(w) for w in words):
            return role
    return None


SHARED_PREFIXES = ("shipping", "shipto", "ship", "billing", "buyer", "recipient", "delivery",
                   "customer", "order", "item", "收货", "买家", "商品", "订单")


def _closeness(key: str, other: str) -> float:
    """Fuzzy similarity, scaled below an exact match. A listed name inside a longer column
    name ("Shipping Address Line" holds "Shipping Address") counts by how much it covers.
    A prefix both names share says nothing of their likeness: "Shipping Street" is not
    "Shipping District", so the rest of each name is compared."""
    matcher = difflib.SequenceMatcher(None, *_unprefixed(key, other), autojunk=False)
    score = 0.0
    # Cheap upper bounds first: most pairs of names are nothing alike.
    if (min(len(key), len(other)) >= 4 and matcher.real_quick_ratio() >= FUZZY_CUTOFF
            and matcher.quick_ratio() >= FUZZY_CUTOFF):
        ratio = matcher.ratio()
        score = 0.9 * ratio if ratio >= FUZZY_CUTOFF else 0.0
    shortest = 3 if has_cjk(other) else 5
    if len(other) >= shortest and other in key:
        score = max(score, 0.4 + 0.5 * len(other) / len(key))
    return score


def _unprefixed(key: str, other: str) -> tuple[str, str]:
    for prefix in SHARED_PREFIXES:
        if key.startswith(prefix) and other.startswith(prefix) and \
                len(key) > len(prefix) and len(other) > len(prefix):
            return key[len(prefix):], other[len(prefix):]
    return key, other
