"""Sources, the first stage: where inputs come from, and what becomes of each afterwards.

A source lists the inputs that arrived (``list_inputs``) and, once the run has published
what it read, is told each one's outcome (``settle``): the folder source archives what was
ingested and quarantines what can never be read; a mailbox (later) moves a mail to its
processed or review folder. A source knows nothing of tables, channels or checks.

A new kind of source is a module in this folder with a class keeping the ``Source``
contract, registered in ``SOURCE_KINDS`` under the ``kind`` its ``[[sources]]`` use.
"""

from __future__ import annotations

from typing import Protocol

from ingest.config import Settings
from ingest.config import Source as SourceConfig
from ingest.inputs import Input, Outcome
from ingest.sources.folder import FolderSource
from ingest.sources.given import GivenPaths, expand_paths


class Source(Protocol):
    name: str

    def list_inputs(self) -> list[Input]:
        """The inputs waiting to be read, in the order they should be read."""
        ...

    def settle(self, outcome: Outcome) -> dict[str, str] | None:
        """Do what the outcome asks of the input (move it, flag it, leave it) and say what
        was done as ``{"path", "to", "why"}``, or None when nothing was."""
        ...


SOURCE_KINDS: dict[str, type[FolderSource]] = {"folder": FolderSource}


def configured(config: SourceConfig, settings: Settings) -> Source:
    """The source a ``[[sources]]`` entry describes."""
    return SOURCE_KINDS[config.kind](config, settings)


__all__ = ["SOURCE_KINDS", "FolderSource", "GivenPaths", "Source", "configured",
           "expand_paths"]
