"""Reporting: the daily report's content, from the ledger's figures to charts and tables.

Each section holds its charts (``ingest.reports.charts`` scenes) and, beside them, the
tables with the numbers, so that the HTML page (``ingest.reports.html``) and the PDF
(``ingest.reports.pdf``) show the same report. Rates and shares are computed here, on
frames of a few hundred rows at most; nothing here reads lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from ingest.codes import CODES
from ingest.reports import charts
from ingest.reports.charts import Scene
from ingest.reports.figures import COUNTS, Figures

CHANNEL_PARETOS = 4  # channels with the most rejects get a Pareto of their own
DAY_ROWS = 62  # periods longer than this are tabled by week
WEEKLY_BARS = 92  # and charted in bars by week beyond this


@dataclass(frozen=True)
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()  # columns aligned right


@dataclass
class Section:
    key: str
    title: str
    note: str = ""
    charts: list[Scene] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    title: str
    period: str
    generated: str
    figures: Figures
    tiles: list[tuple[str, str]]  # (label, value) of the period's totals
    sections: list[Section]
    message: str = ""  # when there is nothing to show: why


def build(figures: Figures, generated: str) -> Report:
    """The report of ``figures``: totals, then one section per question an analyst asks."""
    period = figures.period
    shown = f"{period.since} – {period.until} ({period.timezone})"
    if figures.empty:
        seen = (f"The ledger holds batches from {figures.earliest[:10]} to "
                f"{figures.latest[:10]}: choose a period with --since and --until."
                if figures.earliest and figures.latest else
                "The ledger holds no batch yet: run `ordermill ingest` or `ordermill run` "
                "first.")
        return Report("ordermill daily report", shown, generated, figures, [], [],
                      f"Nothing was ingested from {period.since} to {period.until}. {seen}")
    totals = figures.by_day.select(pl.col(*COUNTS, "inputs").sum()).row(0, named=True)
    tiles = [
        ("lines in", _n(totals["rows_in"])), ("clean", _n(totals["clean"])),
        ("rejected", _n(totals["rejected"])),
        ("exception rate", _rate(totals["rejected"], totals["clean"] + totals["rejected"])),
        ("duplicates", _n(totals["duplicates"])), ("updates", _n(totals["updates"])),
        ("warnings", _n(totals["warnings"])), ("inputs", _n(totals["inputs"])),
        ("batches", _n(figures.batch_count)),
        ("unreadable inputs", _n(_problems(figures, "unreadable").height)),
        ("mails in review", _n(figures.review.height)),
        ("unreachable sources", _n(_problems(figures, "unreachable")["path"].n_unique())),
    ]
    sections = [_volume(figures), _exceptions(figures), _reasons(figures), _inputs(figures),
                _customers(figures), _changes(figures), _problem_section(figures),
                _batches(figures)]
    if figures.rules.height:  # (only where order rules ran in the period)
        sections.insert(3, _rules(figures))
    return Report("ordermill daily report", shown, generated, figures, tiles, sections)


def _n(value: int | float) -> str:
    return f"{value:,.0f}"


def _rate(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f} %" if whole else "–"


def _problems(figures: Figures, kind: str) -> pl.DataFrame:
    return figures.problems.filter(pl.col("kind") == kind)


def _meaning(code: str) -> str:
    known = CODES.get(code)
    return known.meaning.replace("`", "") if known else ""


def _days(figures: Figures) -> pl.DataFrame:
    """Every day of the period (days without a batch as zeros) with its totals."""
    every = pl.DataFrame({"day": figures.period.days}, schema={"day": pl.Date})
    summed = figures.by_day.group_by("day").agg(pl.col(*COUNTS, "inputs").sum())
    return every.join(summed, on="day", how="left").fill_null(0).sort("day")


def _label(day: date, figures: Figures) -> str:
    years = figures.period.since.year != figures.period.until.year
    return day.strftime("%Y-%m-%d" if years else "%m-%d")


def _volume(figures: Figures) -> Section:
    days = _days(figures).select("day")
    by_day = figures.by_day
    title = "Lines in per channel per day"
    if days.height > WEEKLY_BARS:  # (a year of daily bars would be hairlines: weeks)
        week = pl.col("day").dt.truncate("1w")
        days = days.select(week).unique().sort("day")
        by_day = by_day.group_by(week, "channel").agg(pl.col("rows_in").sum())
        title = "Lines in per channel per week (from Monday)"
    channels = (figures.by_day.group_by("channel").agg(pl.col(*COUNTS, "inputs").sum())
                .sort(["rows_in", "channel"], descending=[True, False]))
    wide = (by_day.pivot("channel", index="day", values="rows_in")
            if by_day.height else pl.DataFrame({"day": []}, schema={"day": pl.Date}))
    wide = days.join(wide, on="day", how="left").fill_null(0)
    series = {name: wide[name].to_list() for name in channels["channel"] if name in wide.columns}
    chart = charts.stacked_bars(title, [_label(d, figures) for d in days["day"]], series)
    rows = [[name or "(none)", _n(r["inputs"]), _n(r["rows_in"]), _n(r["clean"]),
             _n(r["rejected"]), _rate(r["rejected"], r["clean"] + r["rejected"]),
             _n(r["duplicates"]), _n(r["updates"]), _n(r["warnings"])]
            for name, r in zip(channels["channel"], channels.iter_rows(named=True),
                               strict=True)]
    table = Table("Per channel, the whole period", ["channel", "inputs", "lines in", "clean",
                  "rejected", "exception rate", "duplicates", "updates", "warnings"], rows,
                  frozenset(range(1, 9)))
    return Section("volume", "Lines per channel per day",
                   "Every line read from an input (lines in), stacked by channel; each channel "
                   "keeps its colour and hatch throughout.", [chart], [table])


def _exceptions(figures: Figures) -> Section:
    days = _days(figures).with_columns(
        (pl.col("clean") + pl.col("rejected")).alias("decided"))
    rate = days.select(pl.when(pl.col("decided") > 0)
                       .then(pl.col("rejected") / pl.col("decided") * 100)).to_series()
    trend = _trend(rate)
    chart = charts.lines("Exception rate per day (rejected ÷ (clean + rejected))",
                         [_label(d, figures) for d in days["day"]],
                         {"exception rate": rate.to_list()}, percent=True, trend=trend)
    if days.height > DAY_ROWS:  # (a long period: a row per week)
        tabled = (days.group_by(pl.col("day").dt.truncate("1w").alias("day"))
                  .agg(pl.col("rows_in", "clean", "rejected", "decided").sum()).sort("day"))
        caption, first = "Per week (from Monday)", "week of"
    else:
        tabled, caption, first = days, "Per day", "day"
    rows = [[str(r["day"]), _n(r["rows_in"]), _n(r["clean"]), _n(r["rejected"]),
             _rate(r["rejected"], r["decided"])] for r in tabled.iter_rows(named=True)]
    return Section("exceptions", "Exception rate per day, with its trend",
                   "The share of the lines decided (clean or rejected) that were rejected. "
                   "The dashed line is the least-squares trend over the days with lines; "
                   "days without lines leave a gap.",
                   [chart], [Table(caption, [first, "lines in", "clean", "rejected",
                                             "exception rate"], rows, frozenset({1, 2, 3, 4}))])


def _trend(rate: pl.Series) -> list[float] | None:
    """The least-squares line through the days that have a rate, over every day."""
    points = pl.DataFrame({"x": range(rate.len()), "y": rate}).drop_nulls()
    if points.height < 2:
        return None
    fit = points.select(
        (pl.cov("x", "y") / pl.col("x").var()).alias("slope"),
        pl.col("x").mean().alias("mx"), pl.col("y").mean().alias("my")).row(0, named=True)
    slope = fit["slope"] or 0.0
    return [fit["my"] + slope * (x - fit["mx"]) for x in range(rate.len())]


def _pareto_rows(reasons: pl.DataFrame) -> pl.DataFrame:
    """code, lines, share, cumulative: largest first, the tail beyond ten as ``other``."""
    summed = reasons.group_by("code").agg(pl.col("lines").sum()).sort(
        ["lines", "code"], descending=[True, False])
    if summed.height > 10:
        rest = summed.slice(9)["lines"].sum()
        summed = pl.concat([summed.head(9), pl.DataFrame(
            {"code": [f"other ({summed.height - 9} codes)"], "lines": [rest]},
            schema=summed.schema)])
    total = summed["lines"].sum() or 1
    return summed.with_columns((pl.col("lines") / total * 100).alias("share"),
                               (pl.col("lines").cum_sum() / total * 100).alias("cumulative"))


def _reasons(figures: Figures) -> Section:
    section = Section("reasons", "Top reasons for rejects",
                      "Rejected lines per reason code (a line with two codes counts for "
                      "each): the few codes left of the 80 % mark are behind most rejects.")
    if not figures.reasons.height:
        section.note = "No line was rejected in this period."
    else:
        overall = _pareto_rows(figures.reasons)
        section.charts.append(charts.pareto("Reasons, all channels", overall["code"].to_list(),
                                            overall["lines"].to_list()))
        section.tables.append(Table(
            "Reasons, all channels", ["code", "lines", "share", "cumulative", "meaning"],
            [[r["code"], _n(r["lines"]), f"{r['share']:.1f} %", f"{r['cumulative']:.1f} %",
              _meaning(r["code"])] for r in overall.iter_rows(named=True)],
            frozenset({1, 2, 3})))
        worst = (figures.reasons.group_by("channel").agg(pl.col("lines").sum())
                 .sort(["lines", "channel"], descending=[True, False]).head(CHANNEL_PARETOS))
        rows = []
        for channel in worst["channel"]:
            mine = _pareto_rows(figures.reasons.filter(pl.col("channel") == channel))
            section.charts.append(charts.pareto(
                f"Reasons, {channel}", mine["code"].to_list(), mine["lines"].to_list(),
                width=420, height=240))
            rows += [[channel, r["code"], _n(r["lines"]), f"{r['share']:.1f} %"]
                     for r in mine.head(3).iter_rows(named=True)]
        section.tables.append(Table(
            f"Top three reasons of the {worst.height} channels with the most rejects",
            ["channel", "code", "lines", "share"], rows, frozenset({2, 3})))
    if figures.warnings.height:
        warned = (figures.warnings.group_by("code").agg(pl.col("lines").sum())
                  .sort(["lines", "code"], descending=[True, False]))
        section.tables.append(Table(
            "Warnings (clean lines with a finding)", ["code", "warnings", "meaning"],
            [[c, _n(n), _meaning(c)] for c, n in warned.iter_rows()], frozenset({1})))
    return section


def _inputs(figures: Figures) -> Section:
    top = figures.top_inputs
    section = Section("inputs", "Inputs with the most rejects",
                      "Single inputs (a file, a mail's attachment or body table) by rejected "
                      "lines, with the reason most of them carry.")
    if not top.height:
        section.note = "No input had a rejected line in this period."
        return section
    names = [f"{p} ({c})" for p, c in zip(top["path"], top["channel"], strict=True)]
    section.charts.append(charts.hbars("Rejected lines per input", names,
                                       top["rejected"].to_list()))
    section.tables.append(Table(
        "Inputs by rejected lines", ["input", "channel", "batch", "lines in", "rejected",
                                     "main reason"],
        [[r["path"], r["channel"], r["batch_id"], _n(r["rows_in"]), _n(r["rejected"]),
          r["code"] or ""] for r in top.iter_rows(named=True)], frozenset({3, 4})))
    return section


def _customers(figures: Figures) -> Section:
    top = figures.customers
    section = Section("customers", "Customers with the most rejects",
                      "Rejected lines whose own values failed a check, by the customer they "
                      "name (buyer_id, else buyer_name, as mapped).")
    if not top.height:
        section.note = ("No rejected line names a customer in this period (or the channels' "
                        "mappings map neither buyer_id nor buyer_name).")
        return section
    section.charts.append(charts.hbars("Rejected lines per customer", top["customer"].to_list(),
                                       top["rejected"].to_list()))
    section.tables.append(Table(
        "Customers by rejected lines", ["customer", "rejected", "inputs", "channels"],
        [[r["customer"], _n(r["rejected"]), _n(r["inputs"]),
          ", ".join(sorted((r["channels"] or "").split(",")))]
         for r in top.iter_rows(named=True)], frozenset({1, 2})))
    return section


RULE_ACTIONS = ("reject", "hold", "flag", "set")


def _rules(figures: Figures) -> Section:
    """What the order rules did: lines per day by action, and each rule's lines and orders
    over the period."""
    days = _days(figures).select("day")
    per_day = figures.rules.group_by("day", "action").agg(pl.col("lines").sum())
    wide = (days.join(per_day.pivot("action", index="day", values="lines"), on="day",
                      how="left").fill_null(0))
    series: dict[str, Sequence[float]] = {action: wide[action].to_list()
                                          for action in RULE_ACTIONS if action in wide.columns}
    chart = charts.stacked_bars("Lines hit by order rules per day, by action",
                                [_label(d, figures) for d in days["day"]], series)
    per_rule = (figures.rules.group_by("rule", "action").agg(pl.col("lines", "orders").sum())
                .sort(["lines", "rule"], descending=[True, False]))
    table = Table("Per rule, the whole period", ["rule", "action", "lines", "orders"],
                  [[rule, action, _n(lines), _n(orders)]
                   for rule, action, lines, orders in per_rule.iter_rows()],
                  frozenset({2, 3}))
    return Section("rules", "Order rules: rejects, holds, flags and routing",
                   "Lines each order rule hit (rules/*.toml): rejects held their order back, "
                   "holds wait for approval (`ordermill holds`), flags and routing set columns "
                   "of lines that went out.", [chart], [table])


def _changes(figures: Figures) -> Section:
    days = _days(figures)
    chart = charts.lines("Duplicates and updates per day",
                         [_label(d, figures) for d in days["day"]],
                         {"duplicates": days["duplicates"].to_list(),
                          "updates": days["updates"].to_list()})
    channels = (figures.by_day.group_by("channel").agg(pl.col("duplicates", "updates").sum())
                .sort(["duplicates", "updates", "channel"], descending=[True, True, False]))
    return Section("changes", "Duplicates and updates",
                   "Duplicates: lines output before with the same content, not output again. "
                   "Updates: lines output before whose content changed, output again as "
                   "change_type = update.", [chart],
                   [Table("Per channel", ["channel", "duplicates", "updates"],
                          [[c or "(none)", _n(d), _n(u)] for c, d, u in channels.iter_rows()],
                          frozenset({1, 2}))])


def _problem_section(figures: Figures) -> Section:
    section = Section("problems", "Unreadable inputs, mails in review, unreachable sources",
                      "What did not become lines at all: each needs a person.")
    unreadable = _problems(figures, "unreadable")
    unreachable = _problems(figures, "unreachable")
    section.tables.append(Table(
        f"Unreadable inputs ({unreadable.height})", ["last seen", "input", "code", "reason"],
        [[a[:16].replace("T", " "), p, c, r[:200]] for a, _, p, c, r, _ in
         unreadable.head(50).iter_rows()] or [["–", "none in this period", "", ""]]))
    section.tables.append(Table(
        f"Mails in review ({figures.review.height})",
        ["at", "mailbox", "folder", "uid", "reason"],
        [[a[:16].replace("T", " "), m, f, str(u), (r or "")[:200]] for a, m, f, u, _, r in
         figures.review.head(50).iter_rows()] or [["–", "none in this period", "", "", ""]],
        frozenset({3})))
    section.tables.append(Table(
        f"Unreachable sources ({unreachable['path'].n_unique()})",
        ["last seen", "source", "times", "reason"],
        [[a[:16].replace("T", " "), p, _n(t), r[:200]] for a, _, p, _, r, t in
         unreachable.iter_rows()] or [["–", "none in this period", "", ""]],
        frozenset({2})))
    return section


def _batches(figures: Figures) -> Section:
    top = figures.batches
    chart = charts.hbars("Lines in per batch", top["batch_id"].to_list(),
                         top["rows_in"].to_list())
    return Section("batches", "The largest batches", "By lines in.", [chart], [Table(
        "Largest batches", ["batch", "created (UTC)", "inputs", "lines in", "clean",
                            "rejected", "duplicates", "updates"],
        [[r["batch_id"], r["created_at"].replace("T", " ").rstrip("Z"), _n(r["inputs"]),
          _n(r["rows_in"]), _n(r["clean"]), _n(r["rejected"]), _n(r["duplicates"]),
          _n(r["updates"])] for r in top.iter_rows(named=True)], frozenset(range(2, 8)))])
