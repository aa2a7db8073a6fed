"""Benchmark mail-2000: 2,000 PO mails in a real Dovecot on loopback, one `ordermill poll`.

    .venv/bin/python bench/mail.py                 # 2,000 mails, 3 runs each
    .venv/bin/python bench/mail.py --count 200 --runs 1

Each mail carries one attachment of bench/attachments.py (the same 2,000 POs as
folder-2000: half xlsx, half CSV, 5-20 lines). The reference, measured in the same run on
the same mails: a bare loop that fetches them with imapclient (BODY.PEEK[] in batches of
200), parses them with the email package and reads each attachment with polars (calamine
for workbooks), and writes nothing. Each run polls a fresh mailbox user holding the mails,
so every run does the whole work. Needs dovecot (`make test` installs it).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import tempfile
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.attachments import attachments  # noqa: E402
from bench.run import ORDERMILL, PYTHON, Measure, timed  # noqa: E402
from tests.imapserver import ImapServer, start_server  # noqa: E402

SENDERS = {".xlsx": "dana.whitfield@acme.example", ".csv": "buyer@huaxin.example"}


def mails(count: int) -> list[bytes]:
    """One PO mail per attachment, as a buyer's mail client writes it."""
    out = []
    for number, (name, data) in enumerate(attachments(count, seed=11)):
        mail = EmailMessage()
        mail["From"] = SENDERS.get(Path(name).suffix, "buyer@huaxin.example")
        mail["To"] = "orders@shanhe.example"
        mail["Subject"] = f"PO# {Path(name).stem} purchase order"
        mail["Date"] = "Sat, 05 Dec 2026 10:00:00 +0800"
        mail["Message-ID"] = f"<bench-{number}@example.com>"
        mail.set_content("Please find our purchase order attached.\n")
        mail.add_attachment(data, maintype="application", subtype="octet-stream",
                            filename=name)
        out.append(mail.as_bytes(policy=SMTP))
    return out


def _config(folder: Path, server: ImapServer, user: str) -> Path:
    config = folder / "ordermill.toml"
    config.write_text("\n".join([
        'out_dir = "out"', 'state_dir = "state"', 'format = "parquet"', "",
        "[[sources]]", 'name = "po-mail"', 'kind = "imap"', 'host = "localhost"',
        f"port = {server.tls_port}", f'ca_file = "{server.ca_file}"', f'user = "{user}"',
        'password_env = "BENCH_MAIL_PASSWORD"', 'subject = ["PO#"]',
        'since = "2000-01-01"', ""]), encoding="utf-8")
    return config


REFERENCE = r'''
import email, io, json, ssl, sys
import polars as pl
from imapclient import IMAPClient
host, port, ca, user, password = sys.argv[1:6]
client = IMAPClient(host, port=int(port), ssl=True,
                    ssl_context=ssl.create_default_context(cafile=ca))
client.login(user, password)
client.select_folder("INBOX")
uids = client.search(["SUBJECT", "PO#"])
rows = 0
for start in range(0, len(uids), 200):
    for uid, data in client.fetch(uids[start:start + 200], ["BODY.PEEK[]"]).items():
        message = email.message_from_bytes(data[b"BODY[]"])
        for part in message.walk():
            name = part.get_filename()
            if not name:
                continue
            payload = part.get_payload(decode=True)
            if name.endswith(".xlsx"):
                frame = pl.read_excel(io.BytesIO(payload), engine="calamine",
                                      infer_schema_length=0)
            else:
                frame = pl.read_csv(io.BytesIO(payload), infer_schema=False,
                                    truncate_ragged_lines=True, encoding="utf8-lossy")
            rows += frame.height
client.logout()
print(json.dumps({"mails": len(uids), "rows": rows}))
'''


def run(count: int, runs: int) -> list[Measure]:
    import os

    batch = mails(count)
    base = Path(tempfile.mkdtemp(prefix="ordermill-bench-mail-"))
    base.chmod(0o755)  # (Dovecot's own users must reach the mail under it)
    server = start_server(base / "imap")
    results: dict[str, list[tuple[float, float, float]]] = {"ordermill poll": [],
                                                             "bare imapclient+email+polars": []}
    clean = rejected = None
    try:
        for turn in range(runs):
            for tool in results:
                user = server.add_user()
                server.append(user, "INBOX", batch)
                os.environ["BENCH_MAIL_PASSWORD"] = server.users[user]
                scratch = base / f"{tool.split()[0]}-{turn}"
                scratch.mkdir()
                if tool == "ordermill poll":
                    command = [ORDERMILL, "poll", "--config", str(_config(scratch, server,
                                                                          user))]
                else:
                    command = [PYTHON, "-c", REFERENCE, "localhost", str(server.tls_port),
                               str(server.ca_file), user, server.users[user]]
                results[tool].append(timed(command))
                manifests = list(scratch.glob("out/*/manifest.json"))
                if manifests:
                    totals = json.loads(manifests[0].read_text(encoding="utf-8"))["totals"]
                    clean, rejected = totals["clean"], totals["rejected"]
                shutil.rmtree(scratch, ignore_errors=True)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    measures = []
    for tool, samples in results.items():
        measures.append(Measure(
            "mail-2000" if count == 2000 else f"mail-{count}", tool, count,
            statistics.median(s[0] for s in samples),
            max(s[1] for s in samples), runs,
            clean if tool == "ordermill poll" else None,
            rejected if tool == "ordermill poll" else None,
            statistics.median(s[2] for s in samples), [s[0] for s in samples],
            [s[2] for s in samples]))
    return measures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    measures = run(args.count, args.runs)
    for m in measures:
        print(f"{m.workload:10} {m.tool:32} {m.seconds:7.2f} s  {m.peak_rss_mb:6.0f} MB  "
              f"cpu {m.cpu_seconds:6.2f} s  clean={m.clean} rejected={m.rejected}")
    ratio = measures[0].seconds / measures[1].seconds
    print(f"ratio ordermill poll / bare loop: {ratio:.2f}x (target: at most 2x, and 10 s)")
    _ = io


if __name__ == "__main__":
    main()
