"""Line hashing: the key names a line, the content hash tells any change, the field hashes
say which fields changed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from ingest.dedupe import CONTENT_FIELDS, hash_lines
from ingest.schema import field_names, polars_schema

SCHEMA = {n: polars_schema()[n] for n in field_names()}


def line(**changes: object) -> pl.DataFrame:
    row: dict[str, object] = dict.fromkeys(field_names())
    row.update(batch_id="b", channel="tmall", source="x.csv", source_row=2, order_id="0012",
               line_no=1, ordered_at=datetime(2024, 11, 11, tzinfo=UTC), order_status="paid",
               currency="CNY", sku="LJ-250", quantity=2, unit_price=Decimal("19.99"),
               discount_amount=Decimal("0.00"), line_total=Decimal("39.98"))
    row.update(changes)
    return pl.DataFrame([row], schema=SCHEMA)


@pytest.mark.parametrize("field", ["order_status", "ship_address", "quantity", "unit_price",
                                   "paid_at", "buyer_message", "promotion_id"])
def test_one_changed_field_changes_the_content_and_names_itself(field: str) -> None:
    value = {"order_status": "shipped", "ship_address": "文三路100号", "quantity": 3,
             "unit_price": Decimal("19.98"), "paid_at": datetime(2024, 11, 12, tzinfo=UTC),
             "buyer_message": "周五前发货", "promotion_id": "ZP-1"}[field]
    before, after = hash_lines(line(), {}), hash_lines(line(**{field: value}), {})
    assert before["key_hi"][0] == after["key_hi"][0] and before["key_lo"][0] == after["key_lo"][0]
    assert before["content"][0] != after["content"][0]
    changed = [f for f in CONTENT_FIELDS if before[f"fh_{f}"][0] != after[f"fh_{f}"][0]]
    assert changed == [field]


def test_lineage_is_not_content() -> None:
    a = hash_lines(line(), {})
    b = hash_lines(line(source="other.csv", source_row=9, batch_id="c"), {})
    assert a["content"][0] == b["content"][0]


def test_empty_and_missing_differ() -> None:
    assert hash_lines(line(buyer_message=""), {})["content"][0] != hash_lines(
        line(), {})["content"][0]


def test_key_scope_joins_channels() -> None:
    mail = hash_lines(line(channel="email-po"), {"email-po": "po", "fax-po": "po"})
    fax = hash_lines(line(channel="fax-po"), {"email-po": "po", "fax-po": "po"})
    alone = hash_lines(line(channel="fax-po"), {})
    assert mail["key_hi"][0] == fax["key_hi"][0]
    assert alone["key_hi"][0] != mail["key_hi"][0]
