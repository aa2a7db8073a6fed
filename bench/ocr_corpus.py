"""Synthetic faxed purchase orders with their ground truth, for the OCR tests and benchmark.

Bilingual A4 POs at 200 dpi: a ruled table, a printed total under it and the PO's form
fields (PO number, date, buyer, phone, currency, ship-to) around it, in one of three
layouts (``LAYOUTS``):

- ``classic``: the form above the table (序号/No., 物料编码/SKU, 品名/Description, 数量/Qty,
  单价/Unit Price, 金额/Amount);
- ``item-uom``: the form as a block on the right, beside the company's name; a unit column
  (序号/No., 物料编码/Item, 品名/Description, 单位/UOM, 数量/Qty, 单价/Unit Price,
  金额/Amount);
- ``below``: the form under the table, columns in another order (行号/Line, 品名/Description,
  料号/Part No., 单价/Unit Price, 数量/Qty, 金额/Amount);

and one of four typefaces (``FONTS``): WenQuanYi Micro Hei or Zen Hei throughout, or
DejaVu Sans or DejaVu Serif for Latin text and digits with a WenQuanYi face for Chinese.
Each page's layout and typeface are chosen from the seed (``page_of``: the layouts and
faces it is given in turn, in an order shuffled per seed and level), and its truth records
both. ``classic`` in Micro Hei is the page every figure before the other layouts was
measured on: with ``--layouts classic --fonts microhei`` the corpus is that one, page for
page. The four levels:

- L0 clean (8-bit gray PNG);
- L1 fax fine mode: 0.5-0.8° skew, speckle, 1-bit, G4 TIFF at 200 dpi;
- L2 standard fax: 1-1.5° skew, 200 x 100 dpi (every other row), 1-bit, G3 TIFF;
- L3 bad fax: 1.5-2° skew, blur, a stamp over the date and phone, streaks, JPEG quality 25.

    .venv/bin/python bench/ocr_corpus.py OUT_DIR [--pages 10] [--seed 1]
        [--layouts classic item-uom below] [--fonts microhei zenhei dejavu-sans dejavu-serif]

writes ``L<level>-<n>.<png|tif|jpg>`` with ``L<level>-<n>.json`` (the truth) beside each,
and ``products.csv`` (the buyer's product list every page draws from).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

MICRO_HEI = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
ZEN_HEI = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
DEJAVU = "/usr/share/fonts/truetype/dejavu/"
FONT_PATHS = (MICRO_HEI, ZEN_HEI)
DPI = 200
A4 = (1654, 2339)  # pixels at 200 dpi
# The classic layout's header and column widths.
HEADER = ("序号/No.", "物料编码/SKU", "品名/Description", "数量/Qty", "单价/Unit Price",
          "金额/Amount")
WIDTHS = (150, 290, 450, 180, 230, 260)
# A table column's field (the truth's names), as the bench compares them.
FIELDS = ("no", "sku", "name", "uom", "quantity", "unit_price", "amount")
NUMERIC = frozenset({"no", "quantity", "unit_price", "amount"})  # right-aligned
UNITS = ("PCS", "SET", "KG", "个", "套", "盒")
ROW_HEIGHT = 62
NAMES = ("六角螺栓", "平垫圈", "弹簧垫圈", "内六角螺钉", "尼龙锁紧螺母", "膨胀螺栓", "自攻螺钉",
         "法兰螺母", "铆钉", "销轴", "不锈钢螺杆", "蝶形螺母")
FAMILIES = ("M", "C", "N", "ZN", "T", "HX", "SB", "W")
FINISHES = ("304", "316", "NY", "ZP", "BK", "201", "GR8")
BUYERS = (("王伟", "Wang Wei"), ("李娜", "Li Na"), ("张敏", "Zhang Min"), ("刘洋", "Liu Yang"))
ADDRESSES = ("上海市浦东新区张江路88号3号楼", "江苏省苏州市工业园区星湖街328号",
             "广东省深圳市南山区科技园南路16号", "浙江省宁波市北仑区明州路518号")


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class Line:
    no: int
    sku: str
    name: str
    quantity: int
    unit_price: str
    amount: str
    uom: str = ""  # only in a layout with a unit column


@dataclass(frozen=True)
class Truth:
    level: int
    po_number: str
    date: str
    buyer: str
    phone: str
    address: str
    currency: str
    total: str
    lines: list[Line]
    layout: str = "classic"  # a key of LAYOUTS
    font: str = "microhei"  # a key of FONTS


@dataclass(frozen=True)
class Face:
    """A page's typeface: ``cjk`` draws Chinese, and everything else too unless ``latin``
    (a face without Chinese glyphs) is given for Latin text and digits."""

    cjk: str
    latin: str | None = None


FONTS: dict[str, Face] = {
    "microhei": Face(MICRO_HEI),
    "zenhei": Face(ZEN_HEI),
    "dejavu-sans": Face(ZEN_HEI, DEJAVU + "DejaVuSans.ttf"),
    "dejavu-serif": Face(MICRO_HEI, DEJAVU + "DejaVuSerif.ttf"),
}


@dataclass(frozen=True)
class Layout:
    """Where a PO's parts are: its table's columns (field, header label, width in pixels)
    and its form fields ``above`` the table, in a block on the ``right`` of the company's
    name, or ``below`` the table."""

    columns: tuple[tuple[str, str, int], ...]
    form: str

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(label for _, label, _ in self.columns)

    def label(self, name: str) -> str | None:
        """The header label of a field's column (``FIELDS``), None when it has none."""
        return next((label for field, label, _ in self.columns if field == name), None)


