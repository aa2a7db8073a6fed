"""Process failures (exceptions) and the catalogue of row reject codes (data).

Exceptions are for things that stop a file or a run: an unreadable input, a broken mapping.
A rejected row is not an exception: it carries a reason code from ``REJECT_CODES`` and a
message built from that code's template.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """What the process exit status means; documented in ``--help`` and the README."""

    CLEAN = 0  # ran, every row clean
    REJECTS = 1  # ran, some rows were rejected
    USAGE = 2  # bad option, broken mapping or configuration
    UNREADABLE = 3  # at least one input could not be read at all (the others were processed)
    LOCKED = 4  # another run holds the lock; this one did nothing
    INTERNAL = 70  # a bug in ordermill (EX_SOFTWARE)


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
    """An input file cannot be read at all; the other inputs are still processed."""

    exit_code = ExitCode.UNREADABLE

    def __init__(self, path: str, reason: str, code: str = "unreadable-file") -> None:
        self.path, self.reason, self.code = path, reason, code
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class RejectCode:
    """A stable reason code and the sentence a person reads; ``{field}``, ``{value}``,
    ``{column}`` and ``{detail}`` are filled in per rejected cell."""

    code: str
    template: str


def _codes(*items: RejectCode) -> dict[str, RejectCode]:
    return {item.code: item for item in items}


# Codes are a public contract: analysts filter reject reports on them. Never rename one.
REJECT_CODES: dict[str, RejectCode] = _codes(
    RejectCode("missing-required", "{field} is required but column {column} is empty"),
    RejectCode("missing-product", "the line names no product: sku and product_name are both empty"),
    RejectCode("invalid-date", "{field}: {value!r} in column {column} is not a date/time in a "
               "format this channel uses"),
    RejectCode("invalid-money", "{field}: {value!r} in column {column} is not an amount of money"),
    RejectCode("invalid-quantity", "{field}: {value!r} in column {column} is not a whole number"),
    RejectCode("non-positive-quantity", "{field}: {value!r} in column {column} must be above 0"),
    RejectCode("negative-amount", "{field}: {value!r} in column {column} must not be negative"),
    RejectCode("invalid-line-no", "{field}: {value!r} in column {column} is not a line number ≥ 1"),
    RejectCode("invalid-phone", "{field}: {value!r} in column {column} is not a phone number"),
    RejectCode("invalid-email", "{field}: {value!r} in column {column} is not an e-mail address"),
    RejectCode("unknown-status",
               "{field}: {value!r} in column {column} is not a known order status"),
    RejectCode("invalid-currency", "{field}: {value!r} in column {column} is not an ISO 4217 code"),
    RejectCode("invalid-country", "{field}: {value!r} in column {column} is not a known country"),
    RejectCode(
        "total-mismatch",
        "line_total {value} in column {column} is not quantity × unit_price − discount_amount "
        "({detail})",
    ),
    RejectCode("indivisible-amount",
               "{field}: {value!r} in column {column} does not divide by {detail} into whole "
               "cents"),
    RejectCode("order-amount-mismatch",
               "{field}: {value!r} in column {column} is an order-level amount but the lines "
               "of this order disagree ({detail})"),
    RejectCode("paid-before-ordered", "paid_at {value} is earlier than ordered_at ({detail})"),
    RejectCode("cross-channel-duplicate",
               "order {value} was already received through channel {detail}; not output twice"),
    RejectCode("incomplete-order", "order {value} is held back whole: {detail}"),
    RejectCode("too-many-fields", "the row has more fields than the header ({detail})"),
    RejectCode("too-few-fields", "the row has fewer fields than the header ({detail})"),
    RejectCode("truncated-row", "the file ends inside this row: an unterminated quoted field"),
    RejectCode("nul-byte", "the row contains a NUL byte (column {column}): the export is damaged"),
    RejectCode("formula-without-value", "{field}: column {column} holds a formula with no value"),
)


def message_template(code: str) -> str:
    return REJECT_CODES[code].template
