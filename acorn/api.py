"""The REST API base for BI tools: API keys, tenant scope, one error shape.

Every endpoint subclasses ``TenantAPIView``: the key authenticates, the
key's tenant is entered for the request and always left, and subclasses
override ``scoped_queryset`` (never ``get_queryset``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import exceptions, permissions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_api_key.permissions import KeyParser

from acorn.exceptions import ApplicationError
from acorn.models import ApiScope, TenantAPIKey
from acorn.tenancy import TenantRef, _current_tenant, api_key_lookup_scope

_key_parser = KeyParser()
INVALID_KEY_MESSAGE = "Invalid, revoked or expired API key."


class TenantAPIKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>``; the key's hash is compared."""

    keyword = "Api-Key"

    def authenticate(self, request):
        key = _key_parser.get(request._request)
        if not key:
            return None
        # Row-level security shows this lookup the one key row whose prefix
        # the caller presented, and no other key of any tenant.
        prefix = key.partition(".")[0]
        try:
            with api_key_lookup_scope(prefix):
                api_key = TenantAPIKey.objects.get_from_key(key)
        except TenantAPIKey.DoesNotExist:
            # Unknown, revoked and expired keys look alike to the caller.
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE) from None
        if not api_key.is_valid(key) or not api_key.tenant.is_active:
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
        return (None, api_key)

    def authenticate_header(self, request):
        return self.keyword


class HasTenantAPIKey(permissions.BasePermission):
    """A valid key is required; read-only keys may only read."""

    message = "This API key is read-only."

    def has_permission(self, request, view):
        api_key = request.auth
        if not isinstance(api_key, TenantAPIKey):
            raise exceptions.NotAuthenticated("Provide an API key: Authorization: Api-Key <key>.")
        if request.method in permissions.SAFE_METHODS:
            return ApiScope.READ in (api_key.scopes or [ApiScope.READ])
        return not api_key.is_read_only


class APIKeyRateThrottle(SimpleRateThrottle):
    """Requests per key (DEFAULT_THROTTLE_RATES["api_key"])."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        api_key = request.auth
        if not isinstance(api_key, TenantAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.pk}


class StableCursorPagination(CursorPagination):
    """Cursor pages in a stable order with ``id`` as the tie-breaker."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-created_at", "-id")


class TenantAPIView(APIView):
    """Base of every BI endpoint: enters the key's tenant, always leaves."""

    authentication_classes = [TenantAPIKeyAuthentication]
    permission_classes = [HasTenantAPIKey]
    throttle_classes = [APIKeyRateThrottle]
    # Lists answer with a page of OutputSerializer; details with one.
    is_list_endpoint = False

    def __init_subclass__(cls, **kwargs):
        """Describe ``get`` in the OpenAPI schema from the nested serializers,
        so an endpoint documents itself without a decorator of its own."""
        super().__init_subclass__(**kwargs)
        output = cls.__dict__.get("OutputSerializer") or getattr(cls, "OutputSerializer", None)
        if output is None or not hasattr(cls, "get"):
            return
        if "." in output.__qualname__ and output.__qualname__.startswith(cls.__name__ + "."):
            # Nested serializers all share one name; the API class names the
            # schema component instead ("StockListApi" -> "Stock").
            name = cls.__name__.removesuffix("Api")
            name = name.removesuffix("List") if cls.is_list_endpoint else name
            extend_schema_serializer(component_name=name)(output)
        own_get = cls.__dict__.get("get")
        if own_get is not None and hasattr(own_get, "kwargs"):
            return  # already described with @extend_schema
        inherited_get = cls.get

        def get(self, request, *args, **kwargs):
            return inherited_get(self, request, *args, **kwargs)

        get.__doc__ = cls.__doc__
        parameters = []
        filters = getattr(cls, "FilterSerializer", None)
        if filters is not None and hasattr(filters, "is_valid"):
            parameters.append(filters)
        cls.get = extend_schema(
            responses=output(many=cls.is_list_endpoint), parameters=parameters or None
        )(get)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        api_key: TenantAPIKey = request.auth
        self.tenant = api_key.tenant
        self._tenant_token = _current_tenant.set(
            TenantRef(id=api_key.tenant_id, slug=api_key.tenant.slug)
        )
        # Touch at most once a minute: BI tools poll often.
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            TenantAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_tenant_token", None)
        if token is not None:
            _current_tenant.reset(token)
            self._tenant_token = None
        return super().finalize_response(request, response, *args, **kwargs)

    def scoped_queryset(self):
        raise NotImplementedError


class TenantListAPIView(TenantAPIView):
    """A paginated list: subclasses give ``scoped_queryset`` and serializers."""

    pagination_class = StableCursorPagination
    ordering: tuple[str, ...] = ("-created_at", "-id")
    is_list_endpoint = True

    def filters(self, request) -> dict:
        serializer_class = getattr(self, "FilterSerializer", None)
        if serializer_class is None or not hasattr(serializer_class, "is_valid"):
            return {}
        serializer = serializer_class(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}

    def get(self, request, *args, **kwargs):
        filters = self.filters(request)
        queryset = self.scoped_queryset(filters=filters)
        paginator = self.pagination_class()
        paginator.ordering = self.ordering
        page = paginator.paginate_queryset(queryset, request, view=self)
        data = self.OutputSerializer(page, many=True).data
        return paginator.get_paginated_response(data)


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def exception_handler(exc, context):
    """Turn every error into ``{"error": {code, message, details}}``."""
    if isinstance(exc, ApplicationError):
        return Response(
            error_body("application_error", exc.message, exc.extra), status=exc.status_code
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", "The request is not valid.", response.data)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = error_body(str(code), str(detail) or str(exc))
    response.data = body
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data["error"]["details"] = {"retry_after_seconds": getattr(exc, "wait", None)}
    return response


class TenantAPIKeySchemaExtension(OpenApiAuthenticationExtension):
    """Documents the key header in the OpenAPI schema."""

    target_class = "acorn.api.TenantAPIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Per-tenant read-only key: `Api-Key <key>`.",
        }
