"""The schema of record: documented, and guarding the clean output with the same rules."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT

from ingest.schema import (
    FIELDS,
    INSTANT,
    MONEY,
    derived_fields,
    field_kind,
    order_amounts,
    output_columns,
    parse_code,
    polars_schema,
    schema_markdown,
)
from ingest.validate import validate_clean
from ingest.writers.batch import validated_lines as _validated


def test_docs_schema_md_is_current() -> None:
    assert (ROOT / "docs" / "schema.md").read_text(encoding="utf-8") == schema_markdown()


def test_every_field_is_documented() -> None:
    assert {f.name for f in FIELDS if f.doc.strip()} == set(output_columns())


def test_each_field_says_how_it_is_parsed_and_its_type_agrees() -> None:
    typed = {"money": MONEY, "integer": pl.Int64(), "instant": INSTANT, "date": pl.Date()}
    for f in FIELDS:
        if f.kind in typed:
            assert f.dtype == typed[f.kind], f.name
        elif f.kind != "text":  # phones, codes and vocabularies are normalised text
            assert f.dtype == pl.String, f.name
    assert field_kind("unit_price") == "money" and field_kind("sku") == "text"
    assert field_kind("not_a_field") == "text"


def test_parse_codes_follow_the_kind_unless_a_field_says_otherwise() -> None:
    assert parse_code("quantity") == "invalid-quantity"
    assert parse_code("line_no") == "invalid-line-no"
    assert parse_code("paid_at") == parse_code("requested_delivery_date") == "invalid-date"
    assert parse_code("order_status") == "unknown-status"
    assert parse_code("sku") is None and parse_code("not_a_field") is None


def test_derived_fields_and_order_amounts() -> None:
    assert derived_fields() == ("line_no", "discount_amount", "line_total")
    assert order_amounts() == ("order_discount_amount", "shipping_amount", "tax_amount",
                               "order_total")


def test_money_is_decimal_and_ids_are_strings() -> None:
    schema = polars_schema()
    for money in ("unit_price", "discount_amount", "line_total"):
        assert schema[money] == pl.Decimal(18, 2)
    for text in ("order_id", "buyer_id", "sku", "ship_postcode"):
        assert schema[text] == pl.String


def good_line(**changes: object) -> pl.DataFrame:
    row: dict[str, object] = dict.fromkeys(output_columns())
    row["change_type"] = "new"
    row.update(batch_id="b", channel="tmall", source="x.csv", source_row=2, order_id="0012",
               line_no=1, ordered_at=datetime(2024, 11, 11, tzinfo=UTC),
               order_status="paid", currency="CNY", sku="LJ-250", quantity=2,
               unit_price=Decimal("19.99"),
               discount_amount=Decimal("0.00"), line_total=Decimal("39.98"))
    row.update(changes)
    return pl.DataFrame([row], schema=polars_schema())


def test_a_good_line_validates() -> None:
    assert validate_clean(good_line()).height == 1


@pytest.mark.parametrize(("changes", "rule"), [
    ({"quantity": 0}, "non-positive-quantity"),
    ({"line_total": Decimal("40.00")}, "total-mismatch"),
    ({"order_status": "done"}, "unknown-status"),
    ({"ship_phone": "13812345678"}, "invalid-phone"),
    ({"ship_country": "XX"}, "invalid-country"),
])
def test_pandera_applies_the_same_rules_as_the_rejection_pass(
        changes: dict[str, object], rule: str) -> None:
    # The native pass would have rejected these rows; if one slipped through, pandera stops
    # the batch instead of publishing it.
    with pytest.raises(AssertionError, match=rule):
        validate_clean(good_line(**changes))


def test_pandera_catches_a_missing_required_value() -> None:
    with pytest.raises(AssertionError, match="order_id"):
        validate_clean(good_line(order_id=None))


def test_docs_exist_for_readers() -> None:
    # The README opens with the two commands a newcomer runs, each with what it does. They
    # must be real make targets that do that, not just lines in a file: `make -n` prints
    # what a target would run without running it.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    said = {command.strip(): what for command, what in (
        line.split("#", 1) for line in block.splitlines())}
    assert list(said) == ["make demo", "make test"]
    runs = {command.strip(): subprocess.run(
        ["make", "-n", command.split()[1]], cwd=ROOT, capture_output=True, text=True,
        check=True).stdout.splitlines() for command in said}
    demo = next(line for line in runs["make demo"] if "bin/ordermill ingest" in line)
    assert "ordermill ingest samples --out out/demo" in demo  # "the bundled samples"
    assert "into out/demo/" in said["make demo"]
    # "lint (ruff, mypy strict), then run the whole test suite": in that order
    steps = [next((i for i, line in enumerate(runs["make test"]) if word in line), -1)
             for word in ("ruff check", "mypy", "-m pytest")]
    assert -1 not in steps and steps == sorted(steps), runs["make test"]
    assert "ruff" in said["make test"] and "mypy" in said["make test"]


def test_ordermill_starts_without_pandas_and_leaves_it_importable() -> None:
    # pandera would load its pandas half (0.5 s of every start) when pandas is installed,
    # as it is here for the benchmark's reference.
    code = ("import sys, cli, polars as pl; from ingest.schema import polars_schema; "
            "from ingest.validate import order_line_schema, validate_clean; "
            "validate_clean(pl.DataFrame(schema=polars_schema())); "
            "assert 'pandas' not in sys.modules, 'pandas was loaded'; "
            "import pandas; print(order_line_schema().name, pandas.__name__)")
    assert fresh_interpreter(code) == ["OrderLine", "pandas"]


def test_pandera_loads_only_when_a_run_has_files_to_read(tmp_path: Path) -> None:
    # A cron poll that finds nothing, and every --help, do not wait for pandera (0.2 s);
    # a run with files loads it in the background and validates with it.
    (tmp_path / "empty").mkdir()
    code = (
        "import sys, cli\n"
        "from ingest.api import ingest\n"
        "print('pandera' in sys.modules)\n"
        f"report = ingest([{str(tmp_path / 'empty')!r}], {str(tmp_path / 'out')!r}, "
        f"state_dir={str(tmp_path / 's')!r})\n"
        "print('pandera' in sys.modules)\n"
        f"report = ingest([{str(ROOT / 'samples' / 'tmall')!r}], {str(tmp_path / 'out')!r}, "
        f"state_dir={str(tmp_path / 's')!r})\n"
        "print('pandera' in sys.modules, report.manifest['totals']['clean'] > 0)\n")
    assert fresh_interpreter(code) == ["False", "False", "True", "True"]


def fresh_interpreter(code: str) -> list[str]:
    """What ``code`` prints, run in a new Python (nothing imported yet), word by word."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_publish_validates_each_piece_as_it_streams_to_the_writer(tmp_path: Path) -> None:
    parts = [good_line().lazy(), good_line(order_id="0013", source_row=3).lazy()]
    validated = _validated(parts)
    assert validated.collect()["order_id"].to_list() == ["0012", "0013"]
    assert validated.head(1).collect().height == 1
    assert validated.filter(pl.col("source_row") == 3).select("order_id").collect().item() \
        == "0013"
    validated.sink_parquet(tmp_path / "orders.parquet")  # as the parquet writer does
    assert pl.read_parquet(tmp_path / "orders.parquet").height == 2
    with pytest.raises(AssertionError, match="non-positive-quantity"):
        _validated([*parts, good_line(quantity=0).lazy()]).sink_parquet(tmp_path / "bad.pq")


def test_a_pandera_that_needs_pandas_is_loaded_whole() -> None:
    # Should a pandera release not take a missing pandas the way the one pinned does,
    # ordermill still starts (and validates), only slower.
    code = (
        "import sys, importlib.abc\n"
        "class NeedsPandas(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pandera.api.polars.types' and 'pandas' not in sys.modules:\n"
        "            raise ImportError('this pandera needs pandas')\n"
        "sys.meta_path.insert(0, NeedsPandas())\n"
        "import polars as pl\n"
        "from ingest.validate import validate_clean\n"
        "from ingest.schema import polars_schema\n"
        "validate_clean(pl.DataFrame(schema=polars_schema()))\n"
        "print('pandas' in sys.modules)\n")
    assert fresh_interpreter(code) == ["True"]
