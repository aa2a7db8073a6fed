"""A mail taken apart: each quirk of real mail is a mail of our own (tests/mailcorpus.py),
written as raw bytes, and what ``parse_mail`` makes of it."""

from __future__ import annotations

import base64
import io
import time
import zipfile

import mailcorpus as corpus
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_spreadsheets import compound_file

from ingest.readers.mime import (
    Mail,
    MailLimits,
    Part,
    decode_header_text,
    parse_mail,
    sender_matches,
    sniff,
    split_mbox,
    subject_matches,
)

XLSX = corpus.po_xlsx()


def attachments(mail: Mail) -> dict[str, Part]:
    return {p.name: p for p in mail.parts if p.kind == "attachment"}


def problems(mail: Mail) -> dict[str, tuple[str, str]]:
    return {p.name: (p.code, p.reason) for p in mail.problems}


# ---- headers ----------------------------------------------------------------------------

def test_gbk_characters_in_a_subject_labelled_gb2312_are_read_as_gb18030() -> None:
    mail = parse_mail(corpus.gbk_subject_labelled_gb2312())
    assert mail.subject == "采购订单 镕囧堃 PO#7"
    assert mail.sender == "buyer@huaxin.example" and mail.sender_name == "Zhang Wei"


@pytest.mark.parametrize("label", ["gb2312", "GBK", "gb_2312-80", "x-gbk", "GB18030", "cp936"])
def test_every_gb_label_decodes_gbk_only_characters(label: str) -> None:
    raw = "订单镕囧".encode("gb18030")
    assert decode_header_text(f"=?{label}?B?{base64.b64encode(raw).decode()}?=") == "订单镕囧"


def test_encoded_words_cut_inside_a_character_are_joined_as_bytes_before_decoding() -> None:
    mail = parse_mail(corpus.encoded_words_cut_inside_characters())
    assert mail.subject == "订单确认：红色小部件 / 采购单镕"


def test_raw_8bit_headers_are_gb18030_or_utf8() -> None:
    mail = parse_mail(corpus.raw_8bit_headers())
    assert mail.subject == "采购订单 第12期"
    assert (mail.sender, mail.sender_name) == ("wang.fang@huaxin.example", "王芳")
    assert parse_mail(corpus.raw_utf8_subject()).subject == "Bestellung für Müller – 订单"
    assert decode_header_text("café".encode("latin-1")) == "café"  # (neither: Latin-1)


def test_folded_subject_has_no_leading_space_and_one_space_per_fold() -> None:
    assert parse_mail(corpus.folded_subject()).subject == \
        "Purchase order PO#2026-001 for December"


def test_malformed_encoded_words_stay_as_text() -> None:
    subject = parse_mail(corpus.malformed_encoded_word()).subject
    # A bad base64 word and an unterminated one as written; an unknown charset decoded by
    # the fallbacks (Latin-1 here); whitespace between a text and a word is kept.
    assert subject == "=?utf-8?B?@@@?= PO 订单café =?utf-8?Q?unterminated"


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
@settings(max_examples=300)
def test_header_decoding_never_raises(raw: bytes | str) -> None:
    assert isinstance(decode_header_text(raw), str)


LABELS = ["utf-8", "gb2312", "utf-16", "utf-7", "hex", "rot13", "undefined", "idna",
          "punycode", "unicode-escape", "base64", "zlib", "no-such", "", "gbk*zh"]


@given(st.sampled_from(LABELS), st.sampled_from("BbQq"), st.text(max_size=40))
@settings(max_examples=300)
def test_encoded_words_in_any_label_never_raise(label: str, kind: str, payload: str) -> None:
    decoded = decode_header_text(f"x =?{label}?{kind}?{payload}?= y")
    assert isinstance(decoded, str) and "\x00" not in decoded


# ---- attachment names -------------------------------------------------------------------

def test_rfc2231_name_with_continuations_in_gb18030() -> None:
    mail = parse_mail(corpus.rfc2231_gb18030_continuations())
    [part] = mail.parts
    assert part.name == "华信采购订单2026年12月.xlsx" and part.where == "2"
    assert part.data == XLSX and part.suffix == ".xlsx"


