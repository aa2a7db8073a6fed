"""The code's layout as the README draws it: every module has its place in the Development
section's flow, and opens with a line saying which stage of the flow it is."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

STAGES = ("Sources", "Reading", "Detection", "Mapping", "Checks", "Verdicts", "Writing",
          "Publishing", "Reporting", "The run", "The ledger", "The library surface",
          "The standard order schema", "Errors", "Configuration", "Every stage",
          "Between checks and writing", "Fault injection", "Mapping tools", "ordermill:")


def modules() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ingest").rglob("*.py"))


def development() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme[readme.index("## Development"):]


def test_every_module_has_its_place_in_the_readme() -> None:
    section = development()
    named = set(re.findall(r"`(ingest/[\w/]+(?:\.py|/))`", section))
    missing = [m for m in modules() if m.endswith(".py") and not m.endswith("__init__.py")
               and m not in named and not any(m.startswith(d) for d in named
                                              if d.endswith("/"))]
    assert missing == []
    # ... and every module it names exists
    assert [n for n in named if not (ROOT / n).exists()] == []


def test_every_module_opens_with_its_stage() -> None:
    for path in modules():
        doc = ast.get_docstring(ast.parse((ROOT / path).read_text(encoding="utf-8")))
        assert doc, f"{path} has no docstring"
        assert doc.startswith(STAGES), f"{path}: {doc.splitlines()[0]!r}"


def test_the_readme_says_where_each_new_kind_of_thing_goes() -> None:
    where = development()[development().index("### Where a new thing goes"):]
    for kind in ("A source kind", "A reader", "A detection strategy", "A check",
                 "An output format", "A report"):
        assert f"**{kind}**" in where, kind
