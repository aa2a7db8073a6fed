"""Sources, the first stage (intake): exactly once at the level of whole inputs.

An input whose bytes were ingested before (the ledger knows its sha256), or already read in
this run, is skipped before any work is done on it (``--force`` reads it again). A new one
is hashed by its reader as it is read, not before: the ledger's index of sizes tells, for
free, that an input of a size never ingested cannot be one that was.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.inputs import Digest, Input
from ingest.ledger import Ledger


@dataclass(frozen=True)
class Skip:
    """An input ingested before: its digest and why it is skipped."""

    sha256: str
    reason: str


class Intake:
    def __init__(self, ledger: Ledger, force: bool = False) -> None:
        self.ledger = ledger
        self.force = force
        self._sizes: set[int] = set()  # of the inputs read in this run ...
        self._names: dict[str, str] = {}  # ... and their sha256 -> name

    def admit(self, one: Input) -> Skip | Digest | None:
        """Skip the input, or let it be read: then its digest when it had to be hashed to
        tell (the bytes read must be those), None when its reader will hash it."""
        size = one.size()
        if size not in self._sizes and (self.force or not self.ledger.seen_size(size)):
            return None  # a size not seen before: a new input
        digest = one.sha256()
        sha256 = digest[0]
        now = self._names.get(sha256)
        earlier = self.ledger.seen(sha256)
        if now is not None or (earlier is not None and not self.force):
            first = now or (earlier.path if earlier else "")
            when = f"in batch {earlier.batch_id}" if earlier else "in this run"
            return Skip(sha256, f"already ingested {when} (as {first})")
        return digest

    def read(self, one: Input, digest: Digest) -> None:
        """The input was read in this run: a later copy of it is skipped."""
        self._sizes.add(digest[1])
        self._names.setdefault(digest[0], one.name)
