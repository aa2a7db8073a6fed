"""Errors as data, used by every stage: the one catalogue of row reject, input file and exit codes.

A code is a public contract: analysts filter reject reports on it and operations route files on
it, so a code is never renamed. Each carries the sentence a person reads (a template), what it
means (for the docs, generated from here into README.md) and, for a whole input, whether the
problem is of the moment (``transient``: the file may read on the next run) or of the file
itself (terminal: set it aside).

Templates name their placeholders in braces; ``{value!r}`` shows the value in single quotes.
Row templates are rendered as polars expressions over the failing rows only (``message``);
file templates as plain text (``render``). Both read a template the same way (``_pieces``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

import polars as pl

Kind = Literal["row", "file", "warning", "waiting"]

# What each kind of template may name: a row message shows the field, its source column, the
# value and a detail the check computes; a file message the reason the reader gives.
PLACEHOLDERS: dict[Kind, frozenset[str]] = {
    "row": frozenset({"field", "column", "value", "detail"}),
    "file": frozenset({"reason"}),
    "warning": frozenset({"field", "column", "value", "detail"}),
    "waiting": frozenset({"field", "column", "value", "detail"}),
}


_PLACEHOLDER = re.compile(r"\{(\w+)(!r)?\}")


def _pieces(template: str) -> Iterator[str | tuple[str, bool]]:
    """A template as literal text and (placeholder, quoted) pairs, in order."""
    end = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > end:
            yield template[end:match.start()]
        yield match.group(1), match.group(2) is not None
        end = match.end()
    if end < len(template):
        yield template[end:]


def placeholders(template: str) -> set[str]:
    return {piece[0] for piece in _pieces(template) if isinstance(piece, tuple)}


@dataclass(frozen=True)
class Code:
    """A stable kebab-case code, the sentence a person reads and what it means."""

    code: str
    kind: Kind
    template: str
    meaning: str
    # Whole inputs only: True when the problem is of the moment (retry on the next run),
    # False when it is the file's own (quarantine it: reading it again gives the same).
    transient: bool = False


def _catalogue(*items: Code) -> dict[str, Code]:
    for item in items:
        # A placeholder no renderer fills would fail only when a row first hits the code.
        unknown = placeholders(item.template) - PLACEHOLDERS[item.kind]
        if unknown:
            raise ValueError(f"{item.code}: the template names {sorted(unknown)}")
    return {item.code: item for item in items}


def _row(code: str, template: str, meaning: str) -> Code:
    return Code(code, "row", template, meaning)


def _warning(code: str, template: str, meaning: str) -> Code:
    return Code(code, "warning", template, meaning)


def _waiting(code: str, template: str, meaning: str) -> Code:
    return Code(code, "waiting", template, meaning)


def _file(code: str, template: str, meaning: str, *, transient: bool) -> Code:
    return Code(code, "file", template, meaning, transient)


# One row per code, in the order the docs list them.
CODES: dict[str, Code] = _catalogue(
    # Rows: a field is empty or does not parse.
    _row("missing-required", "{field} is required but column {column} is empty",
         "a required field (order_id, ordered_at, order_status, currency, quantity, "
         "unit_price) is empty"),
    _row("missing-product", "the line names no product: sku and product_name are both empty",
         "neither sku nor product_name"),
    _row("invalid-date", "{field}: {value!r} in column {column} is not a date/time in a "
         "format this channel uses",
         "a date or time in none of the channel's formats, or a local time that does not "
         "exist (a daylight-saving gap)"),
    _row("invalid-money", "{field}: {value!r} in column {column} is not an amount of money",
         "not an amount of money with at most two decimal places (trailing zeros aside)"),
    _row("invalid-quantity", "{field}: {value!r} in column {column} is not a whole number",
         "quantity is not a whole number"),
    _row("invalid-line-no", "{field}: {value!r} in column {column} is not a line number ≥ 1",
         "line_no is not a whole number of 1 or more"),
    _row("invalid-country", "{field}: {value!r} in column {column} is not a known country",
         "a country that is neither an ISO 3166-1 code nor a name ordermill knows"),
    _row("invalid-currency", "{field}: {value!r} in column {column} is not an ISO 4217 code",
         "a currency that is neither an ISO 4217 code nor a name or symbol ordermill knows"),
    _row("unknown-status", "{field}: {value!r} in column {column} is not a known order status",
         "an order status that is not a standard one once the mapping's "
         "`[values.order_status]` has been applied"),
    # Rows: values out of range or disagreeing with each other.
    _row("non-positive-quantity", "{field}: {value!r} in column {column} must be above 0",
         "quantity is 0 or less"),
    _row("negative-amount", "{field}: {value!r} in column {column} must not be negative",
         "unit_price, discount_amount or an order-level amount below 0"),
    _row("total-mismatch",
         "line_total {value} in column {column} is not quantity × unit_price − discount_amount "
         "({detail})",
         "line_total ≠ quantity × unit_price − discount_amount (to the cent)"),
    _row("indivisible-amount",
         "{field}: {value!r} in column {column} does not divide by {detail} into whole cents",
         "an amount the mapping divides by another field (`per = \"quantity\"`: a line "
         "amount to a unit price) does not come out in whole cents"),
    _row("paid-before-ordered", "paid_at {value} is earlier than ordered_at ({detail})",
         "paid_at earlier than ordered_at"),
    _row("order-amount-mismatch",
         "{field}: {value!r} in column {column} is an order-level amount but the lines of this "
         "order disagree ({detail})",
         "the lines of one order carry different values of an order-level amount "
         "(shipping_amount, order_discount_amount): every line of that order is rejected"),
    _row("order-total-mismatch",
         "{field}: {value!r} in column {column} is not what the order adds up to ({detail})",
         "the order total the export states ≠ the order's lines (Σ line_total) − "
         "order_discount_amount + shipping_amount (+ tax_amount where prices exclude tax): "
         "every line of that order is rejected, and the message names both figures"),
    # Rows: across inputs and orders.
    _row("cross-channel-duplicate",
         "order {value} was already received through channel {detail}; not output twice",
         "the same order line already arrived through another channel of the same "
         "`key_scope`"),
    _row("incomplete-order", "order {value} is held back whole: {detail}",
         "another line of the same order was rejected: the order is held back whole, so the "
         "ERP never gets half an order; fix the bad line and feed the rejects back in"),
    # Rows of two-file exports (``[pair]``): the order file's rows and the item file's rows
    # are joined on the order number; what does not join is rejected, never dropped.
    _row("no-order-row", "{detail}",
         "an item row of a two-file export whose order number is in no row of the order file "
         "it was joined with (or is empty): it has no buyer, address, amounts or times"),
    _row("no-item-rows", "{detail}",
         "a row of a two-file export's order file that no item row of its partner file "
         "joins (or whose order number an earlier row of the file already has): an order "
         "without lines"),
    _row("partner-missing", "{detail}",
         "one half of a two-file export waited longer than `pair_wait_days` for its other "
         "half: each of its rows is rejected, the file goes to quarantine; put both files "
         "back together to ingest them"),
    # Lines of a packed export (``[orders] packed_items``): an item cell of an order's row.
    _row("ambiguous-packed-item", "{detail}",
         "an item packed into a cell of its order's row (WebToffee's `line_item_N`, "
         "`name:…` pairs) that does not split into its key:value pairs unambiguously (a "
         "separator or `:` inside a value, which the export does not escape; a key missing "
         "or twice): that line is rejected, never dropped"),
    # Rows the reader found damaged: their fields may be shifted or cut.
    _row("too-many-fields", "the row has more fields than the header ({detail})",
         "the row is damaged: it has more fields than the header"),
    _row("too-few-fields", "the row has fewer fields than the header ({detail})",
         "the row is damaged: it has fewer fields than the header"),
    _row("truncated-row", "the file ends inside this row: an unterminated quoted field",
         "the row is damaged: the file ends inside a quoted field"),
    _row("nul-byte", "the row contains a NUL byte (column {column}): the export is damaged",
         "the row is damaged: it holds a NUL byte"),
    _row("formula-without-value", "{field}: column {column} holds a formula with no value",
         "a spreadsheet cell the mapping reads holds a formula saved without its value "
         "(files written by scripts; Excel and LibreOffice save the value)"),
    # Warnings: a finding about a row that never holds its line back (the line is clean; the
    # field is left empty and the value as read is in warnings.csv). A mapping can make any
    # of them an error: ``[checks] errors = ["masked-contact"]``.
    _warning("masked-contact",
             "{field}: {value!r} in column {column} is masked or encrypted by the platform; "
             "left empty",
             "a phone, e-mail, postcode (or an encrypted name or address) the platform masked "
             "(`138****5678`, `*****`) or encrypted (抖店 `##…`, `$$…`, `…密文`): the field is "
             "left empty, the line goes through"),
    _warning("invalid-phone",
             "{field}: {value!r} in column {column} is not a phone number ordermill can "
             "write as E.164{detail}; left empty",
             "a phone number that cannot be written as E.164 (wrong length, a national number "
             "with no country to read it in, or not a number of its country): the field is "
             "left empty, the line goes through"),
    _warning("invalid-email",
             "{field}: {value!r} in column {column} is not an e-mail address; left empty",
             "not an e-mail address of the form name@domain.tld: the field is left empty, the "
             "line goes through"),
    # ERP profiles (``ingest.writers.erp``): a clean line that one profile cannot write.
    _warning("missing-code",
             "{field} {value!r} has no code in {detail}: its order is left out of this "
             "profile's files",
             "a line of an ERP profile's files whose code (item, customer, sales "
             "organisation, warehouse) the configured lookup table does not hold, or whose "
             "source value is empty where there is no table: its whole order is left out of "
             "that profile's files (never imported with a blank code) and listed in the "
             "profile's `held.csv`; the standard files and other profiles still carry it"),
    # Rows not complete yet: neither clean nor rejected; a later export carries them whole.
    _waiting("not-yet-priced",
             "order {value} is not complete yet ({detail}): taken from a later export",
             "the row matches the mapping's `[waiting]` rule (an Amazon `Pending` order has "
             "no item-price yet): the whole order is counted under `waiting`, neither clean "
             "nor rejected, and is not remembered, so the later export that carries it "
             "complete is taken then"),
    # Whole inputs. The reader words most reasons itself ({reason}): it knows the detail.
    # Of the moment: the same file may read on the next run, so a source leaves it where it
    # is (a folder source does not quarantine it) and the next run tries again.
    _file("cannot-open", "cannot be opened: {reason}",
          "the file cannot be opened now (permission denied, in use, an I/O error); it is "
          "left where it is and read again by the next run",
          transient=True),
    _file("missing-file", "no such file",
          "the file named does not exist (moved or deleted since it was listed)",
          transient=True),
    _file("changed-during-run", "changed while it was being read; it is left for the next run",
          "the file changed while it was read (still being written or copied in): nothing of "
          "it is ingested, and the next run reads it whole",
          transient=True),
    _file("source-unreachable", "{reason}",
          "a configured source cannot be reached (a folder that does not exist, a share not "
          "mounted; a mailbox that is down, refuses the login or the TLS certificate, hangs, "
          "drops the connection or has no such folder): named with the cause; its files or "
          "mail wait for the next run (exit code 5)",
          transient=True),
    # The file's own: reading it again gives the same answer, so it goes to quarantine.
    _file("unreadable-file", "{reason}",
          "the file does not fit what it is read with (no such header row or sheet, no "
          "mapping for the channel named)",
          transient=False),
    _file("empty-file", "the file is empty",
          "the file holds no bytes (a file still being copied in is best written under a "
          "`.part` or `.tmp` name, which folder sources leave for a later run)",
          transient=False),
    _file("reader-failed", "could not be read: {reason}",
          "reading the file failed in a way no other code names (the error is shown): the "
          "file is quarantined and the run goes on; please report it with the file",
          transient=False),
    _file("reader-crashed", "{reason}",
          "the workbook parser (calamine, run in a child process) died on the file, most often "
          "because it asked for more memory than `ORDERMILL_READ_MEMORY_MB` allows (for a "
          "scan: a worker reading one of its pages, `ORDERMILL_OCR_MEMORY_MB`): the file "
          "is quarantined and the run goes on",
          transient=False),
    _file("read-timeout", "{reason}",
          "the workbook parser did not finish within `ORDERMILL_READ_SECONDS` (a scan: a "
          "tesseract call within `ORDERMILL_OCR_SECONDS`) and was stopped: the file is "
          "quarantined and the run goes on; if it is genuine, raise the limit and put it back",
          transient=False),
    _file("unsupported-format", "{reason}", "no reader for the file's extension",
          transient=False),
    _file("binary-file", "{reason}",
          "a binary file under a text extension (a spreadsheet named .csv, say)",
          transient=False),
    _file("undecodable", "{reason}",
          "the text cannot be decoded in the encoding given or detected",
          transient=False),
    _file("malformed-csv", "{reason}", "the CSV cannot be parsed at all", transient=False),
    _file("unreadable-workbook", "{reason}",
          "a truncated or corrupt workbook, or a legacy `.xls` under an `.xlsx` name",
          transient=False),
    _file("encrypted-workbook", "{reason}",
          "a password-protected workbook: ask for a copy saved without a password",
          transient=False),
    _file("not-a-file", "is {reason}, not a regular file: ordermill reads files only (it "
          "is not opened: reading a named pipe would wait for a writer)",
          "the path names a named pipe (FIFO), a device, a socket or a folder, not a file",
          transient=False),
    _file("too-large", "{reason}",
          "the file's structure is over one of ordermill's limits (a sheet's grid of cells, "
          "a workbook's unpacked size or number of sheets, a row's fields, a line's length): "
          "the reason names the limit, the file's figure and the `ORDERMILL_MAX_...` "
          "setting that raises it",
          transient=False),
    _file("workbook-bomb", "{reason}",
          "a part of a workbook unpacks to hundreds of times its packed size, as no real "
          "sheet does (a zip bomb); `ORDERMILL_MAX_ZIP_RATIO` raises the limit",
          transient=False),
    # Mail: a mail's own problems send it to the review folder with the reason; the rest of
    # the mail (its other attachments) and of the poll are still read.
    _file("no-order-data", "{reason}",
          "an order mail (its subject and sender match the source) with no attachment or "
          "body table ordermill reads: it goes to the review folder",
          transient=False),
    _file("no-reader", "{reason}",
          "a mail attachment of a kind ordermill has no reader for (an image other than "
          "PNG, JPEG or TIFF: GIF, BMP, WebP): the mail goes to the review folder, naming "
          "the attachment",
          transient=False),
    _file("damaged-attachment", "{reason}",
          "an attachment whose bytes are damaged (broken base64, cut short, an encrypted zip "
          "member): never read as data; the mail goes to the review folder",
          transient=False),
    _file("attachment-too-large", "{reason}",
          "an attachment over the source's `max_attachment_mb` (default 50): not read; the "
          "mail goes to the review folder",
          transient=False),
    _file("zip-bomb", "{reason}",
          "a zip attachment over the limits on members, unpacked size or packing ratio (a "
          "zip bomb, or an archive too big to be a PO): not unpacked; the mail goes to review",
          transient=False),
    _file("tnef-unreadable", "{reason}",
          "an Outlook `winmail.dat` (TNEF) whose attachments could not be taken out: ask the "
          "sender to send in plain MIME (Outlook: send as HTML or plain text)",
          transient=False),
    _file("damaged-mail", "{reason}",
          "the message itself is broken (not MIME, a multipart cut short): what could be read "
          "of it is read, and the mail goes to the review folder",
          transient=False),
    _file("unknown-channel", "{reason}",
          "no mapping recognises the file (the reason shows its header line and the nearest "
          "mappings; \"holds no table\" for an empty sheet)",
          transient=False),
    # Scans, faxes and PDFs read by OCR (``ingest.readers.scan``, ``ingest.ocr_checks``). A
    # line OCR cannot vouch for goes to a person with the reason: no silent misreads. These
    # row checks apply to OCR'd lines only (a PDF's text layer is not OCR'd).
    _row("ocr-amount-mismatch", "{detail}",
         "a line read by OCR whose quantity × unit price is not its amount as read: one of "
         "the three was misread (the line goes to review; confidence orders the queue)"),
    _row("ocr-line-sequence", "{detail}",
         "a line read by OCR whose line number is not the next in sequence on its page (a "
         "row lost, merged or shifted by the table's reading)"),
    _row("ocr-total-mismatch", "{detail}",
         "the lines read by OCR do not add up to the total printed on the PO (or the "
         "total could not be read): every line of it no other check flagged goes to review"),
    _row("unknown-sku", "{detail}",
         "a SKU read by OCR that is not in the product list (`[checks] products` in the "
         "mapping, `products` in ordermill.toml or `ORDERMILL_PRODUCTS`); without a "
         "product list every OCR'd SKU is unverified and its line goes to review"),
    _file("unreadable-scan", "{reason}",
          "an image, TIFF or PDF that cannot be decoded (corrupt, truncated, not what its "
          "name says)", transient=False),
    _file("encrypted-pdf", "{reason}",
          "a password-protected PDF: ask the sender for a copy without a password",
          transient=False),
    _file("image-bomb", "{reason}",
          "an image or PDF page of more pixels than `ORDERMILL_MAX_PAGE_PIXELS` (a "
          "decompression bomb, or a scan at an absurd resolution): refused before it is "
          "decoded", transient=False),
    _file("no-table-found", "{reason}",
          "no page of the scan holds a ruled table ordermill can read: a blank page, a "
          "photo of something else, handwriting (tesseract does not read handwriting) or a "
          "table without ruling lines; the document goes to review whole", transient=False),
    _file("ocr-unavailable", "{reason}",
          "the OCR engine (tesseract with its eng and chi_sim data) is not installed: the "
          "scan is left where it is and read once it is", transient=True),
)


def code(name: str) -> Code:
    """The catalogue entry of ``name``; a KeyError naming the nearest code for a typo."""
    try:
        return CODES[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(CODES), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"{name!r} is not a catalogued code{hint}") from None


def is_transient(name: str) -> bool:
    """Whether an input failing with code ``name`` may read on the next run (retry it) rather
    than failing again the same way (quarantine it)."""
    entry = code(name)
    if entry.kind != "file":
        raise ValueError(f"{name!r} is a {entry.kind} code: only file codes are transient or not")
    return entry.transient


def codes_of(kind: Kind) -> list[Code]:
    return [entry for entry in CODES.values() if entry.kind == kind]


def message(name: str, values: Mapping[str, pl.Expr | str]) -> pl.Expr:
    """The template of ``name`` as one string expression: each placeholder takes an
    expression (cast to text) or a literal. Built for the failing rows only; a null value
    makes the message null, so callers fill nulls with what the person should read."""
    parts: list[pl.Expr] = []
    text = ""  # literal text not yet emitted: adjacent literals become one
    for piece in _pieces(code(name).template):
        if isinstance(piece, str):
            text += piece
            continue
        value = values[piece[0]]
        quote = "'" if piece[1] else ""
        if isinstance(value, str):
            text += quote + value + quote
            continue
        if text + quote:
            parts.append(pl.lit(text + quote))
        parts.append(value.cast(pl.String))
        text = quote
    if text or not parts:
        parts.append(pl.lit(text))
    return parts[0] if len(parts) == 1 else pl.concat_str(parts)


def render(name: str, **values: str) -> str:
    """The template of ``name`` as plain text (file-level messages)."""
    out = []
    for piece in _pieces(code(name).template):
        if isinstance(piece, str):
            out.append(piece)
        else:
            quote = "'" if piece[1] else ""
            out.append(quote + values[piece[0]] + quote)
    return "".join(out)


class ExitCode(IntEnum):
    """What the process exit status means; documented in ``--help`` and the README."""

    CLEAN = 0
    REJECTS = 1
    USAGE = 2
    UNREADABLE = 3
    LOCKED = 4
    SOURCE_UNREACHABLE = 5
    INTERNAL = 70  # EX_SOFTWARE
    ENVIRONMENT = 74  # EX_IOERR

    @property
    def meaning(self) -> str:
        return EXIT_MEANINGS[self]


EXIT_MEANINGS: dict[ExitCode, str] = {
    ExitCode.CLEAN: "every row clean (or nothing new arrived)",
    ExitCode.REJECTS: "some rows rejected (see `rejects.csv`)",
    ExitCode.USAGE: "usage or configuration error (bad option, broken mapping or config)",
    ExitCode.UNREADABLE: "an input could not be read at all (it is named with its reason; the "
    "others were still processed)",
    ExitCode.LOCKED: "another run holds the lock; this one did nothing",
    ExitCode.SOURCE_UNREACHABLE: "a source could not be reached (a mailbox down, refusing the "
    "login or its certificate; a folder missing): named with the cause; the other sources "
    "were processed, and its mail or files wait for the next run",
    ExitCode.INTERNAL: "internal error: a bug; rerun with `ORDERMILL_DEBUG=1` and report it",
    ExitCode.ENVIRONMENT: "a folder ordermill writes (named) is full, read-only or gone; "
    "nothing was published: run again once it is fixed",
}


def rule_code(name: str, action: str, meaning: str) -> Code:
    """The catalogue entry of an order rule (``ingest.rules``): operations name their own
    codes, so rule codes are not listed in ``CODES``; a rule's name is refused when it is
    one of them. A reject rule's code is a row code like the others: its message is the
    rule's own (``{detail}``)."""
    if name in CODES:
        raise ValueError(f"{name!r} is one of ordermill's own codes")
    return Code(name, "row", "{detail}", f"{action}: {meaning}")