def test_rfc2047_inside_quoted_names_and_the_content_type_name() -> None:
    found = attachments(parse_mail(corpus.rfc2047_quoted_names()))
    assert set(found) == {"订单明细.xlsx", "发货单.csv"}
    assert found["订单明细.xlsx"].declared_type == "application/vnd.ms-excel"
    assert found["订单明细.xlsx"].suffix == ".xlsx"
    assert found["发货单.csv"].data == corpus.CSV_PO


def test_raw_8bit_gb18030_file_name() -> None:
    assert list(attachments(parse_mail(corpus.raw_8bit_name()))) == ["订单.xlsx"]


def test_a_name_with_a_path_keeps_its_last_component() -> None:
    assert list(attachments(parse_mail(corpus.names_with_paths()))) == \
        ["po-fake.xlsx", "orders.csv"]


# ---- kinds by the bytes -----------------------------------------------------------------

def test_declared_types_that_lie_are_decided_by_the_bytes() -> None:
    parts = parse_mail(corpus.lying_types()).parts
    assert [(p.name, p.declared_type, p.suffix) for p in parts] == [
        ("po.xlsx", "application/octet-stream", ".xlsx"),
        ("po-2.xls", "application/vnd.ms-excel", ".xlsx"),
        ("scan.gif", "image/gif", ".jpg"),
        ("lines.csv", "application/octet-stream", ".csv"),
        ("attachment-6.tsv", "text/plain", ".tsv"),  # (unnamed: a made-up name)
    ]


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


ODS = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
            "content.xml": b"<x/>"})
XLSM = _zip({"[Content_Types].xml": b'<Override ContentType="application/vnd.ms-excel.sheet.'
             b'macroEnabled.main+xml"/>', "xl/workbook.xml": b"<w/>"})
ENCRYPTED = compound_file({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"x"})


@pytest.mark.parametrize(("data", "name", "kind"), [
    (XLSX, "", ".xlsx"), (XLSX, "po.csv", ".xlsx"), (XLSM, "", ".xlsm"), (ODS, "x", ".ods"),
    (_zip({"a.csv": b"a,b"}), "orders.zip", ".zip"), (XLSX[:-200], "po.xlsx", ".xlsx"),
    (compound_file({"Workbook": b"\x09\x08" + b"\0" * 100}), "po.xlsx", ".xls"),
    (ENCRYPTED, "locked.xls", ".xlsx"), (compound_file({"WordDocument": b"x"}), "a.doc", ".doc"),
    (b"%PDF-1.7\n...", "po.xlsx", ".pdf"), (corpus.JPEG, "x.gif", ".jpg"), (corpus.PNG, "", ".png"),
    (b"GIF89a" + bytes(20), "", ".gif"), (b"II*\x00" + bytes(20), "", ".tif"),
    (b"BM\x10\x00\x00\x00\x00\x00\x00\x00" + bytes(20), "", ".bmp"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "", ".webp"),
    (b"a,b\n1,2\n", "x.csv", ".csv"), (b"a\tb\n1\t2\n", "x.tsv", ".tsv"),
    (b"a\tb\n1\t2\n", "export.txt", ".tsv"), (b"a\tb\n1\t2\n", "", ".tsv"),
    (b"a\tb\n1\t2\n", "po.xls", ".tsv"), (b"a,b\n1,2\n", "notes.txt", ".csv"),
    (b"Hello, please ship soon.\n", "note.txt", ".txt"),
    ("SKU\tQty\r\n镕-1\t2\r\n".encode("utf-16"), "unicode.txt", ".tsv"),
    (b"<html><body><table><tr><td>1</td></tr></table>", "po.xls", ".html"),
    (bytes(range(256)) * 4, "data.BIN", ".bin"), (bytes(range(256)) * 4, "", ""),
])
def test_sniff_decides_by_the_bytes(data: bytes, name: str, kind: str) -> None:
    assert sniff(data, name) == kind


# ---- damage -----------------------------------------------------------------------------

