"""The OpenAPI schema class of the API (DEFAULT_SCHEMA_CLASS).

Apart from ``acorn.api`` because drf-spectacular's AutoSchema imports DRF's
generics, which import the pagination class from ``acorn.api``.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from acorn.api import ERROR_RESPONSES, ErrorSerializer

# Text parameters may hold any character but the C0/C1 control characters
# (tab, CR and LF excepted) that acorn.input_cleaning refuses with a 400:
# NUL cannot be stored by PostgreSQL, the others are never meant as text.
NO_NUL_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


class TenantAPISchema(AutoSchema):
    """Documents every answer an endpoint can give, errors included, and
    what text parameters accept."""

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if (parameter.get("in") == "query" and schema.get("type") == "string"
                    and not ({"enum", "format", "pattern"} & set(schema))):
                schema["pattern"] = NO_NUL_PATTERN
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in ERROR_RESPONSES.items():
            responses.setdefault(code, self._get_response_for_code(
                OpenApiResponse(response=ErrorSerializer, description=description), code,
                direction=direction,
            ))
        return responses
