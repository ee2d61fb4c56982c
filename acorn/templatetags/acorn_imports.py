"""The import bounds for the upload pages: ``{% load acorn_imports %}``."""

from django import template

from acorn.dataio import reading
from acorn.dataio.jobs import INLINE_MAX_BYTES

register = template.Library()


@register.simple_tag
def import_limits() -> dict:
    """``{% import_limits as limits %}``: what an upload page tells users."""
    return {
        "max_rows": reading.MAX_ROWS,
        "max_mb": reading.MAX_UPLOAD_BYTES // 2**20,
        "max_cell": reading.MAX_CELL_CHARS,
        "inline_kb": INLINE_MAX_BYTES // 1024,
    }
