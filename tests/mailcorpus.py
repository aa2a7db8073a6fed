"""Our own test mails, each written byte by byte with one quirk of real mail in it (the
``email`` package would normalise most of them away if it wrote them), and the documents
they carry: a small PO workbook, zips written by hand (GBK member names, encrypted flags),
an Outlook winmail.dat (TNEF). All rows, names and addresses are made up.

    .venv/bin/python tests/mailcorpus.py OUT_DIR     # writes every mail as OUT_DIR/<name>.eml
"""

from __future__ import annotations

import base64
import functools
import io
import quopri
import struct
import sys
import unicodedata
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl

BOUNDARY = "=_om_b1"
PO_ROWS = [["PO No.", "SKU", "商品名称", "Qty", "Unit price"],
           ["PO-2026-001", "HX-100", "红色小部件", 2, 12.5],
           ["PO-2026-001", "HX-200", "镕金属垫片", 10, 0.8]]
CSV_PO = "PO No.,SKU,商品名称,Qty\r\nPO-2026-001,HX-100,红色小部件,2\r\n".encode()
# Characters GB2312 lacks but GBK has: a subject labelled GB2312 holding them is common.
GBK_ONLY = "镕囧堃"


# ---- documents --------------------------------------------------------------------------

@functools.cache
def po_xlsx() -> bytes:
    """A small purchase-order workbook (about 5 KB)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in PO_ROWS:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@functools.cache
def padded_xlsx(size: int = 10 * 1024) -> bytes:
    """A PO workbook of about ``size`` bytes (rows of made-up lines), for the speed check."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(PO_ROWS[0])
    number = 0
    while True:
        for _ in range(20):
            number += 1
            sheet.append(["PO-2026-002", f"HX-{number:05d}", f"部件 {number * 7919 % 100003}",
                          number % 17 + 1, (number * 37 % 1000) / 10])
        out = io.BytesIO()
        workbook.save(out)
        if len(out.getvalue()) >= size:
            return out.getvalue()


JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + bytes(range(256)) + b"\xff\xd9")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))


