"""One input-cleaning layer: hostile characters and unbounded integers.

PostgreSQL cannot store a NUL character in text (psycopg raises before the
query is sent), and no legitimate form field, filter, file name or JSON
string of ACORN contains C0/C1 control characters other than tab, line
feed and carriage return. Rather than teach every view to catch that, the
``InputCleaningMiddleware`` refuses such a request before any view runs:

- the query string and form fields (names and values),
- uploaded files' field names and file names (their *contents* belong to
  the import kernel, which bounds and parses them),
- JSON request bodies (every key and string value).

It answers 400 in the shape of the URL: the API's error shape
``{"error": {"code": "bad_request", ...}}`` under ``/api/``, the HTML 400
page for the dashboard.

Integers are the other half: a form ``IntegerField`` without
explicit bounds accepts ``10**30``, which PostgreSQL refuses with a 500
(``NumericValueOutOfRange``). ``integer_bounds_install`` (called once from
``AcornConfig.ready``) gives every such field the bounds of PostgreSQL's
``integer`` column, the type of every quantity in ACORN; a field that
stores a ``bigint`` states its bounds explicitly.
"""

from __future__ import annotations

import json
import logging
import re

from django import forms
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

logger = logging.getLogger(__name__)

# C0 controls except tab (09), line feed (0a) and carriage return (0d),
# DEL, and the C1 controls: never text a person typed.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# PostgreSQL ``integer`` (int4) bounds.
INTEGER_MIN = -(2**31)
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
# Query-string filters that name a row by its id, across the dashboard and
# the API: a value that is not a positive integer id is a 400, not a
# ValueError deep in a selector.
ID_PARAMETERS = frozenset({
    "account", "account_id", "product", "product_id", "warehouse", "warehouse_id",
    "supplier", "supplier_id", "purchase_order", "purchase_order_id", "exception_id",
    "membership_id", "shipment", "shipment_id", "submission", "submission_id",
})
# Form fields named "<prefix>_<id>" (one per PO line on the shipment form):
# the id part must be an id too.
ID_FIELD_PREFIXES = ("qty_", "lot_", "expiry_", "coo_")
JSON_CONTENT_TYPES = ("application/json", "application/merge-patch+json")
BAD_REQUEST_CODE = "bad_request"


def has_control_characters(value: str) -> bool:
    return bool(CONTROL_CHARACTERS.search(value))


def _json_has_control_characters(value) -> bool:
    if isinstance(value, str):
        return has_control_characters(value)
    if isinstance(value, dict):
        return any(
            has_control_characters(key) or _json_has_control_characters(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_json_has_control_characters(item) for item in value)
    return False


def _is_id(value: str) -> bool:
    value = value.strip()
    return not value or (value.isascii() and value.isdigit() and int(value) <= BIGINT_MAX)


def request_problem(request) -> str | None:
    """Where the request carries a control character, or None when clean."""
    for key, values in request.GET.lists():
        if has_control_characters(key) or any(has_control_characters(v) for v in values):
            return gettext_noop("query string")
        # The API's filter serializers validate their own parameters (and
        # the schema documents them; some, like ``supplier``, are codes).
        if (key in ID_PARAMETERS and not request.path.startswith("/api/")
                and not all(_is_id(value) for value in values)):
            return gettext_noop("id filter")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for key, values in request.POST.lists():
            if has_control_characters(key) or any(has_control_characters(v) for v in values):
                return gettext_noop("form field")
            if key.startswith(ID_FIELD_PREFIXES) and not (
                _is_id(key.partition("_")[2]) and key.partition("_")[2].strip()
            ):
                return gettext_noop("form field name")
        for key, files in request.FILES.lists():
            if has_control_characters(key) or any(
                has_control_characters(upload.name or "") for upload in files
            ):
                return gettext_noop("uploaded file name")
    elif content_type in JSON_CONTENT_TYPES and request.body:
        try:
            document = json.loads(request.body)
        except ValueError:
            # Malformed JSON is the parser's to report (DRF answers 400).
            return None
        if _json_has_control_characters(document):
            return gettext_noop("JSON body")
    return None


class InputCleaningMiddleware:
    """Refuse requests carrying NUL or other control characters, or a
    non-numeric id filter, with a 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = request_problem(request)
        if problem is not None:
            # The value itself is never logged: it is hostile by definition.
            logger.info("Refused %s %s: bad %s",
                        request.method, request.path, problem)
            return self.bad_request(request, problem)
        return self.get_response(request)

    @staticmethod
    def bad_request(request, problem: str):
        if problem == "id filter":
            message = _("An id in the query string is not a number.")
        elif problem == "form field name":
            message = _("A form field name does not end in a valid id.")
        else:
            message = _(
                "The request contains a control character (such as NUL) in a %(where)s."
            ) % {"where": _(problem)}
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"error": {"code": BAD_REQUEST_CODE, "message": message,
                           "details": {"where": problem}}},
                status=400,
            )
        return render(request, "400.html", {"message": message}, status=400)



def integer_bounds_install() -> None:
    """Give unbounded form IntegerFields PostgreSQL integer bounds.

    Forms only: the REST API is read-only, its filter ids are bounded by the
    middleware above, and bounds on DRF's IntegerField would also land on
    every output field of the OpenAPI schema (where ids are bigint).
    """

    _bound(forms.IntegerField, excluded=(forms.FloatField, forms.DecimalField))


def _bound(field_class, *, excluded: tuple) -> None:
    original = field_class.__init__
    if getattr(original, "acorn_bounded", False):
        return

    def __init__(self, *args, **kwargs):
        if not isinstance(self, excluded):
            if kwargs.get("max_value") is None:
                kwargs["max_value"] = INTEGER_MAX
            if kwargs.get("min_value") is None:
                kwargs["min_value"] = INTEGER_MIN
        original(self, *args, **kwargs)

    __init__.acorn_bounded = True
    field_class.__init__ = __init__
