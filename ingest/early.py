"""Reading and detection, stages two and three, ahead of time: small text inputs recognised and
read in the parser's process while the run works on the inputs before them.

A run of many small inputs (a night of e-mailed POs) spends most of its time on each one's
fixed costs: a CSV of 20 lines costs the run about a millisecond and a half to recognise and
parse, in Python, on one core. The parser's process (``ingest.readers.isolated``) reads the
run's workbooks ahead on the other core; the small CSVs (and TSV, TXT) go there too: it
opens each, finds its mapping (``ingest.mapping.detect``) and reads its table, exactly as
the run would, and sends back the match and the table. The run then takes them instead of
reading the input itself (``take``), if the file is as it was when it was sent.

Nothing changes in what a run outputs: an input the child could not read for a reason of
its own (an unknown layout, a malformed file) raises the same InputError it would have
raised here; anything else (the child gone, replaced, or failing in a way of its own) and
the input is read here as if never sent.

The child is given the run's mappings once (``_child_mappings``): a call names them by a
token, so a child that was replaced meanwhile (and so holds none) refuses it, and the input
is read here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.errors import InputError
from ingest.inputs import Digest, Input, resolved
from ingest.mapping.detect import Match, detect
from ingest.mapping.model import Mapping
from ingest.readers import isolated, open_document
from ingest.readers.base import RawTable
from ingest.readers.csv import CsvReader

TEXT_SUFFIXES = CsvReader.suffixes
# What the child's own failure looks like: not the input's fault, read here instead.
CHILD_FAULTS = ("reader-crashed", "read-timeout")


@dataclass(frozen=True)
class Answer:
    """What the child found: the mapping (its place in the run's list), where its table is,
    the table as read, and the digest of the bytes it parsed."""

    mapping: int
    header_row: int
    sheet: str | None
    rank: tuple[int, ...]
    missing_signature: tuple[str, ...]
    table: RawTable
    digest: Digest


@dataclass
class _Sent:
    input: Input
    fingerprint: tuple[int, ...]
    mappings: list[Mapping]
    channel: str | None
    ticket: isolated.Ticket[Answer]


_SENT: dict[int, _Sent] = {}  # inputs sent ahead, by their input (its id)
SENT_KEPT = 32  # (those of inputs the run then skipped are let go of, oldest first)
# The mappings the child was given: (the list, its token, the child's pid)
_GIVEN: tuple[list[Mapping], str, int] | None = None


def read_ahead(inputs: Iterable[Input], mappings: list[Mapping], channel: str | None) -> None:
    """Send the small text inputs among these to the parser's process, as far as the pipe
    has room; ``channel``: the run's ``--channel`` (an input's own channel, a mail route's,
    applies when there is none). Only to a child that is up: one still booting would make
    the run wait for inputs it reads faster itself."""
    if not isolated.booted():
        return
    for one in inputs:
        if (one.suffix not in TEXT_SUFFIXES or one.row_numbers
                or one.origin.get("kind") == "rejects"):
            continue  # (fed-back rows are read with other mappings, renumbered)
        if (before := _SENT.get(id(one))) is not None:
            if before.input is one:
                continue  # (sent already)
            del _SENT[id(one)]  # (an input of an earlier run, whose id is this one's now)
        try:
            if one.not_regular() is not None or not one.exists():
                continue
            size = len(one.data) if one.data is not None else one.size()
            if size > isolated.AHEAD_BYTES:
                continue
            fingerprint = one.fingerprint()
        except InputError:
            continue  # (its own reading will say so, in its turn)
        request = len(one.data) if one.data is not None else 0
        if not isolated.room(request):
            return  # (the pipe is full: later)
        token = _given(mappings)
        wanted = channel or one.channel
        ticket = isolated.ahead(one.name, request, _child_read, one, token, wanted)
        if ticket is None:
            return
        _SENT[id(one)] = _Sent(one, fingerprint, mappings, wanted, ticket)
        while len(_SENT) > SENT_KEPT:
            _SENT.pop(next(iter(_SENT)))


def take(one: Input, mappings: list[Mapping], channel: str | None
         ) -> tuple[Match, RawTable, Digest] | None:
    """The input as the child read it: its match, its table and the digest of what was
    parsed; None when it was not sent, was sent for other mappings or another channel,
    has changed since, or the child failed on its own account (then read it here).
    Raises the input's InputError when the child found it unreadable."""
    sent = _SENT.pop(id(one), None)
    if (sent is None or sent.input is not one or sent.mappings is not mappings
            or sent.channel != channel):
        return None
    try:
        if one.fingerprint() != sent.fingerprint:
            return None
        answer = sent.ticket.result()
    except isolated.Failure:
        return None
    except InputError as exc:
        if exc.code in CHILD_FAULTS or exc.path != one.name:
            return None
        raise
    match = Match(mappings[answer.mapping], answer.header_row, answer.sheet, answer.rank,
                  answer.missing_signature)
    return match, answer.table, answer.digest


def _given(mappings: list[Mapping]) -> str:
    """The token the running child knows these mappings by, sent to it first if it does
    not (a new run's mappings, a new child)."""
    global _GIVEN
    if _GIVEN is None or _GIVEN[0] is not mappings or _GIVEN[2] != isolated.child_pid():
        token = uuid.uuid4().hex
        isolated.submit("mappings", _child_mappings, token, mappings)
        _GIVEN = (mappings, token, isolated.child_pid())
    return _GIVEN[1]


# In the child: the mappings it was given, by token (only the latest is kept).
_CHILD_MAPPINGS: dict[str, list[Mapping]] = {}


def _child_mappings(token: str, mappings: list[Mapping]) -> None:
    _CHILD_MAPPINGS.clear()
    _CHILD_MAPPINGS[token] = mappings


def _child_read(one: Input, token: str, channel: str | None) -> Answer:
    """In the child: the input opened, recognised and read as ``ingest.reading`` does."""
    mappings = _CHILD_MAPPINGS.get(token)
    if mappings is None:
        raise LookupError("this process was not given the run's mappings")
    with open_document(one) as document:
        match = detect(document, mappings, channel)
        table = document.read(match.options, match.header_row)
        if document.digest is None:
            raise LookupError(f"the {type(document).__name__} reader did not hash what it read")
        digest = resolved(document.digest)
    place = next(i for i, mapping in enumerate(mappings) if mapping is match.mapping)
    return Answer(place, match.header_row, match.sheet, match.rank,
                  match.missing_signature, table, digest)
