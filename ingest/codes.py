"""Errors as data (placeholder until the catalogue lands): which input codes are transient."""


def is_transient(code: str) -> bool:
    return False