LAYOUTS: dict[str, Layout] = {
    "classic": Layout(tuple(zip(("no", "sku", "name", "quantity", "unit_price", "amount"),
                                HEADER, WIDTHS, strict=True)), "above"),
    "item-uom": Layout((("no", "序号/No.", 140), ("sku", "物料编码/Item", 250),
                        ("name", "品名/Description", 370), ("uom", "单位/UOM", 160),
                        ("quantity", "数量/Qty", 145), ("unit_price", "单价/Unit Price", 240),
                        ("amount", "金额/Amount", 245)), "right"),
    "below": Layout((("no", "行号/Line", 150), ("name", "品名/Description", 400),
                     ("sku", "料号/Part No.", 270), ("unit_price", "单价/Unit Price", 240),
                     ("quantity", "数量/Qty", 170), ("amount", "金额/Amount", 280)), "below"),
}
CJK_RUN = re.compile(r"([\u2e80-\u9fff\uff00-\uffef]+)")


def font_path() -> str:
    for path in FONT_PATHS:
        if Path(path).exists():
            return path
    raise FileNotFoundError("no CJK font: apt-get install fonts-wqy-microhei")


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    if not Path(path).exists():
        raise FileNotFoundError(f"no font {path}: apt-get install fonts-wqy-microhei "
                                "fonts-wqy-zenhei fonts-dejavu-core")
    return ImageFont.truetype(path, size)


class Pen:
    """Writes a page's text in its typeface: with a Latin face beside the Chinese one, each
    run of Chinese in the Chinese face, the rest in the Latin face, on one baseline."""

    def __init__(self, image: Image.Image, face: Face) -> None:
        self.draw = ImageDraw.Draw(image)
        self.face = face

    def _runs(self, text: str, size: int) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        cjk = _font(self.face.cjk, size)
        if self.face.latin is None:
            return [(text, cjk)]
        latin = _font(self.face.latin, size)
        return [(run, cjk if index % 2 else latin)
                for index, run in enumerate(CJK_RUN.split(text)) if run]

    def length(self, text: str, size: int) -> float:
        return sum(self.draw.textlength(run, font=font) for run, font in self._runs(text, size))

    def text(self, xy: tuple[float, float], text: str, size: int, fill: int = 0) -> None:
        runs = self._runs(text, size)
        if len(runs) == 1 and self.face.latin is None:
            self.draw.text(xy, text, font=runs[0][1], fill=fill)
            return
        x, y = xy
        baseline = y + _font(self.face.cjk, size).getmetrics()[0]
        for run, font in runs:
            self.draw.text((x, baseline), run, font=font, fill=fill, anchor="ls")
            x += self.draw.textlength(run, font=font)


def products(seed: int = 1, count: int = 80) -> list[Product]:
    """The buyer's product list: SKUs like M8-30-304 with a Chinese name and a price."""
    rng = random.Random(seed)
    seen: dict[str, Product] = {}
    while len(seen) < count:
        sku = (f"{rng.choice(FAMILIES)}{rng.choice((3, 4, 5, 6, 8, 10, 12, 16, 20))}-"
               f"{rng.choice((8, 10, 12, 16, 20, 25, 30, 40, 50, 60, 80))}-"
               f"{rng.choice(FINISHES)}")
        name = f"{rng.choice(NAMES)} {sku.split('-')[0]}×{sku.split('-')[1]}"
        cents = rng.choice((rng.randint(5, 99), rng.randint(100, 9999), rng.randint(10000,
                                                                                    99999)))
        seen.setdefault(sku, Product(sku, name, Decimal(cents) / 100))
    return list(seen.values())


def write_products(path: Path, items: list[Product]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "name", "unit_price"])
        for item in items:
            writer.writerow([item.sku, item.name, f"{item.price:.2f}"])


