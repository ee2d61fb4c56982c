"""Stop storing an uploaded import file past the upload limit.

Django streams every uploaded file to memory or a temporary file before a
view sees it, and middleware (the CSRF check, input cleaning) reads the
body before the view runs, so a size check in the view comes after a 1 GB
upload was written to disk. ``UploadLimitHandler`` is therefore the first
of ``FILE_UPLOAD_HANDLERS`` (acorn/settings/base.py): it stops the parse at
the limit for every upload; the rest of the body is read and discarded,
never stored (a front proxy's body limit saves reading it).
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from acorn.dataio.reading import FILE_TOO_LARGE, MAX_UPLOAD_BYTES

TOO_LARGE_FLAG = "acorn_upload_too_large"


class UploadLimitHandler(FileUploadHandler):
    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > MAX_UPLOAD_BYTES:
            setattr(self.request, TOO_LARGE_FLAG, True)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_too_large_message(request) -> str | None:
    """The error to show when the upload was cut off at the limit."""
    if getattr(request, TOO_LARGE_FLAG, False):
        return str(FILE_TOO_LARGE).format(limit=MAX_UPLOAD_BYTES // 2**20)
    return None


class BoundedUploadMixin:
    """Marks an upload view. The limit itself holds for every request: the
    handler is installed in settings, before any middleware reads a body."""
