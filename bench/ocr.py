"""Benchmarks: faxed and scanned POs read by OCR and routed, end to end, against the truth.

    make bench-ocr                                    # 10 pages per level, RESULTS.md
    .venv/bin/python bench/ocr.py --pages 3 --levels 0 3 --no-write     # a quick look

Pages come from ``bench/ocr_corpus.py`` (deterministic per ``--seed``: the same pages every
run) at its four levels: L0 clean, L1 fax fine, L2 standard fax, L3 bad fax, in its three
layouts and four typefaces taken in turn (``--layouts classic --fonts microhei``: the one
layout and face the figures before them were measured on). Each level's
pages go through ``ingest.api.ingest`` as ``ordermill ingest`` would take them, with the
corpus's product list as ``ORDERMILL_PRODUCTS``, so the real reader, mapping
(``mappings/po-scan.toml``) and routing (``ingest.ocr_checks``) decide. What the reader read
of each page is kept on the way (its ``read_scan`` is watched, not repeated) for the
per-field figures. Per level:

- **rows right**: table lines whose SKU (after the snap to the product list), quantity,
  unit price and amount were all read right (matched to the truth by position);
- **automation**: lines output clean (orders.csv) and exactly right (line number, SKU,
  quantity, unit price, amount), over all lines of the level's POs;
- **silent**: lines output clean but wrong in one of those fields, over all lines; and,
  apart, clean lines whose PO number, date or printed total is wrong (**silent PO**), or
  whose buyer, phone (its digits) or ship-to address is (**silent contact**: contact
  fields are checked for form, not against anything, so a misread that still looks like a
  phone number passes; an empty one shows, and is not counted);
- **per field**: each table field read right (SKU raw and after the snap; names compared
  without spaces, ``×`` and ``x`` taken as one) and each form field found by the mapping's
  label rule and right (phone by its digits, buyer and address without spaces);
- **by layout and typeface**: rows right, automation and silent errors of each level's
  pages of each layout and of each typeface, to show where errors come from;
- **CPU s/page**: user + system time of this process and its children (tesseract runs as
  one), for the reading alone and for the whole ingest, on one core per engine
  (``OMP_THREAD_LIMIT=1``, onnxruntime with one thread); the engines' one-time loading
  is shown apart.

Targets (the OCR issue): clean: rows right >= 99 %, automation >= 98 %, silent 0; fax fine
and standard: automation >= 85 %, silent 0; bad fax: automation >= 40 %, silent <= 1 %;
at most 2.5 CPU s a page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import ocr_corpus as corpus  # noqa: E402

from ingest.api import ingest  # noqa: E402
from ingest.mapping.form import find_value  # noqa: E402
from ingest.mapping.loader import load_mapping  # noqa: E402
from ingest.ocr_checks import snap  # noqa: E402
from ingest.readers import engines, rapid, scan, tesseract  # noqa: E402
from ingest.writers.formats import unguarded  # noqa: E402

LEVELS = {0: "L0 clean", 1: "L1 fax fine", 2: "L2 fax standard", 3: "L3 bad fax"}
# level -> (rows right, automation, silent) targets in %, None where none is set
TARGETS: dict[int, tuple[float | None, float, float]] = {
    0: (99.0, 98.0, 0.0), 1: (None, 85.0, 0.0), 2: (None, 85.0, 0.0), 3: (None, 40.0, 1.0)}
CPU_TARGET = 2.5
TABLE_FIELDS = ("no", "sku", "sku snapped", "name", "quantity", "unit_price", "amount")
FORM_FIELDS = {"po_number": "order_id", "date": "ordered_at", "buyer": "buyer_name",
               "phone": "buyer_phone", "address": "ship_address", "total": "order_total"}
KEY = ("line_no", "sku", "quantity", "unit_price", "line_total")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # mappings/po-scan.toml [parse] timezone
SECTION = "## OCR of faxed purchase orders (`make bench-ocr`)"


def cpu() -> float:
    """CPU seconds of this process and its waited-for children (tesseract)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Level:
    level: int
    pages: int = 0
    lines: int = 0
    rows_right: int = 0
    clean_right: int = 0
    silent: int = 0
    silent_po: int = 0
    silent_contact: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    form: Counter[str] = field(default_factory=Counter)
    name_errors: int = 0  # characters (edit distance) over all names
    name_chars: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    read_cpu: float = 0.0
    ingest_cpu: float = 0.0
    wall: float = 0.0
    # "layout classic", "font zenhei", ... -> lines, rows_right, clean_right, silent
    by: dict[str, Counter[str]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # silent errors
    misreads: list[str] = field(default_factory=list)  # what the reader got wrong

    def share(self, count: int) -> float:
        return 100.0 * count / self.lines if self.lines else 0.0

    def count(self, page: corpus.Truth, what: str, n: int = 1) -> None:
        """Add to the counts of the page's layout and typeface."""
        for key in (f"layout {page.layout}", f"font {page.font}"):
            self.by.setdefault(key, Counter())[what] += n


# -- comparing what was read with the truth ----------------------------------------------

def amount(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return None


def squeeze(text: str | None) -> str:
    """NFKC, no whitespace, ``×`` as ``x``: how names, buyers and addresses are compared."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", "", text).replace("×", "x").casefold()


def distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def iso_date(text: str | None) -> str | None:
    found = re.search(r"(\d{4})\D{0,3}(\d{1,2})\D{0,3}(\d{1,2})", text or "")
    if found is None:
        return None
    year, month, day = (int(g) for g in found.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


FORM_SAME: dict[str, Callable[[str, str | None], bool]] = {
    "po_number": lambda truth, read: (read or "").strip() == truth,
    "date": lambda truth, read: iso_date(read) == truth,
    "buyer": lambda truth, read: squeeze(read) == squeeze(truth),
    "phone": lambda truth, read: re.sub(r"\D", "", read or "") == re.sub(r"\D", "", truth),
    "address": lambda truth, read: squeeze(read) == squeeze(truth),
    "total": lambda truth, read: amount(read) == amount(truth),
}


def table_of(sheet: scan.Sheet) -> tuple[list[str], list[list[str]]]:
    """The first header row and the table rows under it (all pages)."""
    header: list[str] = []
    rows: list[list[str]] = []
    for cells, kind in zip(sheet.rows, sheet.kinds, strict=True):
        if kind == "header" and not header:
            header = cells
        elif kind == "line" and header and len(cells) == len(header):
            rows.append(cells)
    return header, rows


def score_reading(stats: Level, page_name: str, page: corpus.Truth, sheet: scan.Sheet | None,
                  products: frozenset[str], form_rules: dict[str, Any]) -> None:
    """Rows right and per-field accuracy of one page, from what the reader read."""
    if sheet is None:
        stats.misreads.append(f"{page_name}: not read")
    elif len(table_of(sheet)[1]) != len(page.lines):
        stats.misreads.append(f"{page_name}: {len(table_of(sheet)[1])} table rows read, "
                              f"{len(page.lines)} on the page")
    header, rows = table_of(sheet) if sheet is not None else ([], [])
    layout = corpus.LAYOUTS[page.layout]
    where = {name: header.index(label) for name in corpus.FIELDS
             if (label := layout.label(name)) is not None and label in header}

    def cell(row: list[str], name: str) -> str | None:
        return row[where[name]] if name in where else None

    for index, line in enumerate(page.lines):
        row = rows[index] if index < len(rows) else None
        stats.name_chars += len(squeeze(line.name))
        if row is None:
            stats.name_errors += len(squeeze(line.name))
            continue
        raw_sku = cell(row, "sku") or ""
        snapped = snap(raw_sku, products) or raw_sku
        name = cell(row, "name") or ""
        right = {
            "no": cell(row, "no") == str(line.no),
            "sku": raw_sku == line.sku,
            "sku snapped": snapped == line.sku,
            "name": squeeze(name) == squeeze(line.name),
            "quantity": amount(cell(row, "quantity")) == line.quantity,
            "unit_price": amount(cell(row, "unit_price")) == amount(line.unit_price),
            "amount": amount(cell(row, "amount")) == amount(line.amount),
        }
        stats.fields.update(name for name, ok in right.items() if ok)
        truths = {"no": str(line.no), "sku": line.sku, "sku snapped": line.sku,
                  "name": line.name, "quantity": str(line.quantity),
                  "unit_price": line.unit_price, "amount": line.amount}
        reads = {"no": cell(row, "no"), "sku": raw_sku, "sku snapped": snapped,
                 "name": name, "quantity": cell(row, "quantity"),
                 "unit_price": cell(row, "unit_price"), "amount": cell(row, "amount")}
        stats.misreads += [f"{page_name}: line {line.no} {name}: read {reads[name]!r}, is "
                           f"{truths[name]!r}" for name, ok in right.items()
                           if not ok and name != "sku"]
        stats.name_errors += distance(squeeze(name), squeeze(line.name))
        if all(right[f] for f in ("sku snapped", "quantity", "unit_price", "amount")):
            stats.rows_right += 1
            stats.count(page, "rows_right")
    if sheet is None:
        return
    outside = [(number, cells) for number, (cells, kind)
               in enumerate(zip(sheet.rows, sheet.kinds, strict=True), start=1)
               if kind == "form"]
    truth = {"po_number": page.po_number, "date": page.date, "buyer": page.buyer,
             "phone": page.phone, "address": page.address, "total": page.total}
    for name, target in FORM_FIELDS.items():
        value = find_value(form_rules[target], outside)
        if FORM_SAME[name](truth[name], value):
            stats.form[name] += 1
        else:
            stats.misreads.append(f"{page_name}: {name}: read {value!r}, is {truth[name]!r}")


def local_date(instant: str | None) -> str | None:
    """An ``ordered_at`` as written (UTC) as the PO's date where it was written: the
    mapping reads dates in Asia/Shanghai."""
    if not instant:
        return None
    return datetime.fromisoformat(instant).astimezone(SHANGHAI).date().isoformat()


def expected_lines(page: corpus.Truth) -> set[tuple[str, ...]]:
    """(line_no, sku, quantity, unit_price, line_total) as orders.csv writes them."""
    return {(str(line.no), line.sku, str(line.quantity),
             f"{amount(line.unit_price):.2f}", f"{amount(line.amount):.2f}")
            for line in page.lines}


def score_routing(stats: Level, pages: dict[str, corpus.Truth], orders: pl.DataFrame,
                  rejects: pl.DataFrame) -> None:
    for source, page in pages.items():
        expected = expected_lines(page)
        out = orders.filter(pl.col("source") == source)
        stats.count(page, "lines", len(page.lines))
        for row in out.iter_rows(named=True):
            key = tuple(str(row[k]) for k in KEY)
            if key in expected:
                stats.clean_right += 1
                stats.count(page, "clean_right")
            else:
                stats.silent += 1
                stats.count(page, "silent")
                stats.examples.append(f"{Path(source).name}: output {key}")
            po_wrong = (row.get("order_id") != page.po_number
                        or local_date(row.get("ordered_at")) != page.date
                        or amount(row.get("order_total")) != amount(page.total))
            if po_wrong:
                stats.silent_po += 1
                stats.examples.append(f"{Path(source).name}: PO fields {row.get('order_id')} "
                                      f"{row.get('ordered_at')} {row.get('order_total')}")
            phone = re.sub(r"\D", "", str(row.get("buyer_phone") or ""))
            contact_wrong = (  # (a value left empty is not a silent misread: it shows)
                (phone and phone != re.sub(r"\D", "", page.phone))
                or (row.get("buyer_name") and squeeze(row["buyer_name"]) != squeeze(page.buyer))
                or (row.get("ship_address")
                    and squeeze(row["ship_address"]) != squeeze(page.address)))
            if contact_wrong:
                stats.silent_contact += 1
                stats.examples.append(
                    f"{Path(source).name}: contact {row.get('buyer_name')} "
                    f"{row.get('buyer_phone')} {row.get('ship_address')}")
    if rejects.height:
        for codes in rejects["codes"].to_list():
            stats.codes.update(str(codes).split(";")[:1])


# -- running ---------------------------------------------------------------------------------

class Watch:
    """``scan.read_scan`` watched: each input's sheet and the CPU its reading took."""

    def __init__(self) -> None:
        self.sheets: dict[str, scan.Sheet] = {}
        self.cpu: dict[str, float] = {}
        self._read = scan.read_scan

    def __enter__(self) -> Watch:
        def read_scan(name: str, suffix: str, data: bytes) -> scan.Sheet:
            start = cpu()
            sheet = self._read(name, suffix, data)
            self.cpu[name] = cpu() - start
            self.sheets[name] = sheet
            return sheet

        scan.read_scan = read_scan  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        scan.read_scan = self._read  # type: ignore[assignment]


def warm_up() -> float:
    """Load the engines once (RapidOCR's models, tesseract's version check): seconds."""
    start = cpu()
    tesseract.engine()
    engines.describe()
    if rapid.usable():
        rapid.read_cells([corpus.Image.new("L", (60, 30), 255)])
    return cpu() - start


def run_level(level: int, pages: int, seed: int, items: list[corpus.Product], work: Path,
              products: frozenset[str], form_rules: dict[str, Any],
              layouts: list[str], fonts: list[str]) -> Level:
    stats = Level(level)
    folder = work / f"L{level}"
    folder.mkdir(parents=True, exist_ok=True)
    truths: dict[str, corpus.Truth] = {}
    for index in range(pages):
        page, data, suffix = corpus.page_of(level, index, items, seed, layouts=layouts,
                                            fonts=fonts)
        path = folder / f"L{level}-{index:02d}{suffix}"
        path.write_bytes(data)
        truths[str(path)] = page
    stats.pages = len(truths)
    stats.lines = sum(len(p.lines) for p in truths.values())
    start, wall = cpu(), time.perf_counter()
    with Watch() as watch:
        report = ingest(list(truths), work / f"out-L{level}", state_dir=work / f"state-L{level}",
                        mappings_dir=ROOT / "mappings", force=True)
    stats.ingest_cpu = cpu() - start
    stats.wall = time.perf_counter() - wall
    stats.read_cpu = sum(watch.cpu.values())
    batch = report.batch_dir
    orders = pl.DataFrame()
    rejects = pl.DataFrame()
    if batch is not None and (batch / "orders.csv").exists():
        orders = unguarded(pl.read_csv(batch / "orders.csv", infer_schema=False))
    if batch is not None and (batch / "rejects.csv").exists():
        rejects = pl.read_csv(batch / "rejects.csv", infer_schema=False)
    if orders.is_empty():
        orders = pl.DataFrame(schema=dict.fromkeys(("source", *KEY), pl.String))
    for source, page in truths.items():
        score_reading(stats, Path(source).name, page, watch.sheets.get(source), products,
                      form_rules)
    score_routing(stats, truths, orders, rejects)
    unread = [Path(s).name for s in truths if s not in watch.sheets]
    if unread:
        stats.examples.append("not read by the scan reader: " + ", ".join(unread))
    return stats


# -- reporting -------------------------------------------------------------------------------

def pct(value: float) -> str:
    return f"{value:.1f}"


def verdicts(stats: Level) -> list[str]:
    rows_t, auto_t, silent_t = TARGETS[stats.level]
    missed = []
    if rows_t is not None and stats.share(stats.rows_right) < rows_t:
        missed.append(f"rows right < {rows_t:g} %")
    if stats.share(stats.clean_right) < auto_t:
        missed.append(f"automation < {auto_t:g} %")
    if stats.share(stats.silent) > silent_t:
        missed.append(f"silent > {silent_t:g} %")
    if stats.pages and stats.read_cpu / stats.pages > CPU_TARGET:
        missed.append(f"reading > {CPU_TARGET} CPU s/page")
    return missed


def tables(results: list[Level]) -> list[str]:
    lines = ["| level | pages | lines | rows right % | automation % | silent % | silent PO % "
             "| silent contact % | read CPU s/page | ingest CPU s/page | targets |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in results:
        missed = verdicts(s)
        lines.append(
            f"| {LEVELS[s.level]} | {s.pages} | {s.lines} | {pct(s.share(s.rows_right))} "
            f"| {pct(s.share(s.clean_right))} | {pct(s.share(s.silent))} "
            f"| {pct(s.share(s.silent_po))} | {pct(s.share(s.silent_contact))} "
            f"| {s.read_cpu / max(1, s.pages):.2f} "
            f"| {s.ingest_cpu / max(1, s.pages):.2f} "
            f"| {'met' if not missed else 'missed: ' + '; '.join(missed)} |")
    lines += ["", "Per field, % read right (table fields over lines, form fields over pages):",
              "", "| level | " + " | ".join(TABLE_FIELDS) + " | name CER % | "
              + " | ".join(FORM_FIELDS) + " |",
              "| --- " * (2 + len(TABLE_FIELDS) + len(FORM_FIELDS)) + "|"]
    for s in results:
        table = [pct(s.share(s.fields[f])) for f in TABLE_FIELDS]
        cer = 100.0 * s.name_errors / s.name_chars if s.name_chars else 0.0
        form = [pct(100.0 * s.form[f] / s.pages if s.pages else 0.0) for f in FORM_FIELDS]
        lines.append(f"| {LEVELS[s.level]} | " + " | ".join([*table, pct(cer), *form]) + " |")
    keys = sorted({key for s in results for key in s.by},
                  key=lambda k: (k.split()[0] != "layout", k))
    lines += ["", "By layout and typeface (each level's pages of it): lines / rows right % / "
              "automation % / silent %:", "", "| level | " + " | ".join(keys) + " |",
              "| --- " * (1 + len(keys)) + "|"]
    for s in results:
        shown = []
        for key in keys:
            c = s.by.get(key, Counter())
            lines_of = c["lines"]
            shown.append(" / ".join([str(lines_of)] + [pct(100.0 * c[what] / lines_of) for what
                                                       in ("rows_right", "clean_right", "silent")])
                         if lines_of else "-")
        lines.append(f"| {LEVELS[s.level]} | " + " | ".join(shown) + " |")
    lines += ["", "Lines sent to review, by reason (a line's first code):", ""]
    for s in results:
        shown = ", ".join(f"{code} {n}" for code, n in s.codes.most_common()) or "none"
        lines.append(f"- {LEVELS[s.level]}: {shown}")
    return lines


def write_section(path: Path, body: list[str]) -> None:
    """Replace (or add) this benchmark's section of RESULTS.md, leaving the rest."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start].rstrip("\n") + ("\n" + text[end:] if end >= 0 else "")
    text = text.rstrip("\n") + "\n\n" + "\n".join([SECTION, "", *body]) + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=10, help="pages per level (default 10)")
    parser.add_argument("--levels", type=int, nargs="*", default=[0, 1, 2, 3])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layouts", nargs="+", choices=list(corpus.LAYOUTS),
                        default=list(corpus.LAYOUTS), help="layouts taken in turn (all)")
    parser.add_argument("--fonts", nargs="+", choices=list(corpus.FONTS),
                        default=list(corpus.FONTS), help="typefaces taken in turn (all)")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--work", type=Path, help="keep the pages and batches here")
    parser.add_argument("--show", type=int, default=30,
                        help="misreads and silent errors listed per level (default 30)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    items = corpus.products(args.seed)
    mapping = load_mapping(ROOT / "mappings" / "po-scan.toml")
    form_rules = {name: rule.form for name, rule in mapping.fields.items()
                  if rule.form is not None}
    products = frozenset(item.sku for item in items)
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        corpus.write_products(work / "products.csv", items)
        os.environ["ORDERMILL_PRODUCTS"] = str(work / "products.csv")
        os.chdir(work)  # (no ordermill.toml of the caller's is read)
        loading = warm_up()
        results = []
        for level in args.levels:
            stats = run_level(level, args.pages, args.seed, items, work, products, form_rules,
                              args.layouts, args.fonts)
            results.append(stats)
            print(f"{LEVELS[level]}: {stats.pages} pages in {stats.wall:.0f} s", flush=True)
    text_engine = engines.text_engine()
    engine = engines.describe()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [f"- date: {stamp}; machine: {os.cpu_count()} cores, Python "
            f"{sys.version.split()[0]}",
            f"- command: `bench/ocr.py {' '.join(sys.argv[1:])}`".replace("`bench/ocr.py `",
                                                                           "`bench/ocr.py`"),
            f"- engines: {engine} (text columns and the form area: {text_engine}); "
            f"loading them once: {loading:.2f} CPU s",
            f"- corpus: bench/ocr_corpus.py, seed {args.seed}, {args.pages} pages per level; "
            f"layouts {', '.join(args.layouts)}; typefaces {', '.join(args.fonts)}", ""]
    body = head + tables(results)
    print("\n".join(body))
    for s in results:
        for example in s.examples[:args.show]:
            print(f"  {LEVELS[s.level]}: silent: {example}")
        for misread in s.misreads[:args.show]:
            print(f"  {LEVELS[s.level]}: {misread}")
    if not args.no_write:
        write_section(args.results, body)
        print(f"results -> {args.results}")
    print(json.dumps({LEVELS[s.level]: verdicts(s) or "met" for s in results},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