def test_broken_base64_is_a_problem_never_a_part() -> None:
    mail = parse_mail(corpus.broken_base64())
    assert list(attachments(mail)) == ["PO-4.xlsx"]
    found = problems(mail)
    for name, defect in [("PO-1.xlsx", "InvalidBase64LengthDefect"),
                         ("PO-2.xlsx", "InvalidBase64PaddingDefect"),
                         ("PO-3.xlsx", "InvalidBase64CharacterDefect")]:
        code, reason = found[name]
        assert code == "damaged-attachment"
        assert reason == (f"attachment {name!r} (part {int(name[3]) + 1}): its base64 is "
                          f"broken ({defect}); it is not read as data")


def test_a_mail_cut_inside_its_last_attachment() -> None:
    mail = parse_mail(corpus.cut_off_mail())  # cut at a line end: the base64 looks sound
    assert list(attachments(mail)) == ["lines.csv"]
    assert problems(mail)["po.xlsx"][0] == "damaged-attachment"
    assert "cut off" in problems(mail)["po.xlsx"][1]
    assert problems(mail)[""][0] == "damaged-mail"
    mail = parse_mail(corpus.cut_mid_line())
    assert mail.parts == () and problems(mail)["po.xlsx"][0] == "damaged-attachment"


def test_a_zip_workbook_without_its_end_is_damaged() -> None:
    mail = parse_mail(corpus.zip_cut_off())
    assert mail.parts == ()
    assert problems(mail) == {"po.xlsx": ("damaged-attachment", "attachment 'po.xlsx' (part "
                              "2): it is a zip archive whose end is missing (cut off); it is "
                              "not read as data")}


def test_transfer_encodings_8bits_binary_and_unknown_take_the_bytes_as_they_are() -> None:
    parts = parse_mail(corpus.transfer_encodings()).parts
    assert [(p.name, p.data) for p in parts] == [(n, corpus.CSV_PO) for n in
                                                ("a.csv", "b.csv", "c.csv", "d.csv")]


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", corpus.not_a_mail()])
def test_what_is_not_a_mail_is_a_damaged_mail(data: bytes) -> None:
    mail = parse_mail(data)
    assert mail.parts == ()
    assert [p.code for p in mail.problems] == ["damaged-mail"]


