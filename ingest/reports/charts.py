"""Reporting: the daily report's charts, drawn by our own small code as shapes, then as SVG or PDF.

A chart is a ``Scene``: rectangles, lines, polylines, markers and text in a box whose y
axis points down (as in SVG). ``svg`` writes it as a static inline SVG element (no script,
no font or image from anywhere); ``ingest.reports.pdf`` draws the same shapes into the PDF.

Readable in print and for colour-blind readers: the Okabe-Ito palette, and each series also
told apart by a hatch pattern (bars) or a marker and a dash (lines), with labels written on
the chart, never by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour
# vision deficiency, and in greyscale by lightness for neighbouring pairs.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
# A hatch for each series after the palette's first round, so series never share a look.
HATCHES = ("", "/", "-", "\\", "|", "x")
MARKERS = ("circle", "square", "triangle", "diamond")
DASHES: tuple[tuple[float, ...], ...] = ((), (6, 3), (2, 2), (8, 3, 2, 3))
INK = "#222222"
GRID = "#d9d9d9"
FONT = "system-ui, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', " \
    "Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str | None = None


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = INK
    width: float = 1.0
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Poly:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 2.0
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    shape: str
    fill: str
    size: float = 3.5


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: float = 11.0
    anchor: str = "start"  # start | middle | end
    fill: str = INK
    bold: bool = False
    rotate: float = 0.0  # degrees, clockwise, about (x, y)


Shape = Rect | Line | Poly | Marker | Text


@dataclass
class Scene:
    width: float
    height: float
    title: str
    shapes: list[Shape] = field(default_factory=list)

    def add(self, *shapes: Shape) -> None:
        self.shapes.extend(shapes)


def text_width(text: str, size: float) -> float:
    """About how wide a text is drawn: wide for CJK, narrow for Latin."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def clip(text: str, size: float, room: float, keep_end: bool = False) -> str:
    """The text shortened with an ellipsis to fit ``room`` (its start kept, or its end:
    a path's file name matters more than its folders)."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[1:] if keep_end else text[:-1]
    return "…" + text if keep_end else text + "…"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def number(value: float, percent: bool = False) -> str:
    if percent:
        return f"{value:.1f} %" if value < 10 else f"{value:.0f} %"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}"


def hatch_lines(x: float, y: float, w: float, h: float, hatch: str) -> list[Line]:
    """Lines of a hatch pattern clipped to a rectangle (drawn the same in SVG and PDF)."""
    if not hatch or w < 1 or h < 1:
        return []
    gap, ink, out = 6.0, "#000000", []
    if hatch in ("-", "+"):
        out += [Line(x, y + d, x + w, y + d, ink, 0.6) for d in _steps(h, gap)]
    if hatch in ("|", "+"):
        out += [Line(x + d, y, x + d, y + h, ink, 0.6) for d in _steps(w, gap)]
    for slope in {"/": (1,), "\\": (-1,), "x": (1, -1)}.get(hatch, ()):
        for d in _steps(w + h, gap):
            segment = _diagonal(x, y, w, h, d, slope)
            if segment:
                out.append(Line(*segment, stroke=ink, width=0.6))
    return out


def _steps(length: float, gap: float) -> list[float]:
    return [gap / 2 + i * gap for i in range(int(length // gap) + 1) if gap / 2 + i * gap < length]


def _diagonal(x: float, y: float, w: float, h: float, d: float, slope: int
              ) -> tuple[float, float, float, float] | None:
    """The part inside the rectangle of a 45° line at offset ``d`` along its edge."""
    if slope > 0:  # from bottom-left going up-right: points (x + t, y + h - (d - t))
        t0, t1 = max(0.0, d - h), min(w, d)
        if t1 <= t0:
            return None
        return (x + t0, y + h - (d - t0), x + t1, y + h - (d - t1))
    t0, t1 = max(0.0, d - h), min(w, d)  # from top-left going down-right
    if t1 <= t0:
        return None
    return (x + t0, y + (d - t0), x + t1, y + (d - t1))


def series_look(index: int) -> tuple[str, str]:
    """(colour, hatch) of the n-th series: neighbours differ in both, and no two of the
    first 24 series look alike."""
    return PALETTE[index % len(PALETTE)], HATCHES[index % len(HATCHES)]


def swatch(scene: Scene, x: float, y: float, index: int, label: str, size: float = 10) -> float:
    """A legend entry (a patterned square and its label); returns its width."""
    colour, hatch = series_look(index)
    scene.add(Rect(x, y - size + 1, size, size, colour, INK))
    scene.add(*hatch_lines(x, y - size + 1, size, size, hatch))
    scene.add(Text(x + size + 4, y, label, 10))
    return size + 10 + text_width(label, 10)


def legend(scene: Scene, x: float, y: float, labels: Sequence[str], room: float) -> float:
    """Legend entries in rows within ``room``; returns the height used."""
    at, row = x, 0
    for index, label in enumerate(labels):
        width = text_width(label, 10) + 28
        if at > x and at + width > x + room:
            at, row = x, row + 1
        swatch(scene, at, y + row * 16, index, label)
        at += width
    return (row + 1) * 16


@dataclass(frozen=True)
class Frame:
    """The plotting area inside a scene, and the value at its top."""

    left: float
    top: float
    width: float
    height: float
    ymax: float

    def y(self, value: float) -> float:
        return self.top + self.height - (value / self.ymax * self.height if self.ymax else 0)


def axes(scene: Scene, frame: Frame, ticks: list[float], percent: bool = False,
         right: bool = False) -> None:
    """Horizontal grid lines with their values (left, or right for a second axis)."""
    for tick in ticks:
        y = frame.y(tick)
        if not right:
            scene.add(Line(frame.left, y, frame.left + frame.width, y, GRID, 0.8))
        x = frame.left + frame.width + 4 if right else frame.left - 4
        scene.add(Text(x, y + 3.5, number(tick, percent), 9, "start" if right else "end"))
    if not right:
        bottom = frame.top + frame.height
        scene.add(Line(frame.left, bottom, frame.left + frame.width, bottom, INK, 1))


def x_labels(scene: Scene, frame: Frame, labels: Sequence[str], centres: Sequence[float],
             thin: bool = True) -> None:
    """Labels under the axis: days thinned to fit, categories turned when long (each one
    is shown)."""
    if not labels:
        return
    widest = max(text_width(s, 9) for s in labels)
    slot = frame.width / len(labels)
    turned = widest + 6 > slot and not thin
    every = max(1, math.ceil((14 if turned else widest + 6) / slot)) if thin else 1
    base = frame.top + frame.height + 13
    for index, (label, x) in enumerate(zip(labels, centres, strict=True)):
        if index % every:
            continue
        if turned:
            scene.add(Text(x + 3, base - 4, clip(label, 9, 105), 9, "end", rotate=-40))
        else:
            scene.add(Text(x, base, label, 9, "middle"))


def stacked_bars(title: str, categories: Sequence[str], series: dict[str, Sequence[float]],
                 width: float = 640, height: float = 300) -> Scene:
    """One bar per category, stacked by series (lines per channel per day)."""
    scene = Scene(width, height, title)
    names = list(series)
    legend_h = legend(scene, 56, 14, names, width - 70)
    totals = [sum(values[i] for values in series.values()) for i in range(len(categories))]
    ticks = nice_ticks(max(totals, default=0))
    frame = Frame(56, 14 + legend_h, width - 70, height - legend_h - 60, ticks[-1])
    axes(scene, frame, ticks)
    slot = frame.width / max(len(categories), 1)
    bar = max(1.0, slot * 0.72)
    for i in range(len(categories)):
        x = frame.left + i * slot + (slot - bar) / 2
        base = 0.0
        for index, name in enumerate(names):
            value = series[name][i]
            if not value:
                continue
            colour, hatch = series_look(index)
            top, bottom = frame.y(base + value), frame.y(base)
            scene.add(Rect(x, top, bar, bottom - top, colour))
            if bar >= 4:  # (a hatch on a hairline bar is noise)
                scene.add(*hatch_lines(x, top, bar, bottom - top, hatch))
            base += value
    x_labels(scene, frame, categories, [frame.left + (i + 0.5) * slot
                                        for i in range(len(categories))])
    return scene


def lines(title: str, categories: Sequence[str], series: dict[str, Sequence[float | None]],
          percent: bool = False, trend: Sequence[float] | None = None,
          width: float = 640, height: float = 280) -> Scene:
    """One line per series, each with its own marker and dash; a dashed trend if given."""
    scene = Scene(width, height, title)
    names = list(series) + (["trend (least squares)"] if trend is not None else [])
    at = 56.0
    for index, name in enumerate(names):  # the legend: each line's own look
        is_trend = trend is not None and index == len(names) - 1
        colour = INK if is_trend else PALETTE[index % len(PALETTE)]
        dash = (5, 4) if is_trend else DASHES[index % len(DASHES)]
        scene.add(Line(at, 10, at + 22, 10, colour, 2, dash))
        if not is_trend:
            scene.add(Marker(at + 11, 10, MARKERS[index % len(MARKERS)], colour))
        scene.add(Text(at + 27, 14, name, 10))
        at += 40 + text_width(name, 10)
    values = [v for vs in series.values() for v in vs if v is not None]
    top = max([*values, *(trend or [])], default=0)
    ticks = nice_ticks(top)
    frame = Frame(56, 30, width - 74, height - 88, ticks[-1])
    axes(scene, frame, ticks, percent)
    slot = frame.width / max(len(categories), 1)
    centres = [frame.left + (i + 0.5) * slot for i in range(len(categories))]
    for index, name in enumerate(series):
        colour, shape = PALETTE[index % len(PALETTE)], MARKERS[index % len(MARKERS)]
        points = [(x, frame.y(v)) for x, v in zip(centres, series[name], strict=True)
                  if v is not None]
        if len(points) > 1:
            scene.add(Poly(tuple(points), colour, 2, DASHES[index % len(DASHES)]))
        if len(points) <= 62:  # (markers on a year of days would be a smear)
            scene.add(*(Marker(x, y, shape, colour) for x, y in points))
    if trend is not None and len(trend) > 1:
        scene.add(Poly(tuple((x, frame.y(max(v, 0))) for x, v in zip(centres, trend,
                                                                      strict=True)),
                       INK, 1.5, (5, 4)))
    x_labels(scene, frame, categories, centres)
    return scene


def pareto(title: str, categories: Sequence[str], counts: Sequence[float],
           width: float = 640, height: float = 300) -> Scene:
    """Bars by count, largest first, with the cumulative share as a line on a right axis
    and the 80 % mark dashed: the few reasons behind most rejects."""
    scene = Scene(width, height, title)
    total = sum(counts) or 1
    ticks = nice_ticks(max(counts, default=0))
    frame = Frame(56, 24, width - 110, height - 104, ticks[-1])
    axes(scene, frame, ticks)
    share = Frame(frame.left, frame.top, frame.width, frame.height, 100)
    axes(scene, share, [0, 20, 40, 60, 80, 100], percent=True, right=True)
    y80 = share.y(80)
    scene.add(Line(frame.left, y80, frame.left + frame.width, y80, PALETTE[5], 1, (4, 3)))
    slot = frame.width / max(len(categories), 1)
    bar = slot * 0.7
    running, points = 0.0, []
    for i, count in enumerate(counts):
        x = frame.left + i * slot + (slot - bar) / 2
        top = frame.y(count)
        scene.add(Rect(x, top, bar, frame.y(0) - top, PALETTE[0]))
        scene.add(Text(x + bar / 2, top - 3, number(count), 9, "middle"))
        running += count
        points.append((x + bar / 2, share.y(running / total * 100)))
    if points:
        scene.add(Poly(tuple(points), PALETTE[1], 2, (6, 3)))
        scene.add(*(Marker(x, y, "square", PALETTE[1]) for x, y in points))
    scene.add(Rect(frame.left, 6, 10, 10, PALETTE[0]), Text(frame.left + 14, 15, "lines", 10))
    scene.add(Line(frame.left + 60, 11, frame.left + 82, 11, PALETTE[1], 2, (6, 3)),
              Marker(frame.left + 71, 11, "square", PALETTE[1]),
              Text(frame.left + 87, 15, "cumulative share (right axis)", 10))
    at = frame.left + 87 + text_width("cumulative share (right axis)", 10) + 14
    scene.add(Line(at, 11, at + 22, 11, PALETTE[5], 1, (4, 3)), Text(at + 27, 15, "80 %", 10))
    x_labels(scene, frame, [clip(c, 9, 110) for c in categories],
             [frame.left + (i + 0.5) * slot for i in range(len(categories))], thin=False)
    return scene


def hbars(title: str, labels: Sequence[str], values: Sequence[float], width: float = 640,
          row: float = 22) -> Scene:
    """Horizontal bars, largest first, each with its value written beside it."""
    height = 20 + row * max(len(labels), 1) + 26
    scene = Scene(width, height, title)
    room = min(260.0, max((text_width(s, 10) for s in labels), default=0) + 8)
    ticks = nice_ticks(max(values, default=0))
    left, plot = room + 8, width - room - 60
    for tick in ticks:
        x = left + tick / ticks[-1] * plot
        scene.add(Line(x, 10, x, height - 22, GRID, 0.8))
        scene.add(Text(x, height - 8, number(tick), 9, "middle"))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 14 + i * row
        w = value / ticks[-1] * plot if ticks[-1] else 0
        scene.add(Text(left - 6, y + row / 2 + 3, clip(label, 10, room, keep_end=True), 10,
                       "end"))
        scene.add(Rect(left, y + 3, max(w, 1), row - 8, PALETTE[5]))
        scene.add(Text(left + w + 4, y + row / 2 + 3, number(value), 10))
    scene.add(Line(left, 10, left, height - 22, INK, 1))
    return scene


def svg(scene: Scene) -> str:
    """The scene as an inline SVG element: static, sized by its viewBox."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {scene.width:g} '
           f'{scene.height:g}" width="{scene.width:g}" height="{scene.height:g}" role="img" '
           f'aria-label="{escape(scene.title)}" font-family="{escape(FONT)}">',
           f"<title>{escape(scene.title)}</title>"]
    for shape in scene.shapes:
        out.append(_svg_shape(shape))
    out.append("</svg>")
    return "".join(out)


