"""Sources, the first stage: where inputs come from, and what becomes of each afterwards.

A source lists the inputs that arrived (``list_inputs``) and, once the run has published
what it read, is told each one's outcome (``settle``): the folder source archives what was
ingested and quarantines what can never be read; a mailbox moves a mail to its processed
or review folder, then moves its cursor on (``finish``). A source knows nothing of tables,
channels or checks.

A new kind of source is a module in this folder with a class keeping the ``Source``
contract, registered in ``SOURCE_KINDS`` under the ``kind`` its ``[[sources]]`` use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ingest.config import Settings
from ingest.config import Source as SourceConfig
from ingest.inputs import Input, Outcome
from ingest.ledger import Ledger
from ingest.sources.folder import FolderSource
from ingest.sources.given import GivenPaths, expand_paths
from ingest.sources.imap import ImapSource


class Source(Protocol):
    name: str
    # The kinds (suffixes) of input it will list, when they are known before it is listed
    # (a mailbox lists mails): the readers may get ready meanwhile. Empty: only listing tells.
    listing_kinds: tuple[str, ...]

    def list_inputs(self, ledger: Ledger) -> list[Input]:
        """The inputs waiting to be read, in the order they should be read (the ledger
        holds a mailbox's cursor). Raises InputError (``source-unreachable``) when the
        source cannot be reached."""
        ...

    def settle(self, outcome: Outcome) -> dict[str, str] | None:
        """Do what the outcome asks of the input (move it, flag it, leave it) and say what
        was done as ``{"path", "to", "why"}``, or None when nothing was."""
        ...

    def finish(self, ledger: Ledger, run_id: int) -> list[dict[str, str]]:
        """After every outcome is settled: what is left to do at once (a mailbox moves its
        mail, then its cursor). Returns problems to report (``path``, ``code``, ``reason``)."""
        ...

    def close(self) -> None:
        """Let go of what the source holds open (a connection), however the run ended."""
        ...


SOURCE_KINDS: dict[str, Callable[[SourceConfig, Settings], Source]] = {
    "folder": FolderSource, "imap": ImapSource}


def configured(config: SourceConfig, settings: Settings, **options: Any) -> Source:
    """The source a ``[[sources]]`` entry describes (``options``: a poll's ``since``)."""
    if config.kind == "imap":
        return ImapSource(config, settings, **options)
    return SOURCE_KINDS[config.kind](config, settings)


__all__ = ["SOURCE_KINDS", "FolderSource", "GivenPaths", "ImapSource", "Source", "configured",
           "expand_paths"]
