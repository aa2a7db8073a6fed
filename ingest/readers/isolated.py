"""Reading, the second stage: native parsers in a child process, with memory and time limits.

calamine (Rust) parses workbooks without bounds of its own: a shape nobody foresaw can make
it allocate until the process aborts, or run for hours. ``limits`` refuses the shapes we
know from the file's structure; this is the line behind it. The parse runs in one child
process, started on first use and kept for the run's later workbooks, whose address space
is capped (``ORDERMILL_READ_MEMORY_MB``) and whose answer is waited for a bounded time
(``ORDERMILL_READ_SECONDS``); a reader sends it all its work on a workbook that can grow
with the file (our own XML scans too). A child that aborts, is killed or overruns takes
only that input with it: the input gets a reason (``reader-crashed``, ``read-timeout``),
the child is replaced, and the run goes on.

What the child returns crosses as an Arrow IPC file (a sheet's grid of strings), not
through the pipe: a pickled 200,000-line grid costs a second, the file a tenth of that.

Calls may be sent ahead of when their answers are needed (``submit``): the child works on
the next workbooks while the run works on this one. It answers in order, so an answer
that does not come belongs to the oldest call still waiting: that input alone gets the
reason, and the calls sent after it go to the new child.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, TypeVar

import polars as pl

from ingest.errors import InputError
from ingest.readers.limits import Limit

T = TypeVar("T")


def _half_the_memory() -> int:
    """Half of the machine's memory in MiB: one hostile file must not take the rest."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 8192
    return max(2048, pages * size // 2 >> 20)


READ_MEMORY_MIB = Limit("ORDERMILL_READ_MEMORY_MB", _half_the_memory(),
                        "memory the workbook parser may take", "MiB")
READ_SECONDS = Limit("ORDERMILL_READ_SECONDS", 600, "seconds the workbook parser may take",
                     "s")


class Failure(Exception):
    """An error raised inside the child, as its type name and first line (exceptions of
    native libraries do not always cross a pipe)."""


def call(name: str, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in the child process (a module-level function: it is sent by
    name). Raises ``Failure`` for an exception in the child, and the input's InputError
    when the child dies or overruns its time."""
    return submit(name, function, *args).result()


def submit(name: str, function: Callable[..., T], *args: Any) -> Ticket[T]:
    """``call``, sent now, answered when ``result()`` is asked for. The answers of calls
    sent ahead are read first: a big request must not wait on the pipe while the child
    waits for a big answer to be read."""
    ticket: Ticket[T] = Ticket(name, function, args)
    _send_now(ticket)
    return ticket


def _send_now(ticket: Ticket[Any]) -> None:
    child = _child()
    # (a child that dies answering takes only the call it was on: the calls sent after it
    # are sent again, to the new child, when their answers are asked for)
    while child.waiting and not child.pipe.closed:
        child.answer_next()
    _child().send(ticket)


AHEAD_BYTES = 64 << 10  # a call sent ahead carries at most this much ...
AHEAD_CALLS = 10  # ... at most this many wait ...
AHEAD_IN_FLIGHT = 2 * AHEAD_BYTES  # ... carrying this much: it fits the pipe's buffer


def ahead(name: str, size: int, function: Callable[..., T], *args: Any) -> Ticket[T] | None:
    """``submit`` for work the run will want soon (``size`` bytes of arguments), without
    waiting for anything: None when it does not fit, so that sending never blocks while
    the child may be blocked writing an answer."""
    if size > AHEAD_BYTES or not room(size):
        return None
    ticket: Ticket[T] = Ticket(name, function, args, size)
    _child().send(ticket)
    return ticket


def room(size: int = 0) -> bool:
    """Whether a call of ``size`` bytes may be sent ahead now (``ahead``)."""
    waiting = _child().waiting
    return len(waiting) < AHEAD_CALLS and sum(t.size for t in waiting) + size <= (
        AHEAD_IN_FLIGHT)


def child_pid() -> int:
    """The running child's process id (one is started if none runs): a new one knows
    nothing the one before it was given."""
    return _child().process.pid


class Ticket(Generic[T]):
    """A call sent to the child; its answer is read when asked for (answers come in the
    order the calls were sent: those of calls sent before it are kept for them)."""

    def __init__(self, name: str, function: Callable[..., T], args: tuple[Any, ...],
                 size: int = 0) -> None:
        self.name, self.function, self.args, self.size = name, function, args, size
        self.child: _Child | None = None  # the child it was sent to
        self.answer: tuple[str, Any] | None = None

    def result(self) -> T:
        while self.answer is None:
            child = self.child
            if child is None or child is not _CURRENT or child.pipe.closed:
                _send_now(self)  # (its child was replaced: it is sent again)
                continue
            child.answer_next()
        status, value = self.answer
        if status == "raise":
            raise value
        if status == "error":
            raise Failure(value)
        if status == "input-error":
            raise InputError(*value)
        result: T = value
        return result


def running() -> bool:
    """Whether a child runs now (work may be handed to it without waiting for one to boot)."""
    return _CURRENT is not None and _CURRENT.alive() and not _CURRENT.pipe.closed


def warm() -> None:
    """Start the child now, if none runs, so it boots beside the parent's own work on the
    workbook (reading it, checking its structure) rather than before the first call. A
    call that does nothing goes with it: its answer says the child is up (``booted``)."""
    child = _child()
    if not child.answered and not child.waiting:
        child.send(Ticket("boot", _nothing, ()))


def booted() -> bool:
    """Whether a child runs and has answered: work sent now does not wait for one to boot
    (work the run could do itself is sent only then)."""
    return _CURRENT is not None and _CURRENT.booted()


def _nothing() -> None:
    """In the child: nothing (``warm``'s call)."""


def load_frame(path: str) -> pl.DataFrame:
    """A frame the child wrote with ``write_frame`` (the caller removes the file)."""
    return pl.read_ipc(path)


def write_frame(frame: pl.DataFrame, path: str) -> None:
    frame.write_ipc(path, compression="uncompressed")


def frame_path() -> str:
    """A file name for a frame the child hands back."""
    handle, path = tempfile.mkstemp(prefix="ordermill-grid-", suffix=".arrow")
    os.close(handle)
    return path


class _Child:
    """The child: this interpreter started afresh on ``_main`` (not through multiprocessing,
    which would run the caller's main module again in it), spoken to over a socket pair."""

    def __init__(self) -> None:
        self.memory_mib = READ_MEMORY_MIB.value()
        ours, theirs = socket.socketpair()
        # What the child's libraries print (a Rust panic's last words) goes to a file of its
        # own, for the reason, not to the run's stderr.
        handle, self.said = tempfile.mkstemp(prefix="ordermill-reader-", suffix=".log")
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, RUST_BACKTRACE="0")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from ingest.readers.isolated import _main; _main()",
                 str(theirs.fileno()), str(self.memory_mib)],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=handle, env=env, close_fds=True)
        finally:
            os.close(handle)
            theirs.close()
        self.pipe = Connection(ours.detach())
        self.waiting: deque[Ticket[Any]] = deque()  # sent, not answered yet, in order
        self.answered = False  # (it has booted: an answer came)

    def send(self, ticket: Ticket[Any]) -> None:
        # Pickled before it is queued: a call that cannot be sent raises here, and no
        # answer is waited for that will never come.
        message = pickle.dumps((ticket.function, ticket.args, _settings()),
                               protocol=pickle.HIGHEST_PROTOCOL)
        ticket.child = self
        self.waiting.append(ticket)
        # (the child gone: the oldest call waiting is told why when its answer is read)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
            self.pipe.send_bytes(message)

    def answer_next(self) -> None:
        """Read the answer of the oldest call waiting (it is the child's current work):
        when none comes, that call gets the reason and the child is stopped."""
        ticket = self.waiting.popleft()
        seconds = READ_SECONDS.value()
        try:
            if not self.pipe.poll(seconds):
                self.stop()
                ticket.answer = ("raise", InputError.of(ticket.name, "read-timeout", reason=(
                    f"the workbook parser did not finish in {seconds:,} s and was stopped; "
                    f"if the file is genuine, raise ORDERMILL_READ_SECONDS")))
                return
            ticket.answer = self.pipe.recv()
            self.answered = True
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            ticket.answer = ("raise", InputError.of(ticket.name, "reader-crashed",
                                                    reason=self._death()))

    def alive(self) -> bool:
        return self.process.poll() is None

    def booted(self) -> bool:
        """Whether it has answered (or an answer waits to be read), without waiting."""
        if not self.answered and self.waiting and not self.pipe.closed:
            with contextlib.suppress(OSError):
                self.answered = self.pipe.poll(0)
        return self.answered

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.pipe.close()
        Path(self.said).unlink(missing_ok=True)

    def _death(self) -> str:
        """Why the child is gone, in words, from how it ended and its last words."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        code = self.process.returncode
        try:
            lines = Path(self.said).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        # (a Rust abort's first line says why: "memory allocation of N bytes failed")
        last = next((line.strip() for line in lines if line.strip()), "")
        self.stop()
        if code is not None and code < 0:
            try:
                how = signal.Signals(-code).name
            except ValueError:
                how = f"signal {-code}"
        else:
            how = f"exit status {code}"
        said = f": {last[:200]}" if last else ""
        return (f"the workbook parser stopped ({how}{said}), most often because the sheet "
                f"needs more memory than the {self.memory_mib:,} MiB it may take; if the file "
                "is genuine, raise ORDERMILL_READ_MEMORY_MB")


SETTINGS_PREFIX = "ORDERMILL_"


def _settings() -> dict[str, str]:
    """The run's ordermill settings as they are now (a test or a caller may change them)."""
    return {k: v for k, v in os.environ.items() if k.startswith(SETTINGS_PREFIX)}


