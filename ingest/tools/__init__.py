"""The `ordermill mappings ...` tools: list, check, detect, suggest and preview mappings.

Each module does one job and returns data; ``cli.py`` only prints it.
"""