def raw_zip(members: list[tuple[bytes, bytes]], *, flags: int = 0, deflate: bool = True,
            encrypted: tuple[bytes, ...] = (), declared: dict[bytes, int] | None = None
            ) -> bytes:
    """A zip written by hand, so member names are the given bytes (GBK from Chinese
    Windows, cp437, UTF-8 with its flag), flags are as given (an encrypted one) and sizes
    may lie (``declared``: the unpacked size the archive claims)."""
    out = bytearray()
    central = bytearray()
    for name, data in members:
        packed = _deflate(data) if deflate else data
        method = 8 if deflate else 0
        member_flags = flags | (0x1 if name in encrypted else 0)
        crc = zlib.crc32(data)
        offset = len(out)
        size = (declared or {}).get(name, len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, member_flags, method, 0, 0x5A21,
                           crc, len(packed), size, len(name), 0) + name + packed
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, member_flags, method,
                               0, 0x5A21, crc, len(packed), size, len(name), 0, 0, 0,
                               0, 0, offset) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                      len(out), 0)
    return bytes(out + central + end)


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def tnef_blob(files: list[tuple[str, bytes]], *, codepage: int = 936,
              long_names: bool = True) -> bytes:
    """Outlook's winmail.dat (TNEF, MS-OXTNEF): a version, the OEM code page, a message
    class, then per file its rendering record, title (in the code page), data and, when
    ``long_names``, its long file name as a MAPI Unicode property."""
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += _tnef_record(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))
    out += _tnef_record(1, 0x9007, 0x0006, struct.pack("<II", codepage, 0))
    out += _tnef_record(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")
    for name, data in files:
        out += _tnef_record(2, 0x9002, 0x0006, struct.pack("<HiiHHH", 1, -1, -1, 0, 0, 0))
        title = name.encode(f"cp{codepage}", errors="replace") + b"\x00"
        out += _tnef_record(2, 0x8010, 0x0001, title)
        out += _tnef_record(2, 0x800F, 0x0006, data)
        if long_names:
            text = name.encode("utf-16-le") + b"\x00\x00"
            text_padded = text + b"\x00" * (-len(text) % 4)
            mapi = struct.pack("<IHHII", 1, 0x001F, 0x3707, 1, len(text)) + text_padded
            out += _tnef_record(2, 0x9005, 0x0006, mapi)
    return out


def _tnef_record(level: int, name: int, kind: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H",
                                                                                   checksum)


# ---- writing mails ----------------------------------------------------------------------

def _b(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def entity(*headers: str | bytes, body: str | bytes = b"") -> bytes:
    """One MIME entity: header lines (bytes are written as they are: raw 8-bit), a blank
    line, the body. Lines end in CRLF, as mail on the wire does."""
    head = b"".join(_b(h).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"
                    for h in headers)
    return head + b"\r\n" + _b(body)


def multipart(*parts: bytes, boundary: str = BOUNDARY, close: bool = True) -> bytes:
    out = b""
    for part in parts:
        out += b"--" + boundary.encode() + b"\r\n" + part + b"\r\n"
    return out + (b"--" + boundary.encode() + b"--\r\n" if close else b"")


def b64(data: bytes) -> bytes:
    """Base64 in lines of 76, as mailers write it."""
    text = base64.b64encode(data)
    return b"\r\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + b"\r\n"


def word(text: str, charset: str = "utf-8", encoding: str = "B") -> str:
    data = text.encode("gb18030" if charset.lower() in ("gb2312", "gbk") else charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    return f"=?{charset}?Q?{''.join(f'={b:02X}' for b in data)}?="


def top(subject: str | bytes = "PO#2026-001", *, sender: str | bytes =
        "Zhang Wei <buyer@huaxin.example>", date: str = "Mon, 1 Dec 2026 09:30:00 +0800",
        message_id: str = "<po-2026-001@huaxin.example>", content_type: str =
        f'multipart/mixed; boundary="{BOUNDARY}"') -> list[str | bytes]:
    """A mail's top headers."""
    subject_line = b"Subject: " + subject if isinstance(subject, bytes) else \
        f"Subject: {subject}"
    sender_line = b"From: " + sender if isinstance(sender, bytes) else f"From: {sender}"
    lines: list[str | bytes] = [sender_line, "To: orders@ourshop.example", subject_line]
    if date:
        lines.append(f"Date: {date}")
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    return [*lines, "MIME-Version: 1.0", f"Content-Type: {content_type}"]


def text_part(text: str, charset: str = "utf-8", subtype: str = "plain") -> bytes:
    return entity(f"Content-Type: text/{subtype}; charset={charset}",
                  "Content-Transfer-Encoding: base64", body=b64(text.encode(charset)))


def attachment(name_params: str | bytes, data: bytes, content_type: str =
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               disposition: str | bytes | None = None) -> bytes:
    """An attachment part; ``name_params`` is the Content-Disposition's parameters as
    written (``filename="po.xlsx"``) unless ``disposition`` gives the whole header."""
    head: list[str | bytes] = [f"Content-Type: {content_type}"]
    if disposition is not None:
        if disposition:
            head.append(disposition)
    else:
        head.append(b"Content-Disposition: attachment; " + _b(name_params))
    return entity(*head, "Content-Transfer-Encoding: base64", body=b64(data))


def simple(*parts: bytes, **headers: str | bytes) -> bytes:
    """A multipart/mixed mail: a short text, then the parts."""
    return entity(*top(**headers),  # type: ignore[arg-type]
                  body=multipart(text_part("Please find our order attached.\n"), *parts))


# ---- the corpus: one function per quirk -------------------------------------------------

def gbk_subject_labelled_gb2312() -> bytes:
    return simple(subject=f"{word('采购订单 ' + GBK_ONLY, 'GB2312')} PO#7")


def encoded_words_cut_inside_characters() -> bytes:
    """The subject's words cut in the middle of a UTF-8 and of a GB18030 character."""
    utf8 = "订单确认：红色小部件".encode()
    gbk = "采购单镕".encode("gb18030")
    words = [f"=?UTF-8?B?{base64.b64encode(utf8[:4]).decode()}?=",
             f"=?UTF-8?B?{base64.b64encode(utf8[4:]).decode()}?=",
             f"=?gb2312?Q?{''.join(f'={b:02X}' for b in gbk[:3])}?=",
             f"=?gb2312?Q?{''.join(f'={b:02X}' for b in gbk[3:])}?="]
    return simple(subject=f"{words[0]}\r\n {words[1]} / {words[2]}\r\n\t{words[3]}")


def raw_8bit_headers() -> bytes:
    """From and Subject in raw GB18030 bytes, no encoded words (an old Chinese mailer)."""
    return simple(subject="采购订单 第12期".encode("gb18030"),
                  sender="王芳".encode("gb18030") + b" <Wang.Fang@Huaxin.example>")


def raw_utf8_subject() -> bytes:
    return simple(subject="Bestellung für Müller – 订单".encode())


def folded_subject() -> bytes:
    return simple(subject="\r\n Purchase order\r\n\tPO#2026-001\r\n   for December")


def malformed_encoded_word() -> bytes:
    return simple(subject=f"=?utf-8?B?@@@?= PO {word('订单')} =?x-nothing?Q?caf=E9?="
                  " =?utf-8?Q?unterminated")


def rfc2231_gb18030_continuations() -> bytes:
    name = "华信采购订单2026年12月.xlsx".encode("gb18030")
    quoted = "".join(f"%{b:02X}" for b in name)
    head, tail = quoted[:30], quoted[30:]
    return simple(attachment(f"\r\n filename*0*=gb18030''{head};\r\n filename*1*={tail}",
                             po_xlsx()))


def rfc2047_quoted_names() -> bytes:
    """RFC 2047 words inside quoted names: GBK in the Content-Type's name only (no
    Content-Disposition name), and in a Content-Disposition filename."""
    return simple(
        attachment("", po_xlsx(), content_type="application/vnd.ms-excel; "
                   f'name="{word("订单明细.xlsx", "GBK")}"',
                   disposition="Content-Disposition: attachment"),
        attachment(f'filename="{word("发货单.csv", "GB2312")}"', CSV_PO,
                   content_type="text/csv"))


def raw_8bit_name() -> bytes:
    return simple(attachment(b'filename="' + "订单.xlsx".encode("gb18030") + b'"', po_xlsx()))


def names_with_paths() -> bytes:
    return simple(attachment('filename="C:\\fakepath\\po-fake.xlsx"', po_xlsx()),
                  attachment('filename="../../etc/orders.csv"', CSV_PO, "text/csv"))


def lying_types() -> bytes:
    """An xlsx as octet-stream and as vnd.ms-excel, a JPEG declared GIF (named .gif), a CSV
    as octet-stream, an unnamed CSV declared text/plain with tabs: the bytes decide."""
    tabbed = b"SKU\tQty\r\nHX-100\t2\r\n"
    return simple(
        attachment('filename="po.xlsx"', po_xlsx(), "application/octet-stream"),
        attachment('filename="po-2.xls"', po_xlsx(), "application/vnd.ms-excel"),
        attachment('filename="scan.gif"', JPEG, "image/gif"),
        attachment('filename="lines.csv"', CSV_PO, "application/octet-stream"),
        attachment("", tabbed, "text/plain; charset=utf-8",
                   disposition="Content-Disposition: attachment"))


def broken_base64() -> bytes:
    """Three attachments whose base64 is broken: a length error, bad padding, invalid
    characters; and a sound one after them."""
    data = po_xlsx()
    # (whatever the workbook's length: whole groups of 3 bytes encode with no padding, and
    # 3k + 2 bytes end in one "=")
    good = base64.b64encode(data[:len(data) - len(data) % 3])
    padded = base64.b64encode(data[:len(data) - len(data) % 3 - 1])
    assert not good.endswith(b"=") and padded.endswith(b"=")

    def part(name: str, body: bytes) -> bytes:
        return entity("Content-Type: application/octet-stream",
                      f'Content-Disposition: attachment; filename="{name}"',
                      "Content-Transfer-Encoding: base64", body=body + b"\r\n")
    return simple(part("PO-1.xlsx", good[:-3]),  # (one character over a multiple of 4)
                  part("PO-2.xlsx", padded.rstrip(b"=")),  # (padding missing)
                  part("PO-3.xlsx", good[:40] + b"!*$" + good[43:]),
                  attachment('filename="PO-4.xlsx"', po_xlsx()))


def cut_off_mail() -> bytes:
    """A mail cut in the middle of its last attachment (no closing boundary): once at a
    line end (the base64 is sound, the file is short), once mid-line."""
    whole = simple(attachment('filename="lines.csv"', CSV_PO * 40, "text/csv"),
                   attachment('filename="po.xlsx"', po_xlsx()))
    return whole[:whole.rindex(b"\r\n", 0, len(whole) - 400) + 2]


def cut_mid_line() -> bytes:
    whole = simple(attachment('filename="po.xlsx"', po_xlsx()))
    return whole[:len(whole) - 500]


def transfer_encodings() -> bytes:
    """The same CSV under ``8bits`` (sic), ``8bit``, ``binary`` and an unknown encoding."""
    def part(name: str, encoding: str) -> bytes:
        return entity("Content-Type: text/csv; charset=utf-8",
                      f'Content-Disposition: attachment; filename="{name}"',
                      f"Content-Transfer-Encoding: {encoding}", body=CSV_PO)
    return simple(part("a.csv", "8bits"), part("b.csv", "8bit"), part("c.csv", "binary"),
                  part("d.csv", "x-made-up"))


def inner_mail(subject: str, *parts: bytes, boundary: str = "=_inner") -> bytes:
    return entity(*top(subject, sender="Li Na <li.na@supplier.example>",
                       content_type=f'multipart/mixed; boundary="{boundary}"'),
                  body=multipart(text_part("Delivery date: 2026-12-20\n"), *parts,
                                 boundary=boundary))


def forwarded_as_attachment() -> bytes:
    """Fwd: a mail (message/rfc822) holding another forwarded mail that holds the PO."""
    deepest = inner_mail("PO#2026-009", attachment('filename="PO-9.xlsx"', po_xlsx()),
                         boundary="=_deep")
    middle = entity(*top("Fwd: PO#2026-009", sender="Li Na <li.na@supplier.example>",
                         content_type='multipart/mixed; boundary="=_mid"'),
                    body=multipart(text_part("see below\n"),
                                   entity("Content-Type: message/rfc822",
                                          "Content-Disposition: attachment", body=deepest),
                                   boundary="=_mid"))
    return entity(*top("Fwd: Fwd: PO#2026-009", sender="Ops <ops@ourshop.example>"),
                  body=multipart(text_part("FYI\n"),
                                 entity("Content-Type: message/rfc822", body=middle)))


def forwarded_inline() -> bytes:
    """A forward whose inner mail is inline text, with its order table in it."""
    text = ("FYI, see the order below.\n\n"
            "---------- Forwarded message ---------\n"
            "From: Li Na <li.na@supplier.example>\n"
            "Date: Mon, 1 Dec 2026 at 09:30\n"
            "Subject: PO#2026-010\n\n"
            "Delivery date: 2026-12-22\n\n"
            "SKU\tProduct\tQty\n"
            "HX-100\tRed widget\t2\n"
            "HX-200\tBlue widget\t5\n")
    return entity(*top("Fwd: PO#2026-010", content_type="text/plain; charset=utf-8"),
                  body=text.encode())


def winmail_dat() -> bytes:
    blob = tnef_blob([("PO-7.xlsx", po_xlsx()), ("采购明细.csv", CSV_PO)])
    return simple(attachment('filename="winmail.dat"', blob, "application/ms-tnef"),
                  subject="PO#2026-007 (Outlook)")


def winmail_damaged() -> bytes:
    blob = tnef_blob([("PO-7.xlsx", po_xlsx())])
    broken = blob[:200] + bytes(b ^ 0x55 for b in blob[200:260]) + blob[260:]
    return simple(attachment('filename="winmail.dat"', broken, "application/ms-tnef"))


def big_attachment(size: int = 4000) -> bytes:
    return simple(attachment('filename="big.csv"', CSV_PO * (size // len(CSV_PO) + 1),
                             "text/csv"))


def zip_attachment() -> bytes:
    """A zip from Chinese Windows (GBK names, no UTF-8 flag), with a folder, macOS junk, a
    text note and a cp437 name beside the documents."""
    members = [
        ("订单/采购单.xlsx".encode("gb18030"), po_xlsx()),
        (b"orders/", b""),
        (b"__MACOSX/orders/._lines.csv", b"\x00\x05\x16\x07junk"),
        (b"orders/lines.csv", CSV_PO),
        (b"orders/readme.txt", b"This archive holds our December order.\r\n"),
        ("Bestellübersicht.csv".encode("cp437"), CSV_PO),
        (b"scan.jpg", JPEG),
    ]
    return simple(attachment('filename="orders.zip"', raw_zip(members), "application/zip"))


def zip_utf8_flagged() -> bytes:
    return simple(attachment('filename="orders.zip"',
                             raw_zip([("订单-二.xlsx".encode(), po_xlsx())], flags=0x800),
                             "application/x-zip-compressed"))


def zip_bomb_ratio() -> bytes:
    zeros = b"0" * (8 * 1024 * 1024)
    return simple(attachment('filename="bomb.zip"', raw_zip([(b"zeros.csv", zeros)]),
                             "application/zip"))


def zip_many_members(count: int = 120) -> bytes:
    members = [(f"po-{n}.csv".encode(), CSV_PO) for n in range(count)]
    return simple(attachment('filename="many.zip"', raw_zip(members), "application/zip"))


def zip_nested_and_encrypted() -> bytes:
    inner = raw_zip([(b"inner.csv", CSV_PO)])
    members = [(b"inner.zip", inner), (b"secret.xlsx", po_xlsx()), (b"open.csv", CSV_PO)]
    return simple(attachment('filename="mixed.zip"', raw_zip(members,
                                                             encrypted=(b"secret.xlsx",)),
                             "application/zip"))


def zip_lying_sizes() -> bytes:
    """A member that claims to unpack to 100 bytes and holds 4 MB: it stops at 100 (and
    fails its CRC check); the member beside it is read."""
    members = [(b"small.csv", b"9" * (4 * 1024 * 1024)), (b"ok.csv", CSV_PO)]
    return simple(attachment('filename="liar.zip"', raw_zip(members,
                                                            declared={b"small.csv": 100}),
                             "application/zip"))


def zip_cut_off() -> bytes:
    return simple(attachment('filename="po.xlsx"', po_xlsx()[:-300]))


PO_HTML = """<html><head><meta charset="utf-8"><style>td {{ border: 1px solid }}</style>
<title>PO</title></head><body>
<table width="100%"><tr><td>
 <p>您好，附件为本周订单。</p><p>Delivery date: 2026-12-20<br>Payment: 30 days</p>
 <table border="1">
  <tr><th>序号<br>No.</th><th>商品名称 Product</th><th colspan="2">数量 Quantity</th>
      <th>单价&nbsp;Unit&nbsp;price</th></tr>
  <tr><td></td><td></td><td>箱 Cartons</td><td>件 Pieces</td><td></td></tr>
  <tr><td>1</td><td>红色小部件&nbsp;Red widget</td><td>2</td><td>24</td><td>12.50</td></tr>
  <tr><td>2</td><td>蓝色 &amp; 绿色<br>Blue &amp;  green</td><td>1</td><td>12</td>
      <td>8.00</td></tr>
 </table>
 {quoted}
</td></tr><tr><td>Huaxin Trading · Shenzhen</td></tr></table>
</body></html>"""
QUOTED_HTML = ("<blockquote type=\"cite\"><table><tr><td>Old</td><td>Order</td></tr>"
               "<tr><td>X</td><td>1</td></tr></table></blockquote>")


def html_only() -> bytes:
    return entity(*top("PO#2026-011", content_type="text/html; charset=utf-8"),
                  "Content-Transfer-Encoding: quoted-printable",
                  body=_qp(PO_HTML.format(quoted=QUOTED_HTML)))


def _qp(text: str) -> bytes:
    return quopri.encodestring(text.encode())


def text_only() -> bytes:
    return entity(*top("PO#2026-012", content_type="text/plain; charset=gb2312"),
                  "Content-Transfer-Encoding: 8bit",
                  body=("订单如下：\r\n\r\n" + aligned_table() + "\r\n谢谢\r\n").encode("gb18030"))


def alternative_with_logo() -> bytes:
    """multipart/alternative (text and HTML, the HTML in multipart/related with a logo it
    shows), then a calendar invitation and a vCard, which are not documents."""
    html = entity(*["Content-Type: text/html; charset=utf-8"],
                  body=PO_HTML.format(quoted='<img src="cid:logo@huaxin">').encode())
    logo = entity("Content-Type: image/png", "Content-ID: <logo@huaxin>",
                  'Content-Disposition: inline; filename="image001.png"',
                  "Content-Transfer-Encoding: base64", body=b64(PNG))
    related = entity('Content-Type: multipart/related; boundary="=_rel"',
                     body=multipart(html, logo, boundary="=_rel"))
    alternative = entity('Content-Type: multipart/alternative; boundary="=_alt"',
                         body=multipart(text_part("序号 No.\t商品名称 Product\n1\tRed\n"),
                                        related, boundary="=_alt"))
    calendar = entity("Content-Type: text/calendar; method=REQUEST; charset=utf-8",
                      body="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    card = entity('Content-Type: text/x-vcard; name="zhang.vcf"',
                  'Content-Disposition: attachment; filename="zhang.vcf"',
                  body="BEGIN:VCARD\r\nFN:Zhang Wei\r\nEND:VCARD\r\n")
    return entity(*top("PO#2026-013"), body=multipart(alternative, calendar, card))


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def aligned_table() -> str:
    """Columns aligned with spaces as a CJK-aware mailer shows them (ideographs two wide)."""
    rows = [["商品编号", "商品名称", "数量", "单价"],
            ["HX-100", "红色小部件", "2", "12.50"],
            ["HX-200", "蓝色大号部件 XL", "10", "8.00"],
            ["HX-300", "Green gadget", "1", "120.00"]]
    widths = [max(display_width(r[c]) for r in rows) for c in range(4)]
    lines = []
    for row in rows:
        cells = [row[0] + " " * (widths[0] - display_width(row[0])),
                 row[1] + " " * (widths[1] - display_width(row[1])),
                 " " * (widths[2] - display_width(row[2])) + row[2],
                 " " * (widths[3] - display_width(row[3])) + row[3]]
        lines.append("   ".join(cells).rstrip())
    return "\r\n".join(lines) + "\r\n"


def text_tables_mail() -> bytes:
    text = ("Hello,\n\nour order:\n\n"
            "| SKU | 商品 | Qty |\n|---|:---:|--:|\n| HX-100 | 红色小部件 | 2 |\n"
            "| HX-200 | 垫片 | 10 |\n\n"
            "Second list, from Excel:\n"
            "SKU\tQty\tNote\nHX-300\t1\turgent\nHX-400\t4\t\n\n"
            "Thanks\n"
            "> On Mon, Li Na wrote:\n> | SKU | Qty |\n> |---|---|\n> | OLD-1 | 9 |\n"
            "> | OLD-2 | 9 |\n"
            "\n-- \nZhang Wei\nPhone  +86 755 0000 0000\nFax    +86 755 0000 0001\n"
            "Mail   buyer@huaxin.example\n")
    return entity(*top("PO#2026-014", content_type="text/plain; charset=utf-8"),
                  body=text.encode())


DATES = {
    "Mon, 1 Dec 2026 09:30:00 +0800 (CST)": "2026-12-01T09:30:00+08:00",
    "1 Dec 2026 09:30:00 +0800": "2026-12-01T09:30:00+08:00",
    "Tue, 02 Dec 26 17:05:09 -0500": "2026-12-02T17:05:09-05:00",
    "Wed, 3 Dec 2026 01:00:00 GMT": "2026-12-03T01:00:00+00:00",
    "Thu, 4 Dec 2026 08:00 +0530": "2026-12-04T08:00:00+05:30",
    "not a date": "",
    "": "",
}


def dated(date: str) -> bytes:
    return simple(date=date)


def mbox(*, crlf: bool, quoted: bool) -> bytes:
    """Three mails in one mbox file; the second holds a body line starting with "From ",
    quoted as ">From " (mboxrd) or not (as some writers leave it)."""
    line = ">From" if quoted else "From"
    texts = [
        "From buyer@huaxin.example Mon Dec  1 09:30:00 2026\n"
        "From: buyer@huaxin.example\nSubject: first\nMessage-ID: <m1@x>\n\nOne.\n",
        "From li.na@supplier.example Mon Dec  1 10:00:00 2026\n"
        "From: li.na@supplier.example\nSubject: second\nMessage-ID: <m2@x>\n\n"
        f"Hello,\n\n{line} the warehouse: 3 pallets today.\n>>From here, quoted twice.\n"
        "Bye\n",
        "From MAILER-DAEMON Tue Dec  2 08:00:00 2026\n"
        "From: ops@ourshop.example\nSubject: third\nMessage-ID: <m3@x>\n\nThree.\n",
    ]
    data = "\n".join(texts).encode()
    return data.replace(b"\n", b"\r\n") if crlf else data


def not_a_mail() -> bytes:
    return b"\x00\x01binary junk\xff\xfe" * 20


MAILS: dict[str, Callable[[], bytes]] = {
    "gbk_subject_labelled_gb2312": gbk_subject_labelled_gb2312,
    "encoded_words_cut_inside_characters": encoded_words_cut_inside_characters,
    "raw_8bit_headers": raw_8bit_headers,
    "raw_utf8_subject": raw_utf8_subject,
    "folded_subject": folded_subject,
    "malformed_encoded_word": malformed_encoded_word,
    "rfc2231_gb18030_continuations": rfc2231_gb18030_continuations,
    "rfc2047_quoted_names": rfc2047_quoted_names,
    "raw_8bit_name": raw_8bit_name,
    "names_with_paths": names_with_paths,
    "lying_types": lying_types,
    "broken_base64": broken_base64,
    "cut_off_mail": cut_off_mail,
    "cut_mid_line": cut_mid_line,
    "transfer_encodings": transfer_encodings,
    "forwarded_as_attachment": forwarded_as_attachment,
    "forwarded_inline": forwarded_inline,
    "winmail_dat": winmail_dat,
    "winmail_damaged": winmail_damaged,
    "big_attachment": big_attachment,
    "zip_attachment": zip_attachment,
    "zip_utf8_flagged": zip_utf8_flagged,
    "zip_bomb_ratio": zip_bomb_ratio,
    "zip_many_members": zip_many_members,
    "zip_nested_and_encrypted": zip_nested_and_encrypted,
    "zip_lying_sizes": zip_lying_sizes,
    "zip_cut_off": zip_cut_off,
    "html_only": html_only,
    "text_only": text_only,
    "alternative_with_logo": alternative_with_logo,
    "text_tables_mail": text_tables_mail,
    "not_a_mail": not_a_mail,
}


def write_corpus(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in MAILS.items():
        path = folder / f"{name}.eml"
        path.write_bytes(make())
        written.append(path)
    for crlf in (False, True):
        for quoted in (False, True):
            path = folder / f"mbox-{'crlf' if crlf else 'lf'}-{'rd' if quoted else 'o'}.mbox"
            path.write_bytes(mbox(crlf=crlf, quoted=quoted))
            written.append(path)
    return written


if __name__ == "__main__":
    for written in write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "mailcorpus")):
        print(written)
