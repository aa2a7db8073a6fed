"""The bundled example order rules (the ``*.toml`` files beside this one).

Not code: this file makes the directory the package ``ingest.bundled_rules`` (see
``package-dir`` in pyproject.toml), so that an installed ordermill, editable or not, finds
the examples and their codes (the README's rule-code table) through ``importlib.resources``
(``ingest.rules.model.bundled_rules_dir``).
"""