def truth(level: int, index: int, items: list[Product], rng: random.Random,
          lines: int | None = None) -> Truth:
    count = lines or rng.randint(5, 15)
    chosen = rng.sample(items, count)
    rows = []
    for no, item in enumerate(chosen, start=1):
        quantity = rng.choice((rng.randint(1, 99), rng.randint(100, 5000)))
        amount = item.price * quantity
        rows.append(Line(no, item.sku, item.name, quantity, f"{item.price:,.2f}",
                         f"{amount:,.2f}"))
    total = sum((item.price * line.quantity for item, line in zip(chosen, rows, strict=True)),
                Decimal(0))
    buyer = rng.choice(BUYERS)
    return Truth(level, f"PO-2026-{10000 + index * 37 + level:05d}",
                 f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                 f"{buyer[0]} {buyer[1]}", f"+86 21 {rng.randint(5000, 6999)} "
                 f"{rng.randint(1000, 9999)}", rng.choice(ADDRESSES), "CNY", f"{total:,.2f}",
                 rows)


def render(page: Truth) -> Image.Image:
    """The clean page, 8-bit gray, at 200 dpi."""
    return render_page(page)[0]


def render_page(page: Truth) -> tuple[Image.Image, tuple[int, int]]:
    """The clean page, 8-bit gray, at 200 dpi, in its layout and typeface, and where a
    stamp over its date and phone goes (the top left of the stamp's ring)."""
    layout = LAYOUTS[page.layout]
    image = Image.new("L", A4, 255)
    pen = Pen(image, FONTS[page.font])
    left = 70
    form = [(f"订单号/PO#: {page.po_number}", f"日期/Date: {page.date}"),
            (f"采购员/Buyer: {page.buyer}", f"电话/Phone: {page.phone}"),
            (f"币种/Currency: {page.currency}", ""),
            (f"送货地址/Ship to: {page.address}", "")]
    pen.text((left, 90), "华东精密紧固件有限公司", 52)
    pen.text((left, 160), "East China Precision Fasteners Co., Ltd.", 30)
    if layout.form == "right":
        pen.text((left, 230), "采购订单 PURCHASE ORDER", 40)
        y = 90
        for text in (form[0][0], form[0][1], form[1][0], form[1][1], form[2][0]):
            pen.text((left + 900, y), text, 30)
            y += 58
        pen.text((left, y + 20), form[3][0], 30)
        top, stamp = y + 20 + 98, (930, 110)
    else:
        pen.text((left + 1000, 100), "采购订单", 52)
        pen.text((left + 1000, 165), "PURCHASE ORDER", 30)
        top, stamp = 270, (930, 250)
        if layout.form == "above":
            top = _form_lines(pen, form, left, 270) + 40
    ys = _table(pen, page, layout, left, top)
    y = ys[-1] + 30
    widths = [width for _, _, width in layout.columns]
    pen.text((left + sum(widths[:-2]) - 60, y), f"合计/Total: {page.total}", 30)
    y += 120
    if layout.form == "below":
        stamp = (930, y - 20)
        y = _form_lines(pen, form, left, y) + 30
    pen.text((left, y), "请于交货时附送货单。Please attach the delivery note.", 28)
    pen.text((left, y + 70), "审批/Approved by: ________", 28)
    return image, stamp


def _form_lines(pen: Pen, form: list[tuple[str, str]], left: int, y: int) -> int:
    """The form fields two to a line from ``y``; returns the y under them."""
    for first, second in form:
        pen.text((left, y), first, 30)
        if second:
            pen.text((left + 860, y), second, 30)
        y += 58
    return y


def _table(pen: Pen, page: Truth, layout: Layout, left: int, top: int) -> list[int]:
    """The ruled table with its header row and the page's lines; returns its row lines."""
    xs = [left]
    for _, _, width in layout.columns:
        xs.append(xs[-1] + width)
    ys = [top + ROW_HEIGHT * i for i in range(len(page.lines) + 2)]
    for x in xs:
        pen.draw.line([(x, ys[0]), (x, ys[-1])], fill=0, width=3)
    for yy in ys:
        pen.draw.line([(xs[0], yy), (xs[-1], yy)], fill=0, width=3)
    for column, label in enumerate(layout.header):
        pen.text((xs[column] + 12, ys[0] + 14), label, 28)
    for row, line in enumerate(page.lines, start=1):
        values = {"no": str(line.no), "sku": line.sku, "name": line.name, "uom": line.uom,
                  "quantity": f"{line.quantity:,}", "unit_price": line.unit_price,
                  "amount": line.amount}
        for column, (field, _, _) in enumerate(layout.columns):
            value = values[field]
            x = (xs[column + 1] - 14 - pen.length(value, 30) if field in NUMERIC
                 else xs[column] + 14)
            pen.text((x, ys[row] + 12), value, 30)
    return ys


