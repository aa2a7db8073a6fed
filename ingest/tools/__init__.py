"""Mapping tools, beside the flow: the `ordermill mappings ...` commands: list, check, detect,
suggest and preview mappings.

Each module does one job and returns data; ``cli.py`` only prints it.
"""