@given(st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_mail_damaged_anywhere_never_raises(data: st.DataObject) -> None:
    raw = corpus.MAILS[data.draw(st.sampled_from(sorted(corpus.MAILS)))]()
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(st.lists(st.integers(0, max(len(raw) - 1, 0)), max_size=8))
    mangled = bytearray(raw[:cut])
    for at in flips:
        if at < len(mangled):
            mangled[at] ^= 0x5A
    mail = parse_mail(bytes(mangled))
    assert all(p.code in ("damaged-attachment", "attachment-too-large", "zip-bomb",
                          "tnef-unreadable", "damaged-mail") for p in mail.problems)


# ---- forwards ---------------------------------------------------------------------------

def test_forwarded_mails_give_their_attachments_and_the_outer_headers() -> None:
    mail = parse_mail(corpus.forwarded_as_attachment())
    assert (mail.subject, mail.sender) == ("Fwd: Fwd: PO#2026-009", "ops@ourshop.example")
    [part] = mail.parts
    assert (part.name, part.where, part.data) == ("PO-9.xlsx", "2/2/2", XLSX)
    # The forwarded mails' text follows the outer body's: their labelled lines are there.
    assert mail.body_text == "FYI\n\nsee below\n\nDelivery date: 2026-12-20"


def test_a_forward_whose_inner_mail_is_inline_text() -> None:
    mail = parse_mail(corpus.forwarded_inline())
    assert mail.subject == "Fwd: PO#2026-010"
    assert "Delivery date: 2026-12-22" in mail.body_text.splitlines()
    [table] = mail.parts
    assert (table.name, table.kind, table.where) == ("body-table-1.csv", "body-table", "body")
    assert table.data.decode().splitlines()[0] == "SKU,Product,Qty"


def test_forwards_nested_deeper_than_ten_are_not_read() -> None:
    inner = corpus.inner_mail("PO", corpus.attachment('filename="deep.xlsx"', XLSX))
    for level in range(12):
        boundary = f"=_level{level}"
        inner = corpus.entity(
            *corpus.top(f"Fwd {level}", content_type=f'multipart/mixed; boundary="{boundary}"'),
            body=corpus.multipart(corpus.entity("Content-Type: message/rfc822", body=inner),
                                  boundary=boundary))
    mail = parse_mail(inner)
    assert mail.subject == "Fwd 11" and mail.parts == ()
    assert [p.code for p in mail.problems] == ["damaged-mail"]
    shallow = parse_mail(corpus.entity(*corpus.top("Fwd"), body=corpus.multipart(
        corpus.entity("Content-Type: message/rfc822", body=corpus.inner_mail(
            "PO", corpus.attachment('filename="deep.xlsx"', XLSX))))))
    assert [p.where for p in shallow.parts] == ["1/2"]


def test_a_forward_as_an_eml_file_or_in_base64_is_read_too() -> None:
    inner = corpus.inner_mail("PO#5", corpus.attachment('filename="PO-5.xlsx"', XLSX))
    as_file = corpus.simple(corpus.attachment('filename="PO#5.eml"', inner,
                                              "application/octet-stream"))
    encoded = corpus.simple(corpus.entity("Content-Type: message/rfc822",
                                          "Content-Transfer-Encoding: base64",
                                          body=corpus.b64(inner)))
    for raw in (as_file, encoded):
        mail = parse_mail(raw)
        assert [(p.name, p.where, p.data) for p in mail.parts] == [("PO-5.xlsx", "2/2", XLSX)]
        assert mail.subject == "PO#2026-001" and "Delivery date: 2026-12-20" in mail.body_text


def test_parts_nested_too_deep_for_the_parser_are_a_damaged_mail() -> None:
    body = corpus.text_part("hi\n")
    for level in range(2000):
        boundary = f"=_d{level}"
        body = corpus.entity(f'Content-Type: multipart/mixed; boundary="{boundary}"',
                             body=corpus.multipart(body, boundary=boundary))
    mail = parse_mail(b"From: a@b.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n" + body)
    assert (mail.subject, mail.sender, mail.parts) == ("deep", "a@b.example", ())
    assert [p.code for p in mail.problems] == ["damaged-mail"]


# ---- TNEF -------------------------------------------------------------------------------

def test_winmail_dat_gives_the_files_packed_in_it() -> None:
    mail = parse_mail(corpus.winmail_dat())
    assert [(p.name, p.where, p.suffix) for p in mail.parts] == [
        ("PO-7.xlsx", "2/PO-7.xlsx", ".xlsx"), ("采购明细.csv", "2/采购明细.csv", ".csv")]
    assert mail.parts[0].data == XLSX  # (byte for byte: a zip's trailing zeros too)
    assert mail.parts[1].data == corpus.CSV_PO and mail.problems == ()


def test_winmail_dat_short_names_in_the_code_page() -> None:
    blob = corpus.tnef_blob([("订单.csv", corpus.CSV_PO)], long_names=False)
    mail = parse_mail(corpus.simple(corpus.attachment('filename="winmail.dat"', blob,
                                                      "application/octet-stream")))
    assert [p.name for p in mail.parts] == ["订单.csv"]


def test_a_damaged_winmail_dat_is_tnef_unreadable() -> None:
    mail = parse_mail(corpus.winmail_damaged())
    assert mail.parts == ()
    code, reason = problems(mail)["winmail.dat"]
    assert code == "tnef-unreadable" and "checksum" in reason
    not_tnef = corpus.simple(corpus.attachment('filename="winmail.dat"', b"junk" * 10,
                                               "application/ms-tnef"))
    assert problems(parse_mail(not_tnef))["winmail.dat"][0] == "tnef-unreadable"


# ---- limits -----------------------------------------------------------------------------

def test_an_attachment_over_the_limit_is_refused_before_it_is_decoded() -> None:
    mail = parse_mail(corpus.big_attachment(4000), MailLimits(max_attachment_bytes=3000))
    assert mail.parts == ()
    code, reason = problems(mail)["big.csv"]
    assert code == "attachment-too-large"
    assert reason.startswith("attachment 'big.csv' (part 2): it is about 4,0")
    assert reason.endswith("over the limit of 3,000 bytes; it is not read")
    # The size is told from the encoded length: broken base64 that big is too large first.
    broken = corpus.simple(corpus.entity(
        "Content-Type: text/csv", 'Content-Disposition: attachment; filename="b.csv"',
        "Content-Transfer-Encoding: base64", body=b"!!!!" * 2000))
    assert problems(parse_mail(broken, MailLimits(max_attachment_bytes=3000)))["b.csv"][0] \
        == "attachment-too-large"
    assert len(parse_mail(corpus.big_attachment(4000)).parts) == 1
    huge_text = corpus.entity(*corpus.top(content_type="text/plain"), body=b"x" * 4000)
    [problem] = parse_mail(huge_text, MailLimits(max_attachment_bytes=3000)).problems
    assert (problem.code, problem.where) == ("attachment-too-large", "1")


# ---- zips -------------------------------------------------------------------------------

def test_zip_members_become_parts_with_their_names_decoded_and_junk_skipped() -> None:
    mail = parse_mail(corpus.zip_attachment())
    assert [(p.name, p.where, p.suffix) for p in mail.parts] == [
        ("orders.zip/订单/采购单.xlsx", "2/订单/采购单.xlsx", ".xlsx"),  # GBK, no UTF-8 flag
        ("orders.zip/orders/lines.csv", "2/orders/lines.csv", ".csv"),
        ("orders.zip/Bestellübersicht.csv", "2/Bestellübersicht.csv", ".csv"),  # cp437
        ("orders.zip/scan.jpg", "2/scan.jpg", ".jpg"),
    ]  # (the folder, __MACOSX and the readme note are not documents)
    assert mail.parts[0].data == XLSX and mail.problems == ()
    assert [p.name for p in parse_mail(corpus.zip_utf8_flagged()).parts] == \
        ["orders.zip/订单-二.xlsx"]


def test_zip_bombs_are_refused_whole() -> None:
    for mail, detail in [
            (parse_mail(corpus.zip_bomb_ratio()), "more than 100x"),
            (parse_mail(corpus.zip_many_members(120)), "it holds 120 files; the limit is 100"),
            (parse_mail(corpus.zip_attachment(), MailLimits(max_zip_total_bytes=5000)),
             "the limit is 5,000")]:
        assert mail.parts == ()
        [problem] = mail.problems
        assert problem.code == "zip-bomb" and detail in problem.reason
        assert problem.reason.endswith("it is not unpacked")


def test_a_zip_inside_a_zip_and_an_encrypted_member_are_problems_the_rest_is_read() -> None:
    mail = parse_mail(corpus.zip_nested_and_encrypted())
    assert [p.name for p in mail.parts] == ["mixed.zip/open.csv"]
    found = problems(mail)
    assert found["mixed.zip/inner.zip"][0] == "zip-bomb"
    assert found["mixed.zip/secret.xlsx"] == (
        "damaged-attachment", "attachment 'mixed.zip' (part 2): its file 'secret.xlsx': it is "
        "encrypted (password-protected); it is not read")


def test_a_member_that_lies_about_its_size_is_not_read_past_it() -> None:
    mail = parse_mail(corpus.zip_lying_sizes())
    assert [p.name for p in mail.parts] == ["liar.zip/ok.csv"]
    code, reason = problems(mail)["liar.zip/small.csv"]
    assert code == "damaged-attachment" and "cannot be unpacked" in reason


# ---- bodies -----------------------------------------------------------------------------

def test_html_only_mail_gives_its_table_and_its_text() -> None:
    mail = parse_mail(corpus.html_only())
    [table] = mail.parts
    assert (table.name, table.kind, table.where, table.suffix) == (
        "body-table-1.csv", "body-table", "body", ".csv")
    assert table.data.decode().splitlines()[0] == \
        "序号 No.,商品名称 Product,数量 Quantity,数量 Quantity,单价 Unit price"
    lines = mail.body_text.splitlines()
    assert "Delivery date: 2026-12-20" in lines and "Payment: 30 days" in lines


def test_text_only_mail_in_gb2312_with_an_aligned_table() -> None:
    mail = parse_mail(corpus.text_only())
    assert mail.body_text.startswith("订单如下：")
    [table] = mail.parts
    assert table.data.decode().splitlines()[2] == "HX-200,蓝色大号部件 XL,10,8.00"


def test_alternative_related_logo_calendar_and_vcard() -> None:
    mail = parse_mail(corpus.alternative_with_logo())
    assert [(p.kind, p.name, p.where) for p in mail.parts] == [
        ("body-table", "body-table-1.csv", "body"),  # from the HTML, not the text beside it
        ("inline", "image001.png", "1.2.2")]  # the logo: not an order document
    assert mail.body_text == "序号 No.\t商品名称 Product\n1\tRed"  # (the text alternative)


def test_pasted_tables_in_a_text_body() -> None:
    mail = parse_mail(corpus.text_tables_mail())
    assert [p.data.decode().splitlines()[0] for p in mail.parts] == ["SKU,商品,Qty",
                                                                     "SKU,Qty,Note"]


def test_the_same_mail_gives_the_same_bytes() -> None:
    for make in corpus.MAILS.values():
        assert parse_mail(make()) == parse_mail(make())


# ---- dates, ids -------------------------------------------------------------------------

@pytest.mark.parametrize(("date", "iso"), list(corpus.DATES.items()))
def test_dates_in_common_odd_forms(date: str, iso: str) -> None:
    assert parse_mail(corpus.dated(date)).sent_at == iso


def test_message_ids() -> None:
    assert parse_mail(corpus.simple()).message_id == "po-2026-001@huaxin.example"
    assert parse_mail(corpus.simple(message_id="")).message_id == ""
    assert parse_mail(corpus.simple(message_id="bare-id@x")).message_id == "bare-id@x"


# ---- mbox, filters ----------------------------------------------------------------------

@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("quoted", [False, True], ids=["mboxo", "mboxrd"])
def test_split_mbox(crlf: bool, quoted: bool) -> None:
    messages = split_mbox(corpus.mbox(crlf=crlf, quoted=quoted))
    assert [parse_mail(m).subject for m in messages] == ["first", "second", "third"]
    newline = b"\r\n" if crlf else b"\n"
    second = messages[1]
    assert newline + b"From the warehouse: 3 pallets today." + newline in second
    assert newline + b">From here, quoted twice." + newline in second  # (one ">" less)
    assert messages[0].endswith(b"One." + newline) and not messages[0].startswith(b"From ")
    assert split_mbox(b"") == [] and split_mbox(corpus.simple()) == [corpus.simple()]


def test_sender_patterns() -> None:
    assert sender_matches("Buyer@Huaxin.example", ["*@huaxin.example"])
    assert sender_matches("buyer@huaxin.example", ["buyer@HUAXIN.example"])
    assert sender_matches("li@sub.acme.example", ["*@*.acme.example"])
    assert sender_matches("li@acme.example", ["@acme.example"])
    assert not sender_matches("li@acme.example.evil", ["*@acme.example"])
    assert sender_matches("anyone@x.example", [])


def test_subject_words_in_any_case_and_width() -> None:
    assert subject_matches("Re: ＰＯ＃2026-001 采购订单", ["PO#"])
    assert subject_matches("purchase ORDER 12", ["Purchase order"])
    assert subject_matches("本周采购订单", ["采购订单", "PO"])
    assert not subject_matches("Invoice 12", ["PO#", "订单"])
    assert subject_matches("anything", [])


# ---- speed ------------------------------------------------------------------------------

def test_parsing_is_a_few_milliseconds_per_mail() -> None:
    mails = [corpus.simple(corpus.attachment(f'filename="po-{n}.xlsx"', corpus.padded_xlsx()),
                           subject=f"PO#{n}") for n in range(300)]
    started = time.perf_counter()
    for raw in mails:
        assert len(parse_mail(raw).parts) == 1
    per_mail = (time.perf_counter() - started) / len(mails)
    assert per_mail < 0.005, f"{per_mail * 1000:.2f} ms per mail"