def bundled_rule_codes() -> list[Code]:
    """The codes of the bundled example rules (top-level ``rules/``, installed as
    ``ingest.bundled_rules``), in file order."""
    from ingest.rules.model import bundled_rules_dir, load_rules
    folder = bundled_rules_dir()
    return [rule_code(r.name, r.action, r.description or r.message)
            for r in load_rules([folder]).rules]


def markdown_table(kind: Kind | Literal["exit", "rule"]) -> str:
    """The README's table of the codes of ``kind``, generated so the docs cannot drift."""
    if kind == "rule":
        rows = ["| code | meaning |", "| --- | --- |"]
        rows += [f"| `{c.code}` | {c.meaning} |" for c in bundled_rule_codes()]
    elif kind == "exit":
        rows = ["| code | meaning |", "| --- | --- |"]
        rows += [f"| {int(member)} | {member.meaning} |" for member in ExitCode]
    elif kind == "file":
        rows = ["| code | meaning | transient |", "| --- | --- | --- |"]
        rows += [f"| `{c.code}` | {c.meaning} | {'yes' if c.transient else 'no'} |"
                 for c in codes_of(kind)]
    else:
        rows = ["| code | meaning |", "| --- | --- |"]
        rows += [f"| `{c.code}` | {c.meaning} |" for c in codes_of(kind)]
    return "\n".join(rows) + "\n"
