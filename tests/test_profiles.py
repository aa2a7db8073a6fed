"""ERP profiles: each bundled profile's files for the bundled samples, its columns against
the ERP's documented template, the json documents read back, updates, missing codes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, SAMPLES, run_cli
from golden import GOLDEN, produce_profiles, profile_outputs

from ingest.api import ingest
from ingest.config import load_settings
from ingest.errors import UsageError
from ingest.writers.profiles import ProfileError, load_profile, profile_files

SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"

# The columns each ERP documents for its sales-order import, from the template its profile
# names (the notes in each profile file say more): a profile may use any of them, no other.
DOCUMENTED: dict[str, tuple[str, set[str]]] = {
    "odoo": (
        "https://github.com/odoo/documentation/blob/18.0/content/applications/essentials/"
        "export_import_data/o2m-quotations-order-lines.csv",
        # the example's header, the `id` external ID columns of the import guide, and the
        # sale.order.line fields Product and Description (name)
        {"Activities", "Company", "Customer", "Order Date", "Order Reference", "Pricelist",
         "Order Lines/Product Template", "Order Lines/Quantity", "Order Lines/Unit Price",
         "Order Lines/Discount (%)", "Order Lines/Taxes", "id", "Order Lines/id",
         "Order Lines/Product", "Order Lines/Description"}),
    "erpnext": (
        "https://docs.frappe.io/framework-git/data-import/data-import",
        {"ID", "Customer", "Date", "Delivery Date", "Currency", "Customer's Purchase Order",
         "Series", "Company", "Order Type", "Item Code (Sales Order Item)",
         "Item Name (Sales Order Item)", "Quantity (Sales Order Item)",
         "Rate (Sales Order Item)", "Delivery Date (Sales Order Item)",
         "ID (Sales Order Item)", "UOM (Sales Order Item)"}),
    "kingdee-k3cloud": (
        "https://qeasy.cloud/solution-strategy/7a7b69ca-392b-36c7-ae9d-c89df7185286",
        {"FBillHead(SAL_SaleOrder)", "FBillTypeID", "FBillNo", "FDate", "FSaleOrgId",
         "FCustId", "FCustId#Name", "FNote", "*Split*1", "FSaleOrderFinance",
         "FSettleCurrId", "*Split*2", "FSaleOrderEntry", "FMaterialId", "FMaterialId#Name",
         "FUnitID", "FQty", "FTaxPrice", "FDeliveryDate"}),
    "sap-b1-dtw": (
        "https://help.sap.com/doc/089315d8d0f8475a9fc84fb919b501a3/10.0/en-US/SDKhelp/"
        "SAPbobsCOM~Document_Lines.html",
        # DI API names (first header row) and ORDR/RDR1 columns (second)
        {"RecordKey", "DocNum", "DocDate", "DocDueDate", "CardCode", "NumAtCard",
         "DocCurrency", "DocCur", "Comments", "ParentKey", "LineNum", "ItemCode",
         "ItemDescription", "Dscription", "Quantity", "Price", "UnitPrice", "PriceBefDi",
         "LineTotal", "Currency", "TaxCode", "WarehouseCode", "WhsCode"}),
    "netsuite": (
        "https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N405613.html",
        {"External ID", "Customer", "Date", "PO #", "Currency", "Memo", "Ship To Country",
         "Item", "Quantity", "Rate", "Amount"}),
    "business-central": (
        "https://learn.microsoft.com/en-us/dynamics365/business-central/application/"
        "base-application/table/microsoft.sales.document.sales-header",
        {"Document Type", "No.", "Sell-to Customer No.", "Order Date",
         "External Document No.", "Currency Code", "Requested Delivery Date", "Document No.",
         "Line No.", "Type", "Description", "Quantity", "Unit Price",
         "Line Discount Amount", "Location Code"}),
    "json": (
        "https://raw.githubusercontent.com/api-evangelist/sap/refs/heads/main/json-structure/"
        "sap-business-one-service-layer-order-structure.json", set()),
}


def test_every_bundled_profile_is_checked_here() -> None:
    assert set(profile_files()) == set(DOCUMENTED)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_columns_are_the_documented_template(name: str) -> None:
    template, documented = DOCUMENTED[name]
    profile = load_profile(profile_files()[name])
    assert profile.template == template
    for spec in profile.files:
        for column in spec.columns:
            for cell in column.header:
                if cell and not cell.startswith(("*(", "(", "单据头", "财务信息", "订单明细")):
                    assert cell in documented, (name, spec.name, cell)


def test_profiles_match_golden(tmp_path: Path) -> None:
    produced = produce_profiles(tmp_path)
    expected = {str(p.relative_to(GOLDEN / "profiles")): p.read_text(encoding="utf-8")
                for p in (GOLDEN / "profiles").rglob("*") if p.is_file()}
    assert sorted(produced) == sorted(expected)
    for name, text in produced.items():
        assert text == expected[name], name


def test_json_documents_read_back_as_the_same_orders(tmp_path: Path) -> None:
    report = ingest([SHOPIFY, SAMPLES / "1688" / "历史订单_2025-11-08.xlsx"], tmp_path / "out",
                    state_dir=tmp_path / "state", output_format="parquet", profiles=["json"])
    assert report.batch_dir is not None
    lines = pl.read_parquet(report.batch_dir / "orders.parquet")
    docs = [json.loads(line) for line in
            (report.batch_dir / "profiles" / "json" / "orders.ndjson").read_text().splitlines()]
    assert len(docs) == lines.select("channel", "order_id").unique().height
    back = {(d["channel"], d["order_id"], item["line_no"]): Decimal(item["line_total"])
            for d in docs for item in d["lines"]}
    assert back == {(c, o, n): t for c, o, n, t in lines.select(
        "channel", "order_id", "line_no", "line_total").iter_rows()}
    for doc in docs:  # money exact: the order's total is its lines' to the cent
        assert Decimal(doc["lines_total"]) == sum(Decimal(i["line_total"]) for i in doc["lines"])
        assert doc["lineage"]["batch_id"] == report.batch_dir.name
        assert doc["change_type"] == "new"


def _shopify_changed(tmp_path: Path) -> Path:
    """The Shopify sample with order #1002 paid since (its line becomes an update)."""
    text = SHOPIFY.read_text(encoding="utf-8")
    changed = text.replace("#1002,bob@example.ca,pending,", "#1002,bob@example.ca,paid,")
    assert changed != text
    path = tmp_path / "orders_export_2.csv"
    path.write_text(changed, encoding="utf-8")
    return path


