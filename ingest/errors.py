"""Errors, every stage: the exceptions that stop a file or a run (an unreadable input, a broken
mapping), each with the exit status it leads to.

A rejected row is not an exception: it carries a reason code from ``ingest.codes`` and a
message built from that code's template. An unreadable input is one, and its code comes from
the same catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.codes import ExitCode as ExitCode  # the statuses live with the other codes
from ingest.codes import code as catalogued
from ingest.codes import render


class OrdermillError(Exception):
    """Base of every failure ordermill reports to a person instead of a traceback."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(OrdermillError):
    """A bad option or argument."""


class EnvironmentFailure(OrdermillError):
    """The machine stopped the run: a folder ordermill writes (the batch, the ledger, the
    spill) is full, read-only or gone. Names the folder; nothing was published."""

    exit_code = ExitCode.ENVIRONMENT

    def __init__(self, folder: str, reason: str) -> None:
        self.folder = folder
        super().__init__(f"cannot write to {folder}: {reason}; nothing was published, run "
                         "again once it is fixed")


# What the machine says when a folder is full, read-only or gone, in the words of the
# libraries that write: Python's OSError, polars (its Rust IO errors end in "(os error N)"),
# SQLite ("database or disk is full", "attempt to write a readonly database").
_MACHINE_WORDS = ("(os error ", "disk is full", "readonly database", "disk I/O error")


def is_machine_failure(exc: BaseException) -> bool:
    """Whether a write failed because of the machine (full, read-only, gone), not a bug."""
    return isinstance(exc, OSError) or any(words in str(exc) for words in _MACHINE_WORDS)


@contextmanager
def writing_to(folder: Path | str) -> Iterator[None]:
    """Inside: a failure of the machine while writing to ``folder`` becomes an
    ``EnvironmentFailure`` naming it (exit 74), not an internal error."""
    try:
        yield
    except OrdermillError:
        raise
    except OSError as exc:
        raise EnvironmentFailure(str(folder), exc.strerror or str(exc)) from exc
    except Exception as exc:
        text = str(exc)
        if not any(words in text for words in _MACHINE_WORDS):
            raise
        raise EnvironmentFailure(str(folder), text.splitlines()[-1].split(": ")[-1]
                                 if ": " in text else text) from exc


class MappingError(OrdermillError):
    """A mapping file is broken: names the file, the key and what is wrong.

    The same as data, for tools that act on a problem (``mappings check`` sets it aside to
    find the next one) without parsing the message: ``keys`` is ``key`` in parts (table
    names, list indices), ``suggestion`` the valid name a typo likely meant, ``missing`` a
    required name that is absent at ``keys``."""

    def __init__(self, path: str, key: str, problem: str, *, keys: tuple[str | int, ...] = (),
                 suggestion: str | None = None, missing: str | None = None) -> None:
        self.path, self.key, self.problem = path, key, problem
        self.keys, self.suggestion, self.missing = keys, suggestion, missing
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class InputError(OrdermillError):
    """An input file cannot be read at all; the other inputs are still processed. ``code``
    is a file code of ``ingest.codes`` (whether to retry the file or set it aside follows
    from it: ``codes.is_transient``)."""

    exit_code = ExitCode.UNREADABLE

    def __init__(self, path: str, reason: str, code: str = "unreadable-file") -> None:
        # A code outside the catalogue is a bug in ordermill: fail where it is raised, not
        # in a report that an analyst filters on codes.
        if catalogued(code).kind != "file":
            raise ValueError(f"{code!r} is a {catalogued(code).kind} code, not a file code")
        self.path, self.reason, self.code = path, reason, code
        super().__init__(f"{path}: {reason}")

    @classmethod
    def of(cls, path: str, code: str, **values: str) -> InputError:
        """The error with its reason worded by the code's template."""
        return cls(path, render(code, **values), code)
