"""Mapping tools, beside the flow: check mapping files. Every problem in a file (not just the
first), duplicate channels, and detect signatures that would recognise another channel's
files too.

The loader stops at a file's first problem. To report them all without a second loader
that could drift from the real one, the real loader runs again on the file's data with the
offending key taken out (or a typo replaced by its suggestion), until it loads. Where the key
is, what name a typo meant and what is missing come from the error's data (``MappingError``
``keys``, ``suggestion``, ``missing``), never from its message.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import MappingError
from ingest.mapping.loader import parse_mapping
from ingest.mapping.model import Mapping
from ingest.readers.base import normalise_name

MAX_PROBLEMS = 50
PLACEHOLDER = "?"


@dataclass(frozen=True)
class Problem:
    path: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.key}: {self.problem}" if self.key else \
            f"{self.path}: {self.problem}"


@dataclass
class FileCheck:
    path: str
    mapping: Mapping | None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class CheckReport:
    files: list[FileCheck]
    warnings: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]

    @property
    def mappings(self) -> list[Mapping]:
        return [f.mapping for f in self.files if f.mapping is not None]

    @property
    def ok(self) -> bool:
        return not self.problems


def mapping_files(paths: list[Path]) -> list[Path]:
    """Files as given; folders stand for the ``*.toml`` files in them."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    return files


def check_paths(paths: list[Path]) -> CheckReport:
    report = CheckReport([check_file(p) for p in mapping_files(paths)])
    seen: dict[str, str] = {}
    for checked in report.files:
        mapping = checked.mapping
        if mapping is None:
            continue
        if mapping.pair is not None:
            continue  # a two-file export's halves share their channel
        if mapping.channel in seen:
            checked.problems.append(Problem(checked.path, "channel", (
                f"{mapping.channel!r} is also the channel of {seen[mapping.channel]}; "
                "give each mapping file its own channel name")))
            checked.mapping = None
        else:
            seen[mapping.channel] = checked.path
    report.warnings = signature_overlaps(report.mappings)
    return report


def check_file(path: Path) -> FileCheck:
    """Every problem the loader finds in one file."""
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return FileCheck(name, None, [Problem(name, "", "no such file")])
    except tomllib.TOMLDecodeError as exc:
        return FileCheck(name, None, [Problem(name, "", f"is not valid TOML: {exc}")])
    except (OSError, UnicodeDecodeError) as exc:
        return FileCheck(name, None, [Problem(name, "", f"cannot be read: {exc}")])
    problems: list[Problem] = []
    original = data
    data = copy.deepcopy(data)
    while len(problems) < MAX_PROBLEMS:
        try:
            parse_mapping(data, name)
        except MappingError as exc:
            problem = Problem(name, exc.key, exc.problem)
            if problem in problems:
                break
            problems.append(problem)
            if not _set_aside(data, exc):
                break
            continue
        if not problems:  # the data was never changed: this is the file's own mapping
            return FileCheck(name, parse_mapping(original, name))
        return FileCheck(name, None, problems)
    return FileCheck(name, None, problems)


def _set_aside(data: dict[str, Any], exc: MappingError) -> bool:
    """Change ``data`` so the loader gets past this problem; False when it cannot."""
    if exc.keys == ("fields",) and exc.missing:  # stand in a constant to find the other gaps
        constants = data.setdefault("constants", {})
        if not isinstance(constants, dict):
            return False
        constants[exc.missing] = PLACEHOLDER
        return True
    if exc.keys == ("channel",):
        data["channel"] = "checking"
        return True
    if exc.keys == ("detect", "header_contains") and exc.missing:
        data.setdefault("detect", {})["header_contains"] = [PLACEHOLDER]
        return True
    tokens = list(exc.keys)
    if not tokens:
        return False
    # Inside a list of cases, set aside the whole rule: indices would shift otherwise.
    for i, token in enumerate(tokens):
        if isinstance(token, int):
            tokens = tokens[:i]
            break
    parent: Any = data
    for token in tokens[:-1]:
        if not isinstance(parent, dict) or token not in parent:
            return False
        parent = parent[token]
    last = tokens[-1]
    if not isinstance(parent, dict) or last not in parent:
        return False
    value = parent.pop(last)
    # A mistyped field name: check the rest under the name it was meant to have, so its
    # absence does not show up again as a "required field is not mapped".
    suggested = exc.suggestion
    if (suggested and len(tokens) == 2 and tokens[0] in ("fields", "constants", "values")
            and suggested not in parent):
        parent[suggested] = value
    return True


def signature_overlaps(mappings: list[Mapping]) -> list[str]:
    """Pairs of channels whose signatures would both match one header: every name of one's
    signature is a column the other reads (so its files carry it too)."""
    warnings: list[str] = []
    for a in mappings:
        wanted = {normalise_name(s) for s in a.header_contains}
        for b in mappings:
            if a is b:
                continue
            carried = {normalise_name(c) for c in (*b.header_contains, *b.used_columns)}
            if not wanted <= carried:
                continue
            both = f"a {b.channel} file carries every column of {a.channel}'s signature " \
                f"({', '.join(a.header_contains)}), so both would match its header"
            if len(b.header_contains) > len(a.header_contains):
                warnings.append(f"{a.path}: detect.header_contains: {both}; detect picks "
                                f"{b.channel} (the longer signature), but add a column only "
                                f"{a.channel} files have to make {a.channel}'s signature "
                                "distinctive")
            else:
                warnings.append(f"{a.path}: detect.header_contains: {both}, and "
                                f"{b.channel}'s signature is no longer, so which one wins "
                                f"is not decided: add a column only {b.channel} files have "
                                f"to {b.path}'s detect.header_contains")
    return warnings


def check_beside(files: list[Path], directory: Path) -> CheckReport:
    """``files`` checked as they will be used: beside the mappings of ``directory``. A
    channel name the directory already has and a signature that overlaps another channel's
    are problems and warnings of these files."""
    known = {p.resolve() for p in mapping_files(files)}
    others = [p for p in mapping_files([directory]) if p.resolve() not in known] \
        if directory.is_dir() else []
    # The directory first: a repeated channel name is charged to the file that repeats it.
    context = check_paths(others + files)
    mine = {str(p) for p in mapping_files(files)}
    report = CheckReport([f for f in context.files if f.path in mine])
    report.warnings = [w for w in context.warnings
                       if any(w.startswith(f.path + ":") for f in report.files)
                       or any(f"{f.path}'s" in w for f in report.files)]
    return report
