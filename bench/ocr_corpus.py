"""Synthetic faxed purchase orders with their ground truth, for the OCR tests and benchmark.

Bilingual A4 POs at 200 dpi: a form above a ruled table (序号/No., 物料编码/SKU,
品名/Description, 数量/Qty, 单价/Unit Price, 金额/Amount) and a printed total under it,
written with the CJK font Debian ships as ``fonts-wqy-microhei``, at four levels:

- L0 clean (8-bit gray PNG);
- L1 fax fine mode: 0.5-0.8° skew, speckle, 1-bit, G4 TIFF at 200 dpi;
- L2 standard fax: 1-1.5° skew, 200 x 100 dpi (every other row), 1-bit, G3 TIFF;
- L3 bad fax: 1.5-2° skew, blur, a stamp over the date and phone, streaks, JPEG quality 25.

    .venv/bin/python bench/ocr_corpus.py OUT_DIR [--pages 10] [--seed 1]

writes ``L<level>-<n>.<png|tif|jpg>`` with ``L<level>-<n>.json`` (the truth) beside each,
and ``products.csv`` (the buyer's product list every page draws from).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
DPI = 200
A4 = (1654, 2339)  # pixels at 200 dpi
HEADER = ("序号/No.", "物料编码/SKU", "品名/Description", "数量/Qty", "单价/Unit Price",
          "金额/Amount")
WIDTHS = (150, 290, 450, 180, 230, 260)
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


def font_path() -> str:
    for path in FONT_PATHS:
        if Path(path).exists():
            return path
    raise FileNotFoundError("no CJK font: apt-get install fonts-wqy-microhei")


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
    path = font_path()
    big, text, small = (ImageFont.truetype(path, size) for size in (52, 30, 28))
    image = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(image)
    left = 70
    draw.text((left, 90), "华东精密紧固件有限公司", font=big, fill=0)
    draw.text((left, 160), "East China Precision Fasteners Co., Ltd.", font=text, fill=0)
    draw.text((left + 1000, 100), "采购订单", font=big, fill=0)
    draw.text((left + 1000, 165), "PURCHASE ORDER", font=text, fill=0)
    form = [(f"订单号/PO#: {page.po_number}", f"日期/Date: {page.date}"),
            (f"采购员/Buyer: {page.buyer}", f"电话/Phone: {page.phone}"),
            (f"币种/Currency: {page.currency}", ""),
            (f"送货地址/Ship to: {page.address}", "")]
    y = 270
    for first, second in form:
        draw.text((left, y), first, font=text, fill=0)
        if second:
            draw.text((left + 860, y), second, font=text, fill=0)
        y += 58
    top = y + 40
    xs = [left]
    for width in WIDTHS:
        xs.append(xs[-1] + width)
    ys = [top + ROW_HEIGHT * i for i in range(len(page.lines) + 2)]
    for x in xs:
        draw.line([(x, ys[0]), (x, ys[-1])], fill=0, width=3)
    for yy in ys:
        draw.line([(xs[0], yy), (xs[-1], yy)], fill=0, width=3)
    for column, label in enumerate(HEADER):
        draw.text((xs[column] + 12, ys[0] + 14), label, font=small, fill=0)
    for row, line in enumerate(page.lines, start=1):
        cells = (str(line.no), line.sku, line.name, f"{line.quantity:,}", line.unit_price,
                 line.amount)
        for column, value in enumerate(cells):
            width = draw.textlength(value, font=text)
            numeric = column in (0, 3, 4, 5)
            x = xs[column + 1] - 14 - width if numeric else xs[column] + 14
            draw.text((x, ys[row] + 12), value, font=text, fill=0)
    y = ys[-1] + 30
    draw.text((xs[4] - 60, y), f"合计/Total: {page.total}", font=text, fill=0)
    draw.text((left, y + 120), "请于交货时附送货单。Please attach the delivery note.", font=small,
              fill=0)
    draw.text((left, y + 190), "审批/Approved by: ________", font=small, fill=0)
    return image


def degrade(image: Image.Image, level: int, rng: random.Random) -> tuple[bytes, str]:
    """The page as a sender's machine would send it: (file bytes, suffix)."""
    if level == 0:
        return _save(image, "PNG"), ".png"
    skew = {1: (0.5, 0.8), 2: (1.0, 1.5), 3: (1.5, 2.0)}[level]
    angle = rng.uniform(*skew) * rng.choice((-1, 1))
    page = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
    if level == 3:
        page = _stamp(page, rng).filter(ImageFilter.GaussianBlur(1.1))
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


def _stamp(image: Image.Image, rng: random.Random) -> Image.Image:
    """A round company stamp in faint ink over the date and phone."""
    page = image.copy()
    draw = ImageDraw.Draw(page)
    x, y = 930 + rng.randint(-30, 30), 250 + rng.randint(-20, 20)
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


def page_of(level: int, index: int, items: list[Product], seed: int = 1,
            lines: int | None = None) -> tuple[Truth, bytes, str]:
    """One page: its truth, its file's bytes and suffix (deterministic per arguments)."""
    rng = random.Random(seed * 100_003 + level * 1009 + index)
    page = truth(level, index, items, rng, lines)
    data, suffix = degrade(render(page), level, rng)
    return page, data, suffix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=10, help="pages per level")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    items = products(args.seed)
    write_products(args.out / "products.csv", items)
    for level in range(4):
        for index in range(args.pages):
            page, data, suffix = page_of(level, index, items, args.seed)
            stem = args.out / f"L{level}-{index:02d}"
            stem.with_suffix(suffix).write_bytes(data)
            stem.with_suffix(".json").write_text(json.dumps(asdict(page), ensure_ascii=False,
                                                            indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
