"""Mapping tools, beside the flow: which source column feeds which standard field.

Candidates from the column names (through the synonyms table) and the shapes of their
values, each with a confidence and its reason, assigned most confident first."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.schema import field_kind
from ingest.tools.names import name_matches, normalise, synonyms
from ingest.tools.shapes import ENOUGH, Shape

MIN_CONFIDENCE = 0.55
ID_FIELDS = ("order_id", "sku", "buyer_id", "promotion_id", "hs_code", "ship_postcode")
# Fields that may read the first non-empty of several columns (a mobile, else a landline).
FIRST_OF = ("ship_phone", "buyer_phone")
CN_SPLIT = {"ship_province": 0, "ship_city": 1, "ship_district": 2}


@dataclass(frozen=True)
class Guess:
    field: str
    columns: tuple[str, ...]
    confidence: float
    why: str
    how: str = "column"  # column | first | join | split | extract | cases
    options: tuple[tuple[str, object], ...] = ()  # split/part/remove/extract/cases


@dataclass(frozen=True)
class Candidate:
    column: str
    field: str
    confidence: float
    why: str


def fits(name: str, shape: Shape) -> bool | None:
    """Whether the values look like the field's; None when the sample has no values."""
    if not shape.filled:
        return None
    kind = field_kind(name)
    plain_text = shape.dates < 0.5 and shape.money_marked < 0.5
    checks: dict[str, bool] = {
        "money": shape.money >= ENOUGH,
        "integer": shape.small_integer >= ENOUGH,
        "instant": shape.dates >= ENOUGH,
        "date": shape.dates >= ENOUGH,
        "phone": shape.phone >= 0.7,
        "email": shape.email >= 0.8,
        "country": shape.country >= 0.8,
        "currency": shape.currency >= ENOUGH,
        "status": plain_text and shape.distinct <= 40 and shape.integer < 0.5,
    }
    if kind in checks:
        return checks[kind]
    if name in ID_FIELDS:
        return plain_text
    return plain_text and shape.integer < ENOUGH and shape.email < 0.5


def candidates(header: list[str], shapes: dict[str, Shape]) -> list[Candidate]:
    found: list[Candidate] = []
    for column in header:
        shape = shapes[column]
        named = set()
        for match in name_matches(column):
            fit = fits(match.field, shape)
            if fit is True:
                confidence, verdict = match.score * 0.9 + 0.07, "values fit"
            elif fit is None:
                confidence, verdict = match.score * 0.8, "no values in the sample"
            else:
                confidence, verdict = match.score * 0.35, "values do not fit"
            how = "is" if match.score >= 0.97 else f"is close to ({match.score:.0%})"
            found.append(Candidate(column, match.field, confidence,
                                    f"name {how} {match.via!r}; {verdict}"))
            named.add(match.field)
        # Values alone, when the name says nothing: weaker, but they rarely lie.
        for name, share in (("buyer_email", shape.email), ("currency", shape.currency),
                            ("ship_country", shape.country)):
            if name not in named and share >= ENOUGH and name in synonyms().fields \
                    and _cased(shape):
                found.append(Candidate(column, name, 0.56, f"values look like {name} "
                                        f"({share:.0%}), name not known"))
    return sorted(found, key=lambda c: c.confidence, reverse=True)


def _cased(shape: Shape) -> bool:
    """Codes and addresses are written in capitals or title case; "no" and "yes" (which
    read as Norway and Yemen's code) are not."""
    return bool(shape.filled) and all(e[:1].isupper() or not e[:1].isalpha()
                                      for e in shape.examples)


def assign(guesses: dict[str, Guess], passed_over: list[str],
           candidates: list[Candidate]) -> None:
    """Most confident first; a column feeds one field and a field reads one column, except
    the numbered lines of an address (joined) and a second phone column (first of)."""
    taken: dict[str, str] = {}
    for cand in candidates:
        if cand.confidence < MIN_CONFIDENCE:
            continue
        if cand.column in taken:
            if taken[cand.column] != cand.field:
                passed_over.append(
                    f"{cand.column!r} also looked like {cand.field} ({cand.confidence:.0%}: "
                    f"{cand.why}); kept as {taken[cand.column]}")
            continue
        have = guesses.get(cand.field)
        if have is None:
            guesses[cand.field] = Guess(cand.field, (cand.column,), cand.confidence,
                                               cand.why)
            taken[cand.column] = cand.field
        elif _numbered_line(have, cand):
            guesses[cand.field] = Guess(
                cand.field, tuple(sorted((*have.columns, cand.column), key=_line_number)),
                min(have.confidence, cand.confidence),
                have.why.removesuffix(" (address lines joined)") + " (address lines joined)",
                how="join", options=(("separator", ", "),))
            taken[cand.column] = cand.field
        elif cand.field in FIRST_OF and cand.confidence >= 0.9 and have.how == "column":
            guesses[cand.field] = Guess(
                cand.field, (*have.columns, cand.column), min(have.confidence,
                                                              cand.confidence),
                have.why + f"; {cand.column!r} when it is empty", how="first")
            taken[cand.column] = cand.field
        else:
            passed_over.append(
                f"{cand.column!r} also looked like {cand.field} ({cand.confidence:.0%}: "
                f"{cand.why}); {have.columns[0]!r} fits better")


def _line_number(column: str) -> int:
    digits = re.search(r"(\d+)\s*$", column)
    return int(digits.group(1)) if digits else 0


def _numbered_line(have: Guess, cand: Candidate) -> bool:
    """"Ship To Address 2" beside "Ship To Address 1": lines of one address."""
    if have.field != "ship_address" or have.how not in ("column", "join"):
        return False
    base = normalise(cand.column).rstrip("0123456789")
    return all(normalise(c).rstrip("0123456789") == base for c in have.columns) and \
        normalise(cand.column) != base


def addresses(guesses: dict[str, Guess], shapes: dict[str, Shape]) -> None:
    """One Chinese address column "省 市 区 street(postcode)" feeds province, city,
    district, street and postcode, as the Tmall mapping does: a deliberate split."""
    address = guesses.get("ship_address")
    if address is None or address.how != "column":
        return
    column = address.columns[0]
    shape = shapes[column]
    if shape.cn_address < 0.8:
        return
    why = f"values read \"province city district street\" ({shape.cn_address:.0%})"
    for name, part in CN_SPLIT.items():
        if name not in guesses:
            guesses[name] = Guess(name, (column,), 0.8, why, how="split",
                                         options=(("split", " "), ("part", part)))
    remove = r"\s*[(（]\d{6}[)）]\s*$"
    guesses["ship_address"] = Guess(
        "ship_address", (column,), address.confidence, address.why + "; the street part",
        how="split", options=(("split", " "), ("part", "3:"), ("remove", remove)))
    if "ship_postcode" not in guesses and shape.cn_postcode >= 0.5:
        guesses["ship_postcode"] = Guess(
            "ship_postcode", (column,), 0.8, f"addresses end in a postcode "
            f"({shape.cn_postcode:.0%})", how="extract",
            options=(("extract", r"[(（](\d{6})[)）]\s*$"),))