def degrade(image: Image.Image, level: int, rng: random.Random,
            stamp: tuple[int, int] = (930, 250)) -> tuple[bytes, str]:
    """The page as a sender's machine would send it: (file bytes, suffix); ``stamp``: where
    a bad fax's stamp goes (``render_page``)."""
    if level == 0:
        return _save(image, "PNG"), ".png"
    skew = {1: (0.5, 0.8), 2: (1.0, 1.5), 3: (1.5, 2.0)}[level]
    angle = rng.uniform(*skew) * rng.choice((-1, 1))
    page = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
    if level == 3:
        page = _stamp(page, rng, stamp).filter(ImageFilter.GaussianBlur(1.1))
        page = _streaks(page, rng)
    page = _speckle(page, rng, 0.0004 if level == 1 else 0.001)
    if level == 3:
        return _save(page, "JPEG", quality=25), ".jpg"
    if level == 2:
        page = page.resize((page.width, page.height // 2), Image.Resampling.BOX)
        mono = page.point(lambda v: 255 if v > 150 else 0).convert("1")
        return _save(mono, "TIFF", compression="group3", dpi=(DPI, DPI // 2)), ".tif"
    mono = page.point(lambda v: 255 if v > 150 else 0).convert("1")
    return _save(mono, "TIFF", compression="group4", dpi=(DPI, DPI)), ".tif"


def _save(image: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    if "dpi" not in options:
        options["dpi"] = (DPI, DPI)
    image.save(out, kind, **options)
    return out.getvalue()


def _speckle(image: Image.Image, rng: random.Random, share: float) -> Image.Image:
    page = image.copy()
    pixels = page.load()
    assert pixels is not None
    for _ in range(int(page.width * page.height * share)):
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        pixels[x, y] = 0 if rng.random() < 0.5 else 255
    return page


def _stamp(image: Image.Image, rng: random.Random, where: tuple[int, int]) -> Image.Image:
    """A round company stamp in faint ink over the date and phone."""
    page = image.copy()
    draw = ImageDraw.Draw(page)
    x, y = where[0] + rng.randint(-30, 30), where[1] + rng.randint(-20, 20)
    for width in range(6):
        draw.ellipse((x - width, y - width, x + 260 + width, y + 260 + width), outline=110)
    draw.text((x + 70, y + 110), "合同专用章", font=ImageFont.truetype(font_path(), 26), fill=120)
    return page


def _streaks(image: Image.Image, rng: random.Random) -> Image.Image:
    page = image.copy()
    draw = ImageDraw.Draw(page)
    for _ in range(3):
        x = rng.randrange(page.width)
        draw.line([(x, 0), (x, page.height)], fill=rng.randint(90, 160), width=1)
    return page


CLASSIC = ("classic",)
MICRO = ("microhei",)


def page_of(level: int, index: int, items: list[Product], seed: int = 1,
            lines: int | None = None, layouts: Sequence[str] = CLASSIC,
            fonts: Sequence[str] = MICRO) -> tuple[Truth, bytes, str]:
    """One page: its truth, its file's bytes and suffix (deterministic per arguments).

    Its layout and typeface are the ``index``-th of ``layouts`` and ``fonts`` in an order
    shuffled by the seed and level (so every one is used as often as the pages allow and
    the pairs vary); they are drawn apart from the page's content, which is the same in
    every layout and typeface (a unit column's units aside)."""
    rng = random.Random(seed * 100_003 + level * 1009 + index)
    page = truth(level, index, items, rng, lines)
    order = random.Random(f"layouts {seed} {level}")
    shown = order.sample(list(layouts), len(layouts))
    faces = order.sample(list(fonts), len(fonts))
    layout, face = shown[index % len(shown)], faces[index % len(faces)]
    if layout not in LAYOUTS or face not in FONTS:
        raise ValueError(f"unknown layout {layout!r} or font {face!r}: "
                         f"{', '.join(LAYOUTS)}; {', '.join(FONTS)}")
    units = random.Random(f"units {seed} {level} {index}")
    rows = page.lines
    if LAYOUTS[layout].label("uom") is not None:
        rows = [replace(line, uom=units.choice(UNITS)) for line in rows]
    page = replace(page, lines=rows, layout=layout, font=face)
    image, stamp = render_page(page)
    data, suffix = degrade(image, level, rng, stamp)
    return page, data, suffix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=10, help="pages per level")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layouts", nargs="+", choices=list(LAYOUTS), default=list(LAYOUTS))
    parser.add_argument("--fonts", nargs="+", choices=list(FONTS), default=list(FONTS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    items = products(args.seed)
    write_products(args.out / "products.csv", items)
    for level in range(4):
        for index in range(args.pages):
            page, data, suffix = page_of(level, index, items, args.seed,
                                          layouts=args.layouts, fonts=args.fonts)
            stem = args.out / f"L{level}-{index:02d}"
            stem.with_suffix(suffix).write_bytes(data)
            stem.with_suffix(".json").write_text(json.dumps(asdict(page), ensure_ascii=False,
                                                            indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