_CURRENT: _Child | None = None
_LOCK = threading.Lock()


@atexit.register
def _stop_child() -> None:
    if _CURRENT is not None:
        _CURRENT.stop()


def _child() -> _Child:
    """The running child, started (again) when there is none."""
    global _CURRENT
    with _LOCK:
        if (_CURRENT is None or not _CURRENT.alive() or _CURRENT.pipe.closed
                or _CURRENT.memory_mib != READ_MEMORY_MIB.value()):  # (a setting changed)
            if _CURRENT is not None:
                _CURRENT.stop()
            _CURRENT = _Child()
        return _CURRENT


def _main() -> None:
    """The child's entry: ``python -c ... FD MEMORY_MIB``."""
    fd, memory_mib = (int(arg) for arg in sys.argv[1:3])
    _serve(Connection(fd), memory_mib)


def _serve(pipe: Connection, memory_mib: int) -> None:
    """The child: calls until the pipe closes (the parent has gone)."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_mib << 20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)  # (a run started under a cap keeps it)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    while True:
        try:
            function, args, settings = pipe.recv()
        except (EOFError, KeyboardInterrupt):
            return
        # The limits are read when they are checked: the child checks with the run's own.
        for name in [n for n in os.environ if n.startswith(SETTINGS_PREFIX)]:
            del os.environ[name]
        os.environ.update(settings)
        try:
            answer: tuple[str, Any] = ("ok", function(*args))
        except InputError as exc:  # (one of ours: it crosses as it is)
            answer = ("input-error", (exc.path, exc.reason, exc.code))
        except Exception as exc:  # (sent back as words: the parent decides what it means)
            first = (str(exc).splitlines() or [""])[0]
            answer = ("error", f"{type(exc).__name__}: {first}" if first else
                      type(exc).__name__)
        pipe.send(answer)
