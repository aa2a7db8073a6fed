"""`ordermill poll` against a real Dovecot on loopback: new mail only, rules, routes, moving,
review, exactly once across a kill and a UIDVALIDITY change, XOAUTH2, a server without MOVE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import polars as pl
import pytest

from ingest import api
from ingest.config import Settings, load_settings
from ingest.ledger import Ledger
from tests.imapserver import ImapServer, Mailbox

ORDERMILL = Path(sys.executable).parent / "ordermill"
PROCESSED, REVIEW = "ordermill/processed", "ordermill/needs-review"
PO_HEADER = "Line,Item No.,Description,Qty,Unit Price,Amount,Need By"


def po_csv(po: str, lines: int = 2) -> bytes:
    """A PO's line table as ACME's buyers export it to CSV (the PO# is in the mail)."""
    rows = [PO_HEADER] + [f"{n},{po[-3:]}-{n:02d},Hex bolt M{n},{10 * n},0.42,"
                          f"{4.2 * n:.2f},2026-12-20" for n in range(1, lines + 1)]
    return ("\r\n".join(rows) + "\r\n").encode()


def po_mail(po: str, *, sender: str = "dana@acme.example", subject: str | None = None,
            attachment: bytes | None = None, name: str | None = None,
            maintype: str = "text", subtype: str = "csv", message_id: str | None = None,
            body: str | None = None) -> bytes:
    """An order mail: the PO's fields as labelled lines in the body, its lines attached."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "orders@shanhe.example"
    mail["Subject"] = subject if subject is not None else f"PO# {po} ACME Industrial"
    mail["Date"] = "Sat, 05 Dec 2026 10:00:00 -0800"
    mail["Message-ID"] = message_id or f"<{po}.{abs(hash(subject)) % 1000}@acme.example>"
    mail.set_content(body if body is not None else
                     f"Please ship:\nPO#: {po}\nPO Date: 12/05/2026\nBuyer: Dana\n"
                     "Currency: USD\n")
    data = po_csv(po) if attachment is None else attachment
    if data:
        mail.add_attachment(data, maintype=maintype, subtype=subtype,
                            filename=name or f"PO-{po}.csv")
    return mail.as_bytes(policy=SMTP)


def unrelated_mail(n: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = "newsletter@example.org"
    mail["Subject"] = f"Weekly news {n}"
    mail["Message-ID"] = f"<news{n}@example.org>"
    mail.set_content("Nothing to order here.\n")
    return mail.as_bytes(policy=SMTP)


def write_config(tmp_path: Path, box: Mailbox, *, extra: str = "", port: int | None = None,
                 host: str | None = None, folder_source: bool = False) -> Path:
    lines = [
        'out_dir = "out"', 'state_dir = "state"', 'archive_dir = "archive"',
        'quarantine_dir = "quarantine"', "", "[[sources]]", 'name = "po-mail"',
        'kind = "imap"', f'host = "{host or box.host}"', f"port = {port or box.tls_port}",
        f'ca_file = "{box.ca_file}"', f'user = "{box.user}"',
        'password_env = "TEST_PO_MAIL_PASSWORD"', 'subject = ["PO#", "采购订单"]',
        'senders = ["*@acme.example", "buyer@huaxin.example"]', "timeout_seconds = 3", extra]
    if folder_source:
        lines += ["", "[[sources]]", 'name = "drop"', 'path = "drop"']
    path = tmp_path / "ordermill.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def settings_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def make(box: Mailbox, **options: object) -> Settings:
        monkeypatch.setenv("TEST_PO_MAIL_PASSWORD", box.password)
        return load_settings(config=str(write_config(tmp_path, box, **options)))  # type: ignore[arg-type]
    return make


def folder(box: Mailbox, name: str = "INBOX") -> dict[int, bytes]:
    with box.client() as client:
        if not client.folder_exists(name):
            return {}
    return box.server.fetch_all(box.user, name)


def clean_lines(report: api.RunReport) -> pl.DataFrame:
    assert report.batch_dir is not None
    return pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)


def test_a_first_poll_takes_only_new_mail_then_each_order_mail_once(
        mailbox: Mailbox, settings_for) -> None:  # type: ignore[no-untyped-def]
    mailbox.append("INBOX", [po_mail("4500000001")])  # before the source existed
    settings = settings_for(mailbox)
    first = api.poll(settings)
    assert first.manifest is None and first.exit_code == 0  # history is not taken ...
    assert len(folder(mailbox)) == 1  # ... nor touched

    mailbox.append("INBOX", [unrelated_mail(1), po_mail("4500000002")])
    report = api.poll(settings)
    assert report.exit_code == 0, report.summary()
    lines = clean_lines(report)
    assert lines["order_id"].unique().to_list() == ["4500000002"]  # from the mail's body
    assert lines.height == 2
    source = lines["source"][0]
    assert source.startswith(f"imap://{mailbox.user}@localhost/INBOX;UIDVALIDITY=")
    assert source.endswith(";UID=3/PO-4500000002.csv")
    entry = report.manifest["inputs"][0]  # type: ignore[index]
    assert entry["mail"]["message_id"].startswith("4500000002.")
    # The order mail moved; the old one and the newsletter stay, unread.
    assert len(folder(mailbox, PROCESSED)) == 1
    inbox_flags = mailbox.server.flags(mailbox.user)
    assert len(inbox_flags) == 2 and all(b"\\Seen" not in f for f in inbox_flags.values())

    again = api.poll(settings)
    assert again.manifest is None and again.exit_code == 0

    older = api.poll(settings, since=date(2020, 1, 1))  # this once, older mail too
    assert clean_lines(older)["order_id"].unique().to_list() == ["4500000001"]
    assert len(folder(mailbox)) == 1 and len(folder(mailbox, PROCESSED)) == 2


def test_subject_and_sender_rules_and_routes(mailbox: Mailbox, settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(mailbox, extra='[[sources.routes]]\nfrom = "*@acme.example"\n'
                            'channel = "po-acme"')
    api.poll(settings)  # (the first poll starts the cursor)
    mailbox.append("INBOX", [
        po_mail("4500000011", sender="someone@else.example"),  # sender not listed
        po_mail("4500000012", subject="Invoice 4500000012"),  # not an order subject
        po_mail("4500000013", subject="po# 4500000013 (lower case)"),  # case-insensitive
    ])
    report = api.poll(settings)
    assert clean_lines(report)["order_id"].unique().to_list() == ["4500000013"]
    assert report.manifest["inputs"][0]["channel"] == "po-acme"  # type: ignore[index]
    assert len(folder(mailbox)) == 2


def test_a_mail_with_nothing_readable_goes_to_review_with_the_reason(
        mailbox: Mailbox, settings_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(mailbox)
    api.poll(settings)
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    mailbox.append("INBOX", [
        po_mail("4500000021", attachment=pdf, name="scan.pdf", maintype="application",
                subtype="pdf"),
        po_mail("4500000022", attachment=b"", body="Please call me about PO 4500000022.\n"),
        po_mail("4500000023"),
    ])
    report = api.poll(settings)
    assert report.exit_code == 3
    codes = {entry["code"] for entry in report.unreadable}
    assert codes == {"unreadable-scan", "no-order-data"}  # (a PDF with no pages)
    reasons = " ".join(entry["reason"] for entry in report.unreadable)
    assert "is not a PDF ordermill can open" in reasons
    assert "has no attachment or body" in reasons
    assert len(folder(mailbox, REVIEW)) == 2 and len(folder(mailbox, PROCESSED)) == 1
    past = api.history(settings)[0]
    assert {e["code"] for e in past["summary"]["unreadable"]} == codes
    ledger = Ledger(settings.state_dir)
    try:
        outcomes = sorted(m["outcome"] for m in ledger.mails())
    finally:
        ledger.close()
    assert outcomes == ["ingested", "review", "review"]
    shown = subprocess.run([str(ORDERMILL), "history", "--config", str(tmp_path /
                                                                      "ordermill.toml")],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert "[unreadable-scan] " in shown and "is not a PDF ordermill can open" in shown
    assert f"-> imap://{mailbox.user}@localhost/{REVIEW}" in shown


def test_the_same_attachment_in_a_resend_is_ingested_once(
        mailbox: Mailbox, settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(mailbox)
    api.poll(settings)
    mailbox.append("INBOX", [po_mail("4500000031", message_id="<a@acme.example>")])
    assert clean_lines(api.poll(settings)).height == 2
    mailbox.append("INBOX", [po_mail("4500000031", subject="Fwd: PO# 4500000031",
                                     message_id="<b@acme.example>")])
    resent = api.poll(settings)
    assert resent.manifest is None and len(resent.skipped) == 1
    assert len(folder(mailbox, PROCESSED)) == 2 and not folder(mailbox)


def _poll_process(config: Path, box: Mailbox, *args: str,
                  env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TEST_PO_MAIL_PASSWORD": box.password, **(env or {})}
    return subprocess.run([str(ORDERMILL), "poll", "--config", str(config), *args],
                          capture_output=True, text=True, env=environ, cwd=config.parent,
                          timeout=120, check=False)


def test_a_poll_killed_after_publishing_outputs_nothing_twice(
        mailbox: Mailbox, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox)
    assert _poll_process(config, mailbox).returncode == 0
    mailbox.append("INBOX", [po_mail("4500000041")])
    killed = _poll_process(config, mailbox, env={"ORDERMILL_CRASH_AT": "committed"})
    assert killed.returncode == -9
    assert len(folder(mailbox)) == 1  # published, not moved
    done = _poll_process(config, mailbox, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["batch_id"] is None and len(result["skipped"]) == 1
    assert not folder(mailbox) and len(folder(mailbox, PROCESSED)) == 1
    batches = list((tmp_path / "out").glob("*/orders.csv"))
    assert len(batches) == 1  # the one batch of the killed poll
    assert pl.read_csv(batches[0], infer_schema=False).height == 2


def test_a_uidvalidity_change_neither_skips_new_mail_nor_repeats_old(
        fresh_imap_server: ImapServer, settings_for) -> None:  # type: ignore[no-untyped-def]
    server = fresh_imap_server
    user = server.add_user()
    box = Mailbox(server, user, server.users[user])
    settings = settings_for(box)
    api.poll(settings)
    box.append("INBOX", [po_mail("4500000051"), po_mail("4500000052")])
    assert clean_lines(api.poll(settings))["order_id"].n_unique() == 2
    # A copy of an old order mail comes back (a restore), and a new one arrives; then the
    # mailbox is rebuilt: UIDs start again from 1, so the new mail has an old mail's UID.
    box.append("INBOX", [po_mail("4500000051"), po_mail("4500000053")])
    before = server.uidvalidity(user)
    assert server.reset_uidvalidity(user) != before
    report = api.poll(settings)
    assert clean_lines(report)["order_id"].unique().to_list() == ["4500000053"]
    assert len(report.skipped) == 1  # the restored copy: known by its attachment's bytes
    assert not folder(box) and len(folder(box, PROCESSED)) == 4


def test_xoauth2_login_with_a_token_command(imap_server_factory, tmp_path: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server: ImapServer = imap_server_factory(oauth2=True)
    user = server.add_user()
    box = Mailbox(server, user, server.users[user])
    token = tmp_path / "token.txt"
    token.write_text(server.oauth2_token(user), encoding="utf-8")
    config = write_config(tmp_path, box).read_text(encoding="utf-8").replace(
        'password_env = "TEST_PO_MAIL_PASSWORD"',
        f"oauth2_token_command = 'cat {token}'")
    (tmp_path / "ordermill.toml").write_text(config, encoding="utf-8")
    settings = load_settings(config=str(tmp_path / "ordermill.toml"))
    api.poll(settings)
    box.append("INBOX", [po_mail("4500000061")])
    assert clean_lines(api.poll(settings)).height == 2
    assert server.introspection_requests >= 1
    token.write_text("not-a-token", encoding="utf-8")
    refused = api.poll(settings)
    assert refused.exit_code == 5
    assert "login refused" in refused.unreadable[0]["reason"]


def test_a_server_without_move_gets_a_copy_and_a_keyword(imap_server_factory,  # type: ignore[no-untyped-def]
                                                         settings_for) -> None:
    server: ImapServer = imap_server_factory(no_move=True)
    user = server.add_user()
    box = Mailbox(server, user, server.users[user])
    settings = settings_for(box)
    api.poll(settings)
    box.append("INBOX", [po_mail("4500000071")])
    assert clean_lines(api.poll(settings)).height == 2
    assert len(folder(box, PROCESSED)) == 1
    flags = server.flags(user)
    assert len(flags) == 1 and b"$ordermill-done" in next(iter(flags.values()))
    assert api.poll(settings).manifest is None
    assert api.poll(settings, since=date(2020, 1, 1)).manifest is None  # (passed over)


def test_hard_headers_and_an_oversized_attachment_through_the_mailbox(
        mailbox: Mailbox, settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(mailbox, extra="max_attachment_mb = 0.01")
    api.poll(settings)
    # A subject labelled GB2312 holding a GBK-only character (镕), as Chinese clients send
    # it: decoded as GB18030, it matches the subject rule; the server's SEARCH would not.
    subject = "=?gb2312?B?" + __import__("base64").b64encode(
        "采购订单 镕金属 4500000081".encode("gb18030")).decode() + "?="
    gbk = po_mail("4500000081", sender="buyer@huaxin.example").replace(
        b"Subject: PO# 4500000081 ACME Industrial", f"Subject: {subject}".encode())
    big = po_mail("4500000082", attachment=po_csv("4500000082", lines=400))
    mailbox.append("INBOX", [gbk, big])
    report = api.poll(settings)
    assert report.manifest is not None
    assert [i["path"].rsplit("/", 1)[-1] for i in report.manifest["inputs"]] == [
        "PO-4500000081.csv"]
    assert [e["code"] for e in report.unreadable] == ["attachment-too-large"]
    assert len(folder(mailbox, PROCESSED)) == 1 and len(folder(mailbox, REVIEW)) == 1


def test_a_full_mailbox_is_taken_over_several_polls_in_bounded_memory(
        mailbox: Mailbox, settings_for, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(mailbox)
    api.poll(settings)
    mailbox.append("INBOX", [po_mail(f"45000009{n:02d}") for n in range(5)]
                   + [unrelated_mail(9)])
    one_mail = len(po_mail("4500000900"))
    monkeypatch.setenv("ORDERMILL_POLL_MB", str(2.5 * one_mail / 1024 / 1024))
    taken = []
    for _ in range(3):
        report = api.poll(settings)
        taken.append(len(report.manifest["inputs"]) if report.manifest else 0)
    assert taken == [2, 2, 1]
    assert len(folder(mailbox, PROCESSED)) == 5 and len(folder(mailbox)) == 1
    assert api.poll(settings).manifest is None
