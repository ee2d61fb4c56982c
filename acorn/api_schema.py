"""The OpenAPI schema class of the API (DEFAULT_SCHEMA_CLASS).

Apart from ``acorn.api`` because drf-spectacular's AutoSchema imports DRF's
generics, which import the pagination class from ``acorn.api``.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from acorn.api import ERROR_RESPONSES, ErrorSerializer


class TenantAPISchema(AutoSchema):
    """Documents every answer an endpoint can give, errors included."""

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
