"""Sources, the first stage: an input is one document a source hands over to be read.

An input is not a path. It has a name for people (the path as given today; later "mail
<uid> from <sender>: attachment po.xlsx" or "scan page 2"), a way to open its bytes, its
size and sha256, and an origin (lineage: where it came from, so a source can settle it
and a report can point back to it). Readers read inputs; sources list them and are told
each one's outcome (``Outcome``).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from ingest.errors import InputError

Digest = tuple[str, int]  # an input's sha256 (hex) and size in bytes


@dataclass(frozen=True)
class Input:
    """One document to read. Exactly one of ``path`` (a file on local disk, read in place)
    and ``data`` (bytes in memory: an attachment, a page) is set."""

    name: str  # for people and for the ``source`` column: the path as given, or a label
    suffix: str  # the document kind, lower case with its dot (".csv", ".xlsx"): the reader
    path: Path | None = None
    data: bytes | None = None
    # Lineage: {"kind": "file", "path": ...} today; a mailbox, UID and part later.
    origin: dict[str, str] = field(default_factory=dict)
    source: str | None = None  # the configured source that listed it (None: the command line)
    channel: str | None = None  # the channel its source reads it with (None: detect)
    # A mail's own: which channel reads a sender's parts ((sender pattern, channel) pairs,
    # ``[[sources.routes]]``), and the largest attachment taken (None: the default).
    routes: tuple[tuple[str, str], ...] = ()
    max_attachment_bytes: int | None = None
    # A part of a mail: the mail's subject, sender, date and body lines, which a mapping's
    # form labels read as they read a sheet's form area (``ingest.mapping.form``).
    context: tuple[tuple[str, ...], ...] = ()
    optional: bool = False  # a body table: one no mapping recognises is not an order

    @classmethod
    def from_path(cls, path: str | Path, *, source: str | None = None,
                  channel: str | None = None) -> Input:
        """A file on disk, named by its absolute path: the lineage every line and reject
        carries (``source``) points at one file whatever folder the run started in, and a
        name such as ``-rf.csv`` never reads as an option. Bytes of the name that are not
        UTF-8 are shown escaped (``shown``); the file is opened by its real path."""
        path = Path(path).absolute()
        return cls(shown(path), path.suffix.lower(), path=path,
                   origin={"kind": "file", "path": shown(path)}, source=source,
                   channel=channel)

    @classmethod
    def from_bytes(cls, name: str, data: bytes, *, suffix: str | None = None,
                   origin: dict[str, str] | None = None, source: str | None = None,
                   channel: str | None = None, routes: tuple[tuple[str, str], ...] = (),
                   max_attachment_bytes: int | None = None,
                   context: tuple[tuple[str, ...], ...] = (), optional: bool = False
                   ) -> Input:
        return cls(name, (suffix or Path(name).suffix).lower(), data=data,
                   origin=origin or {"kind": "bytes"}, source=source, channel=channel,
                   routes=routes, max_attachment_bytes=max_attachment_bytes,
                   context=context, optional=optional)

    def exists(self) -> bool:
        """Whether there is a file to read. Raises InputError (``cannot-open``) when that
        cannot be told now (a folder on the way that cannot be entered)."""
        if self.data is not None:
            return True
        assert self.path is not None
        try:
            return self.path.is_file()
        except OSError as exc:
            raise self._cannot_open(exc) from None

    def not_regular(self) -> str | None:
        """What the path is when it exists but is not a regular file (a named pipe, a
        device, a socket, a folder), from ``stat`` alone: opening a FIFO to look would
        block the run until something writes to it. None for a regular file, bytes in
        memory or a missing path."""
        if self.path is None:
            return None
        try:
            mode = self.path.stat().st_mode
        except OSError:
            return None  # missing or not stat-able: ``exists`` and ``size`` say which
        for test, kind in ((stat.S_ISFIFO, "a named pipe (FIFO)"),
                           (stat.S_ISCHR, "a character device"),
                           (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                           (stat.S_ISDIR, "a folder")):
            if test(mode):
                return kind
        return None

    def size(self) -> int:
        return len(self.data) if self.data is not None else self._stat().st_size

    def fingerprint(self) -> tuple[int, ...]:
        """What changes when the file is written to, replaced or truncated: its size,
        modification time (ns), inode and device. Bytes in memory never change."""
        if self.data is not None:
            return (len(self.data),)
        st = self._stat()
        return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)

    def _stat(self) -> os.stat_result:
        """The file's stat; InputError (``missing-file``, ``cannot-open``) when it cannot
        be had now."""
        assert self.path is not None
        try:
            return self.path.stat()
        except FileNotFoundError:
            raise InputError.of(self.name, "missing-file") from None
        except OSError as exc:
            raise self._cannot_open(exc) from None

    def _cannot_open(self, exc: OSError) -> InputError:
        return InputError.of(self.name, "cannot-open", reason=str(exc.strerror or exc))

    def open(self) -> BinaryIO:
        """Its bytes, from the start (the caller closes the handle)."""
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")

    def read_bytes(self) -> bytes:
        """All its bytes. Raises InputError (``cannot-open``, ``missing-file``) when they
        cannot be read now."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            raise InputError.of(self.name, "missing-file") from None
        except OSError as exc:
            raise self._cannot_open(exc) from None

    def sha256(self) -> Digest:
        """Its digest and size, read in one pass. Raises InputError (``cannot-open``) when
        its bytes cannot be read now."""
        digest = hashlib.sha256()
        size = 0
        try:
            with self.open() as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)  # (hashlib lets go of the GIL on big updates)
                    size += len(chunk)
        except OSError as exc:
            raise self._cannot_open(exc) from None
        return digest.hexdigest(), size


