"""Error reports that never show secrets, not even on the debug page.

Django's ``SafeExceptionReporterFilter`` honours ``sensitive_variables``
and ``sensitive_post_parameters`` only when DEBUG is off; the demo and
laptops run with DEBUG on, and their technical 500 page would print an
account's LWA client secret and refresh token. This filter is always on.
Settings whose names look secret are cleansed as before.
"""

from __future__ import annotations

from django.views.debug import SafeExceptionReporterFilter


class AlwaysSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request):
        return True
