"""Mail as files (.eml, .mbox) through the whole run: every hard mail of the corpus read or
sent to review with its reason, fields from the subject and body, routes, lineage."""

from __future__ import annotations

import shutil
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import polars as pl
import pytest

from ingest import api
from ingest.config import load_settings
from ingest.mapping.loader import load_mappings
from tests import mailcorpus
from tests.test_poll import po_csv, po_mail

ROOT = Path(__file__).resolve().parent.parent

# The corpus's small PO (tests/mailcorpus.py), with the order date taken from the mail.
CORPUS_MAPPING = '''
channel = "po-corpus"
[detect]
header_contains = ["PO No.", "SKU", "商品名称", "Qty"]
[parse]
datetime_formats = ["%Y-%m-%dT%H:%M:%S%z"]
[constants]
currency = "CNY"
order_status = "pending_payment"
[fields]
order_id = "PO No."
ordered_at = { label = "Sent" }
sku = "SKU"
product_name = "商品名称"
quantity = "Qty"
unit_price = { column = "Unit price" }
'''

# mail -> the codes that send it to review (empty: read whole)
EXPECTED = {
    # a JPEG (its bytes, named .gif: read as the scan it is; a stub, so unreadable); a tab
    # text of no order
    "lying_types.eml": {"unreadable-scan", "unknown-channel"},
    "broken_base64.eml": {"damaged-attachment"},
    "cut_off_mail.eml": {"damaged-mail", "damaged-attachment"},
    "cut_mid_line.eml": {"damaged-mail", "damaged-attachment"},
    "not_a_mail.eml": {"damaged-mail"},
    "winmail_damaged.eml": {"tnef-unreadable"},
    "zip_bomb_ratio.eml": {"zip-bomb"},
    "zip_many_members.eml": {"zip-bomb"},
    "zip_nested_and_encrypted.eml": {"zip-bomb", "damaged-attachment"},
    "zip_cut_off.eml": {"damaged-attachment"},
    "zip_lying_sizes.eml": {"damaged-attachment"},
    "zip_attachment.eml": {"unreadable-scan"},  # a stub scan beside the workbooks in the zip
    "html_only.eml": {"no-order-data"},
    "text_only.eml": {"no-order-data"},
    "big_attachment.eml": set(),
    "winmail_dat.eml": set(),
    "forwarded_as_attachment.eml": set(),
    "rfc2231_gb18030_continuations.eml": set(),
    "rfc2047_quoted_names.eml": set(),
    "raw_8bit_name.eml": set(),
    "transfer_encodings.eml": set(),
    "names_with_paths.eml": set(),
    "zip_utf8_flagged.eml": set(),
}


@pytest.fixture
def corpus_mappings(tmp_path: Path) -> Path:
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", folder, ignore=shutil.ignore_patterns("*.md"))
    (folder / "po-corpus.toml").write_text(CORPUS_MAPPING, encoding="utf-8")
    return folder


def test_every_hard_mail_is_read_or_sent_to_review_with_its_reason(
        tmp_path: Path, corpus_mappings: Path) -> None:
    mails = tmp_path / "mails"
    mails.mkdir()
    for name in EXPECTED:
        builder = getattr(mailcorpus, name.removesuffix(".eml"))
        (mails / name).write_bytes(builder())
    codes: dict[str, set[str]] = {name: set() for name in EXPECTED}
    taken: dict[str, int] = dict.fromkeys(EXPECTED, 0)
    for name in EXPECTED:  # one run each: the corpus reuses attachments across mails
        report = api.ingest([mails / name], tmp_path / "out", state_dir=tmp_path / name,
                            mappings_dir=corpus_mappings)
        codes[name] = {entry["code"] for entry in report.unreadable}
        for entry in (report.manifest or {}).get("inputs", []):
            assert entry["path"].startswith(f"{mails / name}/")
            assert entry["rows_in"] == entry["clean"] + entry["rejected"] + \
                entry["duplicates"] + entry["waiting"]
            taken[name] += entry["rows_in"]
    assert codes == EXPECTED
    # What a damaged mail still holds is read; a mail with nothing readable gives no rows.
    assert taken["broken_base64.eml"] == 2 and taken["html_only.eml"] == 0
    assert all(taken[name] > 0 for name, expected in EXPECTED.items() if not expected)