def shown(path: str | Path) -> str:
    """A path as text people and files can hold: a name that is not UTF-8 (Latin-1 or
    Shift-JIS bytes from a Windows zip) comes from the OS with its bytes as lone surrogates,
    which no UTF-8 writer (the manifest, the ledger, a CSV) accepts; those bytes are shown
    escaped (``r\\xe9sum\\xe9.csv``). A UTF-8 name is returned as it is. The file itself is
    still opened by its ``Path``."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


# Hashing runs beside parsing (hashlib lets go of the GIL): a 400 MB export takes 0.5 s of
# CPU to hash, which would otherwise come first.
_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ordermill-sha256")


def digest_of(data: bytes) -> Digest | Future[Digest]:
    """The digest of bytes a reader holds (what it parses), computed beside the parsing;
    a few KiB (an e-mailed PO) at once: handing them to the thread costs more."""
    if len(data) <= HASH_NOW_BYTES:
        return hashlib.sha256(data).hexdigest(), len(data)
    return _HASHER.submit(lambda: (hashlib.sha256(data).hexdigest(), len(data)))


HASH_NOW_BYTES = 256 << 10  # (hashed in well under a millisecond)


class HashingReader:
    """A file handle that hashes every byte read through it, in order, beside the work on
    them: a reader that reads an input from start to end through it knows the digest of
    exactly what it parsed (``digest``), whatever happens to the file meanwhile."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()
        self._size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        if chunk:
            self._size += len(chunk)
            _HASHER.submit(self._hash.update, chunk)  # (one thread: updates keep their order)
        return chunk

    def tell(self) -> int:
        return self._handle.tell()

    def digest(self) -> Future[Digest]:
        """The digest of what was read so far (call it at the end)."""
        size = self._size
        return _HASHER.submit(lambda: (self._hash.hexdigest(), size))

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolved(digest: Digest | Future[Digest]) -> Digest:
    return digest.result() if isinstance(digest, Future) else digest


class Fate(Enum):
    """What became of an input in a run: what its source does with it afterwards."""

    INGESTED = "ingested"  # read, and its lines published (or all of them rejected)
    ALREADY_INGESTED = "already-ingested"  # the same bytes were ingested before: skipped
    UNREADABLE = "unreadable"  # cannot be read at all, and will not be next time
    RETRY = "retry"  # cannot be read now (a passing fault): left for the next run
    # Half of a two-file export whose partner has not arrived: its bytes wait in the state
    # (``ingest.unpaired``), the file stays where it is until it is joined.
    WAITING = "waiting"
    # A part of a mail that is not an order (a body table no mapping recognises): nothing
    # of it is read; the mail is settled by its other parts.
    PASSED_OVER = "passed-over"


@dataclass(frozen=True)
class Outcome:
    """An input's fate, with the catalogued code and the reason a person reads."""

    input: Input
    fate: Fate
    code: str | None = None
    reason: str | None = None
