"""Reporting, after the flow: read-only over the ledger (and published batches), never changing it.

``daily``: the daily report (``ordermill report``), an HTML page or a PDF with charts drawn
by ``charts`` from the counts the ledger keeps per batch (``ingest.ledger_counts``).
"""
