"""Reporting: the daily report as one self-contained HTML page (inline CSS and SVG).

No script, no web font, no image from anywhere: the page opens offline, in a mail, in any
browser, and prints (``@media print``). Every chart has its numbers in a table beside it.
"""

from __future__ import annotations

from html import escape

from ingest.reports import charts
from ingest.reports.daily import Report, Section, Table

STYLE = """
:root { color-scheme: light; }
body { font-family: FONT_STACK; color: #222; margin: 24px auto; max-width: 1280px;
       padding: 0 16px; line-height: 1.4; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 4px; border-bottom: 2px solid #0072B2;
     padding-bottom: 2px; }
.period { color: #444; margin: 0 0 16px; }
.note { color: #444; margin: 4px 0 10px; max-width: 70em; }
.message { font-size: 18px; padding: 16px; border: 2px dashed #D55E00; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
         gap: 8px; margin: 0 0 8px; }
.tile { border: 1px solid #bbb; border-left: 5px solid #0072B2; padding: 6px 10px; }
.tile .value { font-size: 20px; font-weight: bold; display: block; white-space: nowrap; }
.tile .label { font-size: 12px; color: #444; }
.pair { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; flex: 0 1 auto; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; }
.tables { flex: 1 1 480px; }
table { border-collapse: collapse; font-size: 12px; margin: 0 0 12px; width: 100%; }
caption { text-align: left; font-weight: bold; padding: 2px 0 4px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td { overflow-wrap: normal; }
figcaption { font-weight: bold; font-size: 13px; margin: 0 0 2px; }
footer { margin-top: 32px; color: #555; font-size: 12px; }
@media print {
  body { margin: 0; max-width: none; }
  section { break-inside: avoid-page; }
  h2 { break-after: avoid; }
}
""".replace("FONT_STACK", charts.FONT)


def render(report: Report) -> str:
    """The report as a complete HTML document."""
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(report.title)} {escape(report.period)}</title>",
             f"<style>{STYLE}</style>", "</head>", "<body>",
             f"<h1>{escape(report.title)}</h1>",
             f'<p class="period">{escape(report.period)} · generated {escape(report.generated)}'
             f" from {escape(str(report.figures.ledger))}</p>"]
    if report.message:
        parts.append(f'<p class="message" id="empty">{escape(report.message)}</p>')
    if report.tiles:
        parts.append('<div class="tiles" id="totals">')
        for label, value in report.tiles:
            key = label.replace(" ", "-")
            parts.append(f'<div class="tile" data-key="{key}"><span class="value">'
                         f'{escape(value)}</span><span class="label">{escape(label)}</span></div>')
        parts.append("</div>")
    parts.extend(_section(section) for section in report.sections)
    parts.append("<footer>ordermill report: counts from the ledger, recorded as each batch "
                 "was published. Colours: Okabe-Ito palette; series are also told apart by "
                 "hatching, markers and dashes.</footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _section(section: Section) -> str:
    out = [f'<section id="{section.key}">', f"<h2>{escape(section.title)}</h2>"]
    if section.note:
        out.append(f'<p class="note">{escape(section.note)}</p>')
    out.append('<div class="pair">')
    if section.charts:
        out.append('<div class="charts">')
        out.extend(f"<figure><figcaption>{escape(scene.title)}</figcaption>"
                   f"{charts.svg(scene)}</figure>" for scene in section.charts)
        out.append("</div>")
    if section.tables:
        out.append('<div class="tables">')
        out.extend(_table(table) for table in section.tables)
        out.append("</div>")
    out.append("</div></section>")
    return "\n".join(out)


def _table(table: Table) -> str:
    def cell(tag: str, index: int, value: str) -> str:
        kind = ' class="num"' if index in table.numeric else ""
        return f"<{tag}{kind}>{escape(value)}</{tag}>"

    head = "".join(cell("th", i, c) for i, c in enumerate(table.columns))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
                   for row in table.rows)
    return (f"<table><caption>{escape(table.caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")
