"""Import and export plumbing shared by every app (basement).

- ``reading``: an upload into a dataset within bounds (size, unzipped
  size, rows, cell length), errors that never echo a whole cell;
- ``cells``: one cell as text, bounded numbers, yes/no, SKU/ASIN/GTIN;
- ``results``: what each row does (``ImportResult``, ``import_row_action``);
- ``export``: formula-safe CSV/XLSX datasets and download responses;
- ``jobs``: importers by kind, run inline or as a worker job with progress.
"""

from acorn.dataio.cells import (
    asin_validate,
    cell_bool,
    cell_decimal,
    cell_integer,
    cell_text,
    gtin_validate,
    sku_validate,
)
from acorn.dataio.export import dataset_response, export_dataset, formula_safe
from acorn.dataio.reading import (
    MAX_CELL_CHARS,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    dataset_load,
    echo,
    upload_read,
)
from acorn.dataio.results import ImportAction, ImportResult, RowResult, import_row_action

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "ImportAction",
    "ImportResult",
    "RowResult",
    "asin_validate",
    "cell_bool",
    "cell_decimal",
    "cell_integer",
    "cell_text",
    "dataset_load",
    "dataset_response",
    "echo",
    "export_dataset",
    "formula_safe",
    "gtin_validate",
    "import_row_action",
    "sku_validate",
    "upload_read",
]
