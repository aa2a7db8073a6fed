"""Errors, every stage: the exceptions that stop a file or a run (an unreadable input, a broken
mapping), each with the exit status it leads to.

A rejected row is not an exception: it carries a reason code from ``ingest.codes`` and a
message built from that code's template. An unreadable input is one, and its code comes from
the same catalogue.
"""

from __future__ import annotations

from ingest.codes import ExitCode as ExitCode  # the statuses live with the other codes
from ingest.codes import code as catalogued
from ingest.codes import render


class OrdermillError(Exception):
    """Base of every failure ordermill reports to a person instead of a traceback."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(OrdermillError):
    """A bad option or argument."""


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
