"""Reading, the second stage: a scanned page's geometry: skew, and the ruled table's grid.

Measured on faxed POs (shared notes, "OCR of faxed purchase orders"): the table's structure
must come from its ruling lines; tesseract's own layout analysis drops and merges rows and
columns on fax quality. So:

- **deskew** by a projection-profile search (rows of ink are sharpest at the right angle):
  about 0.05° error, tens of ms, on a copy a few hundred pixels wide;
- **ruling lines**: runs of ink longer than any character stroke (a 150 px horizontal and
  120 px vertical window at 200 dpi, scaled with the resolution; shorter ones erased a bold
  Chinese title in the measurements), found with cumulative sums, no image library;
- **the table**: the largest set of horizontal lines sharing one extent, and the vertical
  lines that cross it from its top to its bottom line (a fax streak runs on past them and
  is not a column).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

INK = 140  # gray level under which a pixel is ink
PROFILE_WIDTH = 700  # the deskew search works on a copy this wide
MAX_SKEW = 4.0  # degrees searched either way

Ink = NDArray[np.bool_]


@dataclass(frozen=True)
class Grid:
    """A ruled table: its ruling lines' positions in the (deskewed) page's pixels."""

    xs: list[int]  # vertical lines, left to right: columns lie between neighbours
    ys: list[int]  # horizontal lines, top to bottom: rows lie between neighbours

    @property
    def top(self) -> int:
        return self.ys[0]

    @property
    def bottom(self) -> int:
        return self.ys[-1]

    def cell(self, row: int, column: int, inset: int) -> tuple[int, int, int, int]:
        """The box (left, top, right, bottom) inside the lines of a cell."""
        return (self.xs[column] + inset, self.ys[row] + inset,
                self.xs[column + 1] - inset, self.ys[row + 1] - inset)


def ink(image: Image.Image) -> Ink:
    return np.asarray(image) < INK


def skew_angle(image: Image.Image) -> float:
    """The angle (degrees, counter-clockwise) that makes the page's rows of ink level."""
    scale = PROFILE_WIDTH / image.width
    small = image.resize((PROFILE_WIDTH, max(1, round(image.height * scale))),
                         Image.Resampling.BILINEAR)
    mask = Image.fromarray((np.asarray(small) < 200).astype(np.uint8) * 255)

    def sharpness(angle: float) -> float:
        turned = np.asarray(mask.rotate(angle, resample=Image.Resampling.NEAREST),
                            dtype=np.float64)
        profile = turned.sum(axis=1)
        return float(np.square(np.diff(profile)).sum())

    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.25)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05)
    return round(float(max(fine, key=sharpness)), 2)


def deskew(image: Image.Image) -> tuple[Image.Image, float]:
    angle = skew_angle(image)
    if abs(angle) < 0.05:
        return image, 0.0
    return image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255), angle


def _runs(mask: Ink, length: int, axis: int) -> Ink:
    """Pixels that end a window of ``length`` along ``axis`` holding at least 85 % ink: the
    long strokes of ruling lines (a line broken by fax noise still counts)."""
    sums = np.cumsum(mask, axis=axis, dtype=np.int32)
    if axis == 1:
        window = sums[:, length:] - sums[:, :-length]
        pad = np.zeros((mask.shape[0], length), dtype=bool)
        return np.concatenate([pad, window >= 0.85 * length], axis=1)
    window = sums[length:, :] - sums[:-length, :]
    pad = np.zeros((length, mask.shape[1]), dtype=bool)
    return np.concatenate([pad, window >= 0.85 * length], axis=0)


def _groups(flags: NDArray[np.bool_], gap: int = 2) -> list[tuple[int, int]]:
    """Runs of True (allowing gaps of ``gap``) as (first, last) index pairs."""
    found: list[tuple[int, int]] = []
    for index in np.flatnonzero(flags):
        if found and index - found[-1][1] <= gap:
            found[-1] = (found[-1][0], int(index))
        else:
            found.append((int(index), int(index)))
    return found


def find_grid(mask: Ink, dpi: int) -> Grid | None:
    """The page's ruled table, or None when it has none (at least two columns and a header
    row with one row under it)."""
    height, width = mask.shape
    h_len = max(40, round(150 * dpi / 200))
    v_len = max(30, round(120 * dpi / 200))
    if width <= h_len * 2 or height <= v_len * 2:
        return None
    long_h = _runs(mask, h_len, axis=1)
    counts = long_h.sum(axis=1)
    lines: list[tuple[int, int, int]] = []  # (y, x0, x1)
    for first, last in _groups(counts >= h_len):
        band = long_h[first:last + 1].any(axis=0)
        xs = np.flatnonzero(band)
        lines.append(((first + last) // 2, int(xs[0]) - h_len, int(xs[-1])))
    table = _same_extent(lines, tolerance=max(12, dpi // 10))
    if len(table) < 3:
        return None
    top, bottom = table[0][0], table[-1][0]
    left = min(x0 for _, x0, _ in table)
    right = max(x1 for _, _, x1 in table)
    span = bottom - top
    window = min(v_len, max(10, span // 2))
    long_v = _runs(mask[max(0, top - 3):bottom + 4, :], window, axis=0)
    crossing = long_v.sum(axis=0)
    # (a line from the top to the bottom line ends span - window + 1 windows)
    span = max(1, span - window)
    margin = max(6, dpi // 25)
    xs_found = []
    for first, last in _groups(crossing >= 0.6 * span, gap=3):
        x = (first + last) // 2
        if x < left - margin or x > right + margin:
            continue
        if _runs_past(mask, x, top, bottom, margin * 4):
            continue  # a streak down the page, not a column line
        xs_found.append(x)
    if len(xs_found) < 3:
        return None
    return Grid(xs_found, [y for y, _, _ in table])


def _same_extent(lines: list[tuple[int, int, int]], tolerance: int
                 ) -> list[tuple[int, int, int]]:
    """The largest set of horizontal lines whose ends agree: the table's."""
    best: list[tuple[int, int, int]] = []
    for _, x0, x1 in lines:
        group = [line for line in lines
                 if abs(line[1] - x0) <= tolerance and abs(line[2] - x1) <= tolerance]
        if len(group) > len(best):
            best = group
    return sorted(best)


def _runs_past(mask: Ink, x: int, top: int, bottom: int, reach: int) -> bool:
    """Whether the vertical line at ``x`` carries on well above and below the table."""
    band: NDArray[np.bool_] = np.asarray(mask[:, max(0, x - 2):x + 3].any(axis=1))
    above = band[max(0, top - reach):max(0, top - 4)]
    below = band[bottom + 4:bottom + reach]
    return bool(above.size and below.size and above.mean() > 0.8 and below.mean() > 0.8)


def blank(mask: Ink, box: tuple[int, int, int, int], share: float = 0.004) -> bool:
    """Whether a box holds (next to) no ink."""
    left, top, right, bottom = box
    region = mask[max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
    return region.size == 0 or float(region.mean()) < share
