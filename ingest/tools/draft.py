"""Mapping tools, beside the flow: a ``Suggestion`` written as a mapping TOML to review.

Every guess comes with its confidence and reason as a comment, the columns left unmapped
listed at the end."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from ingest.errors import UsageError
from ingest.mapping.loader import parse_mapping
from ingest.mapping.model import Mapping
from ingest.readers.encoding import ENCODINGS
from ingest.schema import mappable_fields
from ingest.tools.suggest import Guess, Suggestion, suggest


def quote(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def literal(pattern: str) -> str:
    """A regular expression as a TOML literal string, so backslashes stay as written."""
    return f"'{pattern}'" if "'" not in pattern and "\n" not in pattern else quote(pattern)


def strings(items: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(quote(i) for i in items) + "]"


def render(s: Suggestion) -> str:
    out: list[str] = [
        f"# Draft mapping for {s.path}, written by `ordermill mappings suggest`.",
        f"# Read {s.rows_sampled} rows under the header on row {s.header_row}. Review every "
        "line marked CHECK",
        "# and every guess below 80 %, then run `ordermill mappings check` on this file.",
    ]
    if s.recognised_as:
        out.append(f"# NOTE: this file is already recognised as channel "
                   f"{', '.join(s.recognised_as)}; a new mapping may not be needed.")
    out += [f"channel = {quote(s.channel)}",
            f"description = {quote('Drafted from ' + s.path.rsplit('/', 1)[-1])}", "",
            "[detect]",
            "# Header names that identify this channel's files (distinctive ones: edit freely).",
            f"header_contains = {strings(s.signature)}", "", "[reader]"]
    out.append(f"encoding = {quote(s.encoding or 'auto')}" + "  # as detected; \"auto\" "
               "detects it per file")
    if s.reader == "csv":
        out.append(f"delimiter = {quote(s.delimiter or 'auto')}  # as detected")
    if s.sheet is not None:
        sheet = quote(s.sheet) if isinstance(s.sheet, str) else str(s.sheet)
        out.append(f"sheet = {sheet}  # 0: the first sheet")
    out.append(f"# header_row = {s.header_row}  # found by the signature above; set it "
               "only if that fails")
    if s.footer:
        out.append(f"footer = {literal(s.footer)}  # rows under the table (totals, notes)")
    out += ["", "[parse]"]
    zone, why = s.timezone
    out.append(f"timezone = {quote(zone)}  # {why}" if zone else f"# timezone: not needed, {why}")
    region, why = s.phone_region
    out.append(f"phone_region = {quote(region)}  # {why}" if region else
               "# phone_region = \"US\"  # CHECK: the country of phone numbers without "
               "a +code")
    if s.datetime_formats:
        out.append(f"datetime_formats = {strings(s.datetime_formats)}  # as the sample's "
                   "times are written")
    if s.date_formats:
        out.append(f"date_formats = {strings(s.date_formats)}")
    if s.order_key:
        out += ["", "[orders]", "# One order spans several lines; these columns are filled "
                "on its first line only.", f"key = {quote(s.order_key)}",
                f"carry_forward = {strings(s.carry_forward)}"]
    if s.constants:
        out += ["", "[constants]"]
        for name, (value, why) in s.constants.items():
            out.append(f"{name} = {quote(value)}  # {why}")
    out += ["", "[fields]", "# field = source column  # confidence: why"]
    for name in mappable_fields():
        if name in s.guesses:
            out.append(f"{name} = {_rule(s.guesses[name])}  # "
                       f"{s.guesses[name].confidence:.0%}: {s.guesses[name].why}")
    for name in s.missing:
        out.append(f"{name} = {quote('<column for ' + name + '>')}  # CHECK: required, and "
                   "no column looked like it: name the column")
    if s.statuses:
        out += ["", "[values.order_status]",
                "# source status -> one of: pending_payment, paid, shipped, completed, "
                "cancelled, refunded"]
        for raw, status in s.statuses.items():
            out.append(f"{quote(raw)} = {quote(status)}" if status else
                       f"# {quote(raw)} = \"\"  # CHECK: which status is this?")
    if s.passed_over:
        out += ["", "# Guesses passed over for better ones:"]
        out += [f"#   {line}" for line in s.passed_over]
    out += ["", "# Columns left unmapped (no standard field matched; map any that matter):"]
    out += [f"#   {c}" for c in s.unmatched] if s.unmatched else ["#   (none)"]
    return "\n".join(out) + "\n"


def _rule(guess: Guess) -> str:
    options = dict(guess.options)
    if guess.how == "column":
        return quote(guess.columns[0])
    if guess.how == "first":
        return f"{{ first = {strings(guess.columns)} }}"
    if guess.how == "join":
        return f"{{ join = {strings(guess.columns)}, separator = " \
            f"{quote(str(options['separator']))} }}"
    if guess.how == "cases":
        cases = options["cases"]
        assert isinstance(cases, list)
        inner = ", ".join(f"{{ column = {quote(c['column'])}, present = {quote(c['present'])} }}"
                          for c in cases)
        return f"{{ cases = [{inner}] }}"
    parts = [f"column = {quote(guess.columns[0])}"]
    if "split" in options:
        part = options["part"]
        parts += [f"split = {quote(str(options['split']))}",
                  f"part = {quote(part) if isinstance(part, str) else part}"]
    for name in ("extract", "remove"):
        if name in options:
            parts.append(f"{name} = {literal(str(options[name]))}")
    return "{ " + ", ".join(parts) + " }"


def draft_mapping(file: Path, known: list[Mapping], *, channel: str | None = None,
                  encoding: str | None = None, sheet: str | None = None,
                  out: Path | None = None, force: bool = False) -> tuple[str, Suggestion]:
    """Suggest a mapping for ``file``, render it, prove it loads, and write it to ``out``
    (when given). Returns the draft's text and the suggestion behind it."""
    if out is not None and out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")
    if channel is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", channel):
        raise UsageError(f"--channel {channel!r}: use a short lower-case name such as 'etsy'")
    taken = {m.channel: m.path for m in known}
    if channel in taken:
        raise UsageError(f"--channel {channel!r} is already the channel of {taken[channel]}; "
                         "choose another name")
    if encoding and encoding.lower() not in ENCODINGS:
        raise UsageError(f"unknown encoding {encoding!r}; use one of: " + ", ".join(ENCODINGS))
    drafted = suggest(file, known, channel=channel,
                      encoding=encoding.lower() if encoding else None,
                      sheet=int(sheet) if sheet and sheet.isdigit() else sheet)
    text = render(drafted)
    draft_check(text, str(out or file))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return text, drafted


def written_summary(out: Path, drafted: Suggestion) -> str:
    unsure = sum(1 for g in drafted.guesses.values() if g.confidence < 0.8)
    return (f"wrote {out}: {len(drafted.guesses)} fields guessed ({unsure} below 80 %), "
            f"{len(drafted.unmatched)} columns unmapped; review it, then run "
            f"`ordermill mappings check {out}`")


def draft_check(text: str, where: str) -> Mapping:
    """The draft through the real loader: a draft that does not load is a bug here."""
    return parse_mapping(tomllib.loads(text), where)