def test_updates_go_out_as_each_profile_takes_them(tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    ingest([SHOPIFY], out, state_dir=state)
    report = ingest([_shopify_changed(tmp_path)], out, state_dir=state,
                    profiles=["odoo", "erpnext", "netsuite", "json"])
    assert report.batch_dir is not None and report.manifest is not None
    assert report.manifest["totals"]["updates"] >= 1
    profiles = report.batch_dir / "profiles"
    # Odoo: in the import file, with the external IDs of the first import (an update)
    odoo = (profiles / "odoo" / "sale_orders.csv").read_text(encoding="utf-8")
    assert "ordermill_shopify__1002," in odoo
    # ERPNext: not in the import file, in updates.csv for people
    assert "#1002" not in (profiles / "erpnext" / "sales_orders.csv").read_text("utf-8")
    review = pl.read_csv(profiles / "erpnext" / "updates.csv", infer_schema=False)
    assert set(review["order_id"]) == {"#1002"}
    assert set(review["change_type"]) == {"update"}
    # NetSuite: a file of the same layout for the import mode Update
    updates = (profiles / "netsuite" / "sales_orders_updates.csv").read_text("utf-8")
    assert "ordermill_shopify__1002" in updates
    assert "#1002" not in (profiles / "netsuite" / "sales_orders.csv").read_text("utf-8")
    docs = [json.loads(x) for x in (profiles / "json" / "orders.ndjson").read_text().split("\n")
            if x]
    assert {d["order_id"]: d["change_type"] for d in docs}["#1002"] == "update"
    assert report.manifest["profiles"]["erpnext"]["update_orders"] == 1


def test_missing_codes_hold_the_order_out_of_that_profile(tmp_path: Path) -> None:
    codes = tmp_path / "codes"
    codes.mkdir()
    # every sku of the sample but TRAY-BMB (order #1004)
    (codes / "items.csv").write_text(
        "SKU,Item\nDW-100,I-100\nGW-WHT,I-101\nOOL-SMP,I-102\nPE-357,I-103\nJP-050,I-104\n"
        "TOWEL-01,I-105\nMW-01,I-106\n", encoding="utf-8")
    (codes / "customers.csv").write_text("account,code\nshopify,C-SHOP\n", encoding="utf-8")
    config = tmp_path / "ordermill.toml"
    config.write_text('profile = ["odoo", "json"]\n[lookups]\nitem = "codes/items.csv"\n'
                      'customer = { file = "codes/customers.csv", field = "channel" }\n',
                      encoding="utf-8")
    result = run_cli("ingest", str(SHOPIFY), "--out", str(tmp_path / "out"), "--config",
                     str(config), "--json")
    assert result.returncode == 1, result.stderr
    manifest = json.loads(result.stdout)["manifest"]
    batch = Path(json.loads(result.stdout)["batch_dir"])
    assert manifest["profiles"]["odoo"]["held_orders"] == 1
    assert manifest["profiles"]["odoo"]["held_lines"] == 3  # the whole order, not one line
    odoo = pl.read_csv(batch / "profiles" / "odoo" / "sale_orders.csv", infer_schema=False)
    assert "#1004" not in set(odoo["Order Reference"].drop_nulls())
    assert "" not in set(odoo["Order Lines/Product"].fill_null(""))  # never a blank code
    assert set(odoo["Order Lines/Product"]) <= {f"I-{n}" for n in range(100, 107)}
    assert set(odoo["Customer"].drop_nulls()) == {"C-SHOP"}
    held = pl.read_csv(batch / "profiles" / "odoo" / "held.csv", infer_schema=False)
    assert held.select("order_id", "field", "code", "value").rows() == [
        ("#1004", "sku", "missing-code", "TRAY-BMB")]
    assert "items.csv" in held["message"][0]
    # the json profile needs no codes: every clean order
    docs = (batch / "profiles" / "json" / "orders.ndjson").read_text().splitlines()
    assert len(docs) == 6
    # the standard file still carries the order
    assert "#1004" in (batch / "orders.csv").read_text(encoding="utf-8")
    # the summary line says so (text mode)
    again = run_cli("ingest", str(SHOPIFY), "--out", str(tmp_path / "out2"), "--config",
                    str(config), "--state-dir", str(tmp_path / "state2"))
    assert "odoo: 1 order(s) held out for missing codes" in again.stderr


def test_an_empty_source_value_without_a_table_holds_its_order(tmp_path: Path) -> None:
    sample = tmp_path / "orders.csv"
    sample.write_text(SHOPIFY.read_text(encoding="utf-8").replace(",MW-01,", ",,"),
                      encoding="utf-8")
    report = ingest([sample], tmp_path / "out", state_dir=tmp_path / "state",
                    profiles=["sap-b1-dtw"])
    assert report.batch_dir is not None and report.manifest is not None
    entry = report.manifest["profiles"]["sap-b1-dtw"]
    assert entry["held_orders"] == 1
    held = (report.batch_dir / "profiles" / "sap-b1-dtw" / "held.csv").read_text("utf-8-sig")
    assert "#1005" in held and "no item table is configured" in held


def test_profile_from_config_per_source(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "orders_export_1.csv").write_bytes(SHOPIFY.read_bytes())
    config = tmp_path / "ordermill.toml"
    config.write_text('out_dir = "out"\nstate_dir = "state"\n[[sources]]\nname = "shop"\n'
                      'path = "drop"\nprofile = "netsuite"\n', encoding="utf-8")
    result = run_cli("run", "--config", str(config), "--json")
    assert result.returncode == 1, result.stderr
    manifest = json.loads(result.stdout)["manifest"]
    assert list(manifest["profiles"]) == ["netsuite"]
    assert manifest["profiles"]["netsuite"]["orders"] == 6
    files = {o["file"] for o in manifest["outputs"]}
    assert "profiles/netsuite/sales_orders.csv" in files


def test_unknown_profile_is_a_usage_error_with_the_nearest_name(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="did you mean 'odoo'"):
        ingest([SHOPIFY], tmp_path / "out", state_dir=tmp_path / "state", profiles=["odo"])
    result = run_cli("ingest", str(SHOPIFY), "--out", str(tmp_path / "out"), "--profile",
                     "netsuit")
    assert result.returncode == 2 and "did you mean 'netsuite'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_profile_of_your_own_is_data(tmp_path: Path) -> None:
    mine = tmp_path / "profiles"
    mine.mkdir()
    (mine / "acme-erp.toml").write_text(
        '[profile]\nerp = "ACME ERP"\ntemplate = "https://erp.example.com/import"\n'
        'kind = "csv"\nencoding = "gb18030"\ndate_format = "%d.%m.%Y"\n'
        '[[files]]\nname = "auftraege"\ncontinuation = "repeat"\n'
        '[[files.columns]]\nheader = "Beleg"\nfield = "order_id"\nblock = "order"\n'
        '[[files.columns]]\nheader = "Datum"\nfield = "ordered_at"\nblock = "order"\n'
        '[[files.columns]]\nheader = "Artikel"\ncode = "item"\n'
        '[[files.columns]]\nheader = "Menge"\nfield = "quantity"\n'
        '[[files.columns]]\nheader = "Betrag"\nfield = "line_total"\n', encoding="utf-8")
    settings = load_settings({"profiles_dir": str(mine)}, environ={})
    report = ingest([SAMPLES / "1688" / "历史订单_2025-11-08.xlsx"], tmp_path / "out",
                    settings=settings, state_dir=tmp_path / "state", profiles=["acme-erp"])
    assert report.batch_dir is not None
    written = (report.batch_dir / "profiles" / "acme-erp" / "auftraege.csv").read_bytes()
    text = written.decode("gb18030")
    assert text.startswith("Beleg,Datum,Artikel,Menge,Betrag\n")
    assert ".11.2025," in text
    checked = run_cli("profiles", "check", str(mine / "acme-erp.toml"))
    assert checked.returncode == 0 and "OK" in checked.stdout


def test_profiles_check_names_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[profile]\nerp = "X"\ntemplate = "https://x"\nkind = "xlxs"\n'
                   '[[files]]\nname = "x"\n[[files.columns]]\nheader = "A"\nfeild = "sku"\n'
                   '[[files.columns]]\nheader = "B"\nexpr = "line_indx"\n', encoding="utf-8")
    with pytest.raises(ProfileError) as raised:
        load_profile(bad)
    text = "; ".join(raised.value.problems)
    assert "did you mean 'xlsx'" in text
    assert "did you mean 'field'" in text
    assert "did you mean 'line_index'" in text
    result = run_cli("profiles", "check", str(bad))
    assert result.returncode == 2 and "did you mean 'xlsx'" in result.stderr
    listed = run_cli("profiles")
    assert listed.returncode == 0 and "kingdee-k3cloud" in listed.stdout


def test_a_failing_profile_publishes_nothing(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.writers.batch as batch

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(batch, "write_profile", broken)
    with pytest.raises(Exception, match="No space left"):
        ingest([SHOPIFY], tmp_path / "out", state_dir=tmp_path / "state", profiles=["odoo"])
    assert not [p for p in (tmp_path / "out").iterdir()] if (tmp_path / "out").exists() \
        else True


def test_golden_profiles_hold_no_checkout_paths() -> None:
    for path in (GOLDEN / "profiles").rglob("*"):
        if path.is_file():
            assert str(ROOT) not in path.read_text(encoding="utf-8")


def test_profile_outputs_reads_xlsx_as_text(tmp_path: Path) -> None:
    report = ingest([SHOPIFY], tmp_path / "out", state_dir=tmp_path / "state",
                    profiles=["kingdee-k3cloud"])
    assert report.batch_dir is not None
    out = profile_outputs(report.batch_dir)
    sheet = out["kingdee-k3cloud/SAL_SaleOrder.xlsx.csv"].splitlines()
    assert sheet[1].startswith("FBillHead(SAL_SaleOrder),FBillTypeID,FBillNo")
    assert sheet[2].startswith("单据头(序号),*(单据头)单据类型#编码")
