"""Every stage: the column names they share, so none imports another stage for them.

The identity and verdict a reader gives each row, and the prefix of the source texts
mapping keeps beside the typed values.

A neutral home, so that a stage reads another's columns without importing that stage.
"""

from __future__ import annotations

ROW = "__row"  # the row number a person sees in the input (``source_row``)
READER_CODE = "__reader_code"  # a structural problem of the row, null when it is sound
READER_DETAIL = "__reader_detail"  # what the reader found, for the message
RAW = "__raw_"  # + field: the cleaned source text a field's value was parsed from
WAITING = "__waiting"  # True on the rows of an order the mapping's [waiting] says is not complete
# A packed export's lines (``[orders] packed_items``): line n of row r is r * PACKED_LINES + n.
PACKED_LINES = 1 << 20
# Small inputs are mapped and checked together (``ingest.together``): there a row's
# identity is its input's place in the group, shifted left by INPUT_SHIFT bits, plus its
# __row, so every stage keyed by __row works unchanged; what looks at an order's lines
# groups by the input too (``ingest.mapping.compile.order_group``). 2**40 rows an input.
INPUT_SHIFT = 40
# A row's picture (PNG bytes) a reader kept (a scan's table row): written beside the
# batch's rejects, and its path put in the rejects' EVIDENCE column (``ingest.writers.batch``).
CROP = "ocr:crop"
TEXT_LAYER = "pdf text layer"  # the engine a PDF's text layer is read by (no OCR)
EVIDENCE = "evidence"
