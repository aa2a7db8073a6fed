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
"""

from __future__ import annotations

import atexit
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

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
    return _child().call(name, function, args)


def warm() -> None:
    """Start the child now, if none runs, so it boots beside the parent's own work on the
    workbook (reading it, checking its structure) rather than before the first call."""
    _child()


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

    def call(self, name: str, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        seconds = READ_SECONDS.value()
        try:
            self.pipe.send((function, args, _settings()))
            if not self.pipe.poll(seconds):
                self.stop()
                raise InputError.of(name, "read-timeout", reason=(
                    f"the workbook parser did not finish in {seconds:,} s and was stopped; "
                    f"if the file is genuine, raise ORDERMILL_READ_SECONDS"))
            status, value = self.pipe.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            raise InputError.of(name, "reader-crashed", reason=self._death()) from None
        if status == "error":
            raise Failure(value)
        if status == "input-error":
            raise InputError(*value)
        result: T = value
        return result

    def alive(self) -> bool:
        return self.process.poll() is None

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