def _mapping_with(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", folder, ignore=shutil.ignore_patterns("*.md"))
    (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


def test_a_mapping_takes_po_fields_from_the_subject_and_the_body(tmp_path: Path) -> None:
    # ACME's lines, with the PO# only in the subject and the delivery date only in the body.
    acme = (ROOT / "mappings" / "po-acme.toml").read_text(encoding="utf-8")
    text = acme.replace('channel = "po-acme"', 'channel = "po-acme-mail"').replace(
        'order_id = { label = ["PO#", "PO Number", "PO No."], take = "right" }',
        "order_id = { label_regex = 'PO#\\s*(\\d+)' }").replace(
        'requested_delivery_date = "Need By"',
        'requested_delivery_date = { label = "Delivery date" }').replace(
        '"Need By"]', '"Unit Price"]')
    mappings = _mapping_with(tmp_path, "po-acme-mail", text)
    mail = po_mail("4500000201", body="PO Date: 12/05/2026\nCurrency: USD\n"
                   "Delivery date: 2026-12-24\n", attachment=po_csv("4500000201"))
    (tmp_path / "po.eml").write_bytes(mail)
    report = api.ingest([tmp_path / "po.eml"], tmp_path / "out", state_dir=tmp_path / "s",
                        mappings_dir=mappings, channel="po-acme-mail")
    assert report.exit_code == 0, report.summary()
    assert report.batch_dir is not None
    lines = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    assert lines["order_id"].unique().to_list() == ["4500000201"]
    assert lines["requested_delivery_date"].unique().to_list() == ["2026-12-24"]


def test_routes_of_the_configured_mailboxes_apply_to_mail_files(tmp_path: Path) -> None:
    config = tmp_path / "ordermill.toml"
    config.write_text('\n'.join([
        "[[sources]]", 'name = "po-mail"', 'kind = "imap"', 'host = "imap.example.com"',
        'user = "orders"', 'password_env = "NOT_NEEDED"', "[[sources.routes]]",
        'from = "*@acme.example"', 'channel = "po-acme"', ""]), encoding="utf-8")
    (tmp_path / "po.eml").write_bytes(po_mail("4500000301"))
    settings = load_settings(config=str(config))
    report = api.ingest([tmp_path / "po.eml"], tmp_path / "out", settings=settings,
                        state_dir=tmp_path / "s")
    assert report.manifest is not None
    assert report.manifest["inputs"][0]["channel"] == "po-acme"


def test_an_mbox_names_each_message_by_its_place(tmp_path: Path) -> None:
    mails = [po_mail(f"45000004{n:02d}", message_id=f"<m{n}@acme.example>")
             for n in (1, 2)]
    body = EmailMessage()
    body["From"], body["Subject"] = "x@example.org", "no order here"
    body.set_content("From the desk of nobody\n")
    mbox = b"".join(b"From sender@example.org Sat Dec  5 10:00:00 2026\n"
                    + m.replace(b"\r\n", b"\n") + b"\n"
                    for m in [*mails, body.as_bytes(policy=SMTP)])
    (tmp_path / "archive.mbox").write_bytes(mbox)
    report = api.ingest([tmp_path / "archive.mbox"], tmp_path / "out",
                        state_dir=tmp_path / "s", channel="po-acme")
    assert report.manifest is not None
    inputs = report.manifest["inputs"]
    assert [i["path"] for i in inputs] == [
        f"{tmp_path}/archive.mbox#1/PO-4500000401.csv",
        f"{tmp_path}/archive.mbox#2/PO-4500000402.csv"]
    assert [i["mail"]["message_id"] for i in inputs] == ["m1@acme.example",
                                                         "m2@acme.example"]
    assert [e["code"] for e in report.unreadable] == ["no-order-data"]
    assert report.unreadable[0]["path"] == f"{tmp_path}/archive.mbox#3"


def test_a_mail_file_in_a_folder_source_is_archived_or_quarantined(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "good.eml").write_bytes(po_mail("4500000501"))
    (drop / "scan.eml").write_bytes(po_mail("4500000502", attachment=b"%PDF-1.4\n%%EOF\n",
                                            name="scan.pdf", maintype="application",
                                            subtype="pdf"))
    config = tmp_path / "ordermill.toml"
    config.write_text('archive_dir = "archive"\nquarantine_dir = "quarantine"\n'
                      'state_dir = "state"\nout_dir = "out"\n'
                      '[[sources]]\nname = "drop"\npath = "drop"\nchannel = "po-acme"\n',
                      encoding="utf-8")
    report = api.run(load_settings(config=str(config)))
    assert report.exit_code == 3
    assert not list(drop.iterdir())
    reason = (tmp_path / "quarantine" / "drop" / "scan.eml.reason.txt").read_text("utf-8")
    assert "scan.pdf: is not a PDF ordermill can open" in reason
    assert list((tmp_path / "archive" / "drop").glob("*/good.eml"))


def test_the_sample_mails_are_known_mappings_only(tmp_path: Path) -> None:
    mappings = load_mappings(ROOT / "mappings")
    assert {m.channel for m in mappings} >= {"po-acme", "po-huaxin"}
    report = api.ingest([ROOT / "samples" / "mail"], tmp_path / "out",
                        state_dir=tmp_path / "s")
    assert report.exit_code == 0
    assert report.manifest is not None
    assert [(Path(i["path"]).name, i["channel"], i["clean"])
            for i in report.manifest["inputs"]] == [
        ("PO-4500012399.xlsx", "po-acme", 5), ("body-table-1.csv", "po-huaxin", 3)]
