"""What an import does with each row, shared by every importer so the
preview, the job page and the API read the same shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# A job stores at most this many rows of its result (rows with errors
# first): enough to fix a file, small enough for one JSON column.
STORED_ROWS = 500


class ImportAction:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class RowResult:
    line: int
    key: str
    action: str
    errors: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)


@dataclass
class ImportResult:
    rows: list[RowResult]
    applied: bool

    @property
    def has_errors(self) -> bool:
        return any(row.action == ImportAction.ERROR for row in self.rows)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def as_json(self) -> dict:
        """A JSON-safe summary: counts and the first ``STORED_ROWS`` rows."""
        ordered = sorted(self.rows, key=lambda row: (row.action != ImportAction.ERROR, row.line))
        return {
            "applied": self.applied,
            "has_errors": self.has_errors,
            "total": len(self.rows),
            "counts": {action: self.count(action) for action in (
                ImportAction.CREATE, ImportAction.UPDATE, ImportAction.UNCHANGED,
                ImportAction.ERROR,
            )},
            "rows": [_row_json(row) for row in ordered[:STORED_ROWS]],
        }


def _row_json(row: RowResult) -> dict:
    data = asdict(row)
    data["errors"] = {str(k): [str(m) for m in v] for k, v in row.errors.items()}
    data["changes"] = {str(k): str(v) for k, v in row.changes.items()}
    return data


def import_row_action(*, errors, is_new, changes, instance, to_create, to_update) -> str:
    """Classify one checked import row and queue its instance for writing:
    a row with errors writes nothing; new rows are created, changed rows
    updated, the rest left alone (so a re-import writes nothing)."""
    if errors:
        return ImportAction.ERROR
    if is_new:
        to_create.append(instance)
        return ImportAction.CREATE
    if changes:
        to_update.append(instance)
        return ImportAction.UPDATE
    return ImportAction.UNCHANGED