def _dash(dash: tuple[float, ...]) -> str:
    return f' stroke-dasharray="{",".join(f"{d:g}" for d in dash)}"' if dash else ""


def _svg_shape(shape: Shape) -> str:
    if isinstance(shape, Rect):
        stroke = f' stroke="{shape.stroke}" stroke-width="0.6"' if shape.stroke else ""
        return (f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" '
                f'height="{shape.h:.1f}" fill="{shape.fill}"{stroke}/>')
    if isinstance(shape, Line):
        return (f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" '
                f'y2="{shape.y2:.1f}" stroke="{shape.stroke}" stroke-width="{shape.width:g}"'
                f'{_dash(shape.dash)}/>')
    if isinstance(shape, Poly):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in shape.points)
        return (f'<polyline points="{points}" fill="none" stroke="{shape.stroke}" '
                f'stroke-width="{shape.width:g}" stroke-linejoin="round"{_dash(shape.dash)}/>')
    if isinstance(shape, Marker):
        return _svg_marker(shape)
    anchor = f' text-anchor="{shape.anchor}"' if shape.anchor != "start" else ""
    weight = ' font-weight="bold"' if shape.bold else ""
    turn = f' transform="rotate({shape.rotate:g} {shape.x:.1f} {shape.y:.1f})"' \
        if shape.rotate else ""
    return (f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size:g}" '
            f'fill="{shape.fill}"{anchor}{weight}{turn}>{escape(shape.text)}</text>')


def marker_points(shape: Marker) -> list[tuple[float, float]]:
    """The corners of a polygon marker (square, triangle, diamond) around its centre."""
    s, x, y = shape.size, shape.x, shape.y
    if shape.shape == "square":
        return [(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)]
    if shape.shape == "triangle":
        return [(x, y - s * 1.2), (x + s * 1.1, y + s * 0.8), (x - s * 1.1, y + s * 0.8)]
    return [(x, y - s * 1.3), (x + s * 1.3, y), (x, y + s * 1.3), (x - s * 1.3, y)]


def _svg_marker(shape: Marker) -> str:
    if shape.shape == "circle":
        return (f'<circle cx="{shape.x:.1f}" cy="{shape.y:.1f}" r="{shape.size:g}" '
                f'fill="{shape.fill}" stroke="#ffffff" stroke-width="0.8"/>')
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in marker_points(shape))
    return (f'<polygon points="{points}" fill="{shape.fill}" stroke="#ffffff" '
            f'stroke-width="0.8"/>')
