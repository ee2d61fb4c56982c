"""Limits on what an import may make us read (hostile or accidental input).

Remittance files are small (a payment has tens to thousands of lines); the
limits leave a wide margin while keeping a zip bomb or a 1 GB "CSV" out.
"""

from __future__ import annotations

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_DECOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ROWS = 250_000
MAX_CELL_CHARS = 1_000
MAX_ERRORS = 200
