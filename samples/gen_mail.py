"""Purchase orders as they arrive by e-mail (samples/mail/), with our own rows.

- ``acme-PO-4500012399.eml``: ACME's PO workbook attached, declared as
  application/octet-stream (as many mail clients send xlsx), the PO# in the subject too.
- ``huaxin-HX-20261206-003.eml``: 华信's order typed into the mail itself: the PO-level
  fields as labelled lines (订单号：..., 交货日期：...) above an HTML table, with a plain-text
  alternative, the subject and sender's name GB2312-encoded as Chinese mail clients write.

Both are deterministic (fixed dates, Message-IDs and boundaries), so the samples do not
change when regenerated.
"""

from __future__ import annotations

import base64
import datetime as dt
import tempfile
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from pathlib import Path

from gen_po import write_acme

ROOT = Path(__file__).resolve().parent

ACME_MAIL_LINES = [
    (1, "00451-B", "Stainless hex bolt M8x40, A2-70", 800, "EA", Decimal("0.42")),
    (2, "00452-B", "Hex nut M8, A2-70", 800, "EA", Decimal("0.11")),
    (3, "000124", "Spring washer M8, DIN 127", 800, "EA", Decimal("0.06")),
    (4, "PL-2210", "Pallet label roll, 100 x 150 mm", 6, "RL", Decimal("18.90")),
    (5, "TP-0048", "Packing tape 48 mm x 66 m", 24, "RL", Decimal("2.35")),
]
HUAXIN_MAIL_LINES = [  # 序号, 物料编码, 名称, 规格, 单位, 数量, 单价
    ("1", "0012-A", "贴片电容 100nF", "0603 X7R 50V", "盘", "10", "85.00"),
    ("2", "0207-C", "USB-C 母座", "16P 沉板", "个", "2,000", "1.35"),
    ("3", "0420-K", "硅胶按键", "定制 3 键", "套", "800", "0.88"),
]


def acme_mail() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "po.xlsx"
        write_acme(target, po="4500012399", po_date=dt.datetime(2026, 12, 4, 16, 5),
                   lines=ACME_MAIL_LINES)
        workbook = target.read_bytes()
    mail = EmailMessage()
    mail["From"] = formataddr(("Dana Whitfield", "dana.whitfield@acme.example"))
    mail["To"] = "orders@shanhe-trading.example"
    mail["Subject"] = "PO# 4500012399 - ACME Industrial Supply"
    mail["Date"] = "Fri, 04 Dec 2026 16:12:40 -0800"
    mail["Message-ID"] = "<20261204161240.4500012399@acme.example>"
    mail.set_content("Hello,\n\nPlease find attached our purchase order 4500012399.\n"
                     "Reference the PO# on all invoices and packing slips.\n\n"
                     "Dana Whitfield\nPurchasing, ACME Industrial Supply\n")
    mail.add_attachment(workbook, maintype="application", subtype="octet-stream",
                        filename="PO-4500012399.xlsx")
    return _fixed(mail, "acme")


def huaxin_mail() -> bytes:
    fields = [("订单号", "HX-20261206-003"), ("订单日期", "2026/12/06"),
              ("交货日期", "2026年12月20日"), ("币种", "CNY"),
              ("收货地址", "江苏省苏州市工业园区星湖街 328 号 华信电子 2 号仓"),
              ("联系人", "王芳"), ("联系电话", "0512-6688 1234")]
    header = ["序号", "物料编码", "物料名称", "规格型号", "单位", "数量", "单价(元)", "金额(元)"]
    rows = [[*line, f"{Decimal(line[5].replace(',', '')) * Decimal(line[6]):.2f}"]
            for line in HUAXIN_MAIL_LINES]
    text = ["山河贸易 您好：", "", "请按以下订单备货发货。", ""]
    text += [f"{name}：{value}" for name, value in fields] + [""]
    text += ["\t".join(header)] + ["\t".join(row) for row in rows]
    text += ["", "华信电子科技 采购部 王芳"]
    cells = "".join(f"<th>{name}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    html = ("<html><body><p>山河贸易 您好：</p><p>请按以下订单备货发货。</p><p>"
            + "<br>".join(f"{name}：{value}" for name, value in fields)
            + f"</p><table border=\"1\"><tr>{cells}</tr>{body}</table>"
            "<p>华信电子科技 采购部 王芳</p></body></html>")
    mail = EmailMessage()
    mail["From"] = "buyer@huaxin.example"
    mail["To"] = "orders@shanhe-trading.example"
    mail["Subject"] = "HX-20261206-003"
    mail["Date"] = "Sun, 6 Dec 2026 09:30:00 +0800"
    mail["Message-ID"] = "<HX-20261206-003.0930@huaxin.example>"
    mail.set_content("\n".join(text) + "\n")
    mail.add_alternative(html, subtype="html")
    # Written as a Chinese mail client writes them: encoded words in GB2312 (the email
    # package would re-encode them as UTF-8).
    sender = _gb2312_word("华信电子 采购部")
    subject = _gb2312_word("采购订单 HX-20261206-003")
    return (_fixed(mail, "huaxin")
            .replace(b"From: buyer@huaxin.example",
                     f"From: {sender} <buyer@huaxin.example>".encode("ascii"))
            .replace(b"Subject: HX-20261206-003", f"Subject: {subject}".encode("ascii")))


def _gb2312_word(text: str) -> str:
    """An RFC 2047 encoded word labelled gb2312, as Chinese mail clients write them."""
    return "=?gb2312?B?" + base64.b64encode(text.encode("gb2312")).decode("ascii") + "?="


def _fixed(mail: EmailMessage, tag: str) -> bytes:
    """The mail's bytes with its MIME boundaries fixed (the email package draws random
    ones), so a regenerated sample is byte for byte the same."""
    for number, part in enumerate(mail.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_ordermill-sample-{tag}-{number}")
    return mail.as_bytes(policy=SMTP)


def write_all() -> None:
    folder = ROOT / "mail"
    folder.mkdir(exist_ok=True)
    (folder / "acme-PO-4500012399.eml").write_bytes(acme_mail())
    (folder / "huaxin-HX-20261206-003.eml").write_bytes(huaxin_mail())


if __name__ == "__main__":
    write_all()
