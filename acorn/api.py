"""The REST API base for BI tools: API keys, tenant scope, one error shape.

Every endpoint subclasses ``TenantAPIView``: the key authenticates, the
key's tenant is entered for the request and always left, and subclasses
override ``scoped_queryset`` (never ``get_queryset``).
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.defaults import page_not_found
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView, set_rollback
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_api_key.permissions import KeyParser

from acorn.dependencies import (
    DEPENDENCY_UNAVAILABLE,
    RETRY_AFTER_SECONDS,
    database_connections_reset,
    dependency_message,
    dependency_of,
    dependency_reason,
)
from acorn.exceptions import ApplicationError
from acorn.models import ApiScope, TenantAPIKey
from acorn.tenancy import TenantRef, _current_tenant, api_key_lookup_scope

logger = logging.getLogger(__name__)
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

    def get_page_size(self, request):
        return page_size_from(request, default=self.page_size, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def decode_cursor(self, request):
        # DRF answers a cursor it cannot read with 404; it is bad input.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [str(self.invalid_cursor_message)]}
            ) from None


def page_size_from(request, *, default: int, maximum: int) -> int:
    """``page_size`` from the query: a whole number 1..maximum, else 400
    (DRF's default silently ignores a bad value)."""
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    field = serializers.IntegerField(min_value=1, max_value=maximum)
    try:
        return field.run_validation(raw)
    except serializers.ValidationError as error:
        raise exceptions.ValidationError({"page_size": error.detail}) from None


class IncrementalFilters(serializers.Serializer):
    """Every list's incremental-load parameters (BI loaders)."""

    updated_since = serializers.DateTimeField(
        required=False,
        help_text="Incremental load: rows updated at or after this instant, in ascending "
        "(updated_at, id) order. Resume from the last row you stored by passing its "
        "updated_at here and its id as after_id (or follow `next`).",
    )
    def get_fields(self):
        # A filter value is matched as sent: DRF would strip " \v" to "" and
        # refuse it as blank although the schema allows it.
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.CharField):
                field.trim_whitespace = False
        return fields

    after_id = serializers.IntegerField(
        required=False, min_value=0,
        help_text="With updated_since: skip rows with updated_at equal to updated_since "
        "and id up to this one (the last row a loader stored). Ignored without "
        "updated_since.",
    )


class UpdatedSincePagination:
    """Keyset pages on ascending ``(updated_at, id)`` for incremental loads.

    A row is shown only once its update is ``SETTLE_SECONDS`` old: a
    transaction in flight stamps ``updated_at`` before it commits, and a
    loader that had already moved past that instant would miss the row.
    Each page's ``next`` link carries the last row's position, so a loader
    resumes exactly there: nothing missed, nothing repeated (a row updated
    again comes back with its new ``updated_at``, once per version).
    """

    SETTLE_SECONDS = 5
    # The clock the settle horizon is measured on (a test moves it forward
    # instead of waiting).
    clock = staticmethod(timezone.now)
    page_size = StableCursorPagination.page_size
    max_page_size = StableCursorPagination.max_page_size

    def paginate_queryset(self, queryset, request, *, updated_since, after_id):
        self.request = request
        size = page_size_from(request, default=self.page_size, maximum=self.max_page_size)
        if after_id is None:
            queryset = queryset.filter(updated_at__gte=updated_since)
        else:
            queryset = queryset.filter(
                Q(updated_at__gt=updated_since) | Q(updated_at=updated_since, id__gt=after_id)
            )
        horizon = self.clock() - datetime.timedelta(seconds=self.SETTLE_SECONDS)
        queryset = queryset.filter(updated_at__lte=horizon).order_by("updated_at", "id")
        self.page = list(queryset[: size + 1])
        self.has_next = len(self.page) > size
        self.page = self.page[:size]
        return self.page

    def next_link(self) -> str | None:
        if not self.has_next:
            return None
        last = self.page[-1]
        url = remove_query_param(self.request.build_absolute_uri(), "cursor")
        stamp = last.updated_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
        url = replace_query_param(url, "updated_since", stamp)
        return replace_query_param(url, "after_id", last.pk)

    def get_paginated_response(self, data):
        return Response({"next": self.next_link(), "previous": None, "results": data})


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField()


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    """The one error shape of every non-2xx answer."""

    error = ErrorDetailSerializer()


ERROR_RESPONSES = {
    "400": "Invalid parameters (`invalid`, with the field errors in details).",
    "401": "Missing, unknown, revoked or expired API key.",
    "403": "The key may not do this (read-only key, inactive tenant).",
    "404": "No such object in this key's tenant.",
    "429": "Too many requests for this key (details.retry_after_seconds).",
    "503": "A dependency (database, Redis) is unreachable (`dependency_unavailable`); "
    "retry after the Retry-After header.",
}


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
        if cls.is_list_endpoint:
            # Every list gets the incremental-load parameters (issue 8 §4).
            own_filters = cls.__dict__.get("FilterSerializer")
            if own_filters is None or not issubclass(own_filters, IncrementalFilters):
                bases = (IncrementalFilters,) + ((own_filters,) if own_filters else ())
                cls.FilterSerializer = type("FilterSerializer", bases, {
                    "__module__": cls.__module__,
                    "__qualname__": f"{cls.__name__}.FilterSerializer",
                })
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

    # Parameters that may be sent empty (an empty cursor is the first page).
    empty_allowed_parameters = frozenset({"cursor"})

    def declared_parameters(self) -> set[str]:
        filters = getattr(self, "FilterSerializer", None)
        names = set(filters().fields) if filters is not None else set()
        if self.is_list_endpoint:
            names.add("page_size")
        return names

    def empty_parameters_reject(self, request) -> None:
        """``?status=`` is not "no filter" (DRF would read it so); the schema
        says a value is required, so an empty one is a 400 like any other
        invalid value. Leave the parameter out instead."""
        empty = sorted(
            name for name in self.declared_parameters() - self.empty_allowed_parameters
            if name in request.query_params
            and any(value == "" for value in request.query_params.getlist(name))
        )
        if empty:
            raise exceptions.ValidationError(
                {name: ["Leave the parameter out instead of sending it empty."]
                 for name in empty}
            )

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.empty_parameters_reject(request)
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
        updated_since = filters.pop("updated_since", None)
        after_id = filters.pop("after_id", None) if updated_since is not None else None
        filters.pop("after_id", None)
        queryset = self.scoped_queryset(filters=filters)
        if updated_since is not None:
            paginator = UpdatedSincePagination()
            page = paginator.paginate_queryset(queryset, request, updated_since=updated_since,
                                               after_id=after_id)
        else:
            paginator = self.pagination_class()
            paginator.ordering = self.ordering
            page = paginator.paginate_queryset(queryset, request, view=self)
        data = self.OutputSerializer(page, many=True).data
        return paginator.get_paginated_response(data)


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def not_found(request, exception=None):
    """handler404: an unknown URL under /api/ answers the JSON error shape
    (e.g. /api/v1/products/abc/, which no route matches), pages the 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)

    return page_not_found(request, exception)


def exception_handler(exc, context):
    """Turn every error into ``{"error": {code, message, details}}``."""
    dependency = dependency_of(exc)
    if dependency is not None:
        logger.warning("API dependency outage: %s", dependency_reason(exc))
        # Nothing half-done of this request may commit.
        set_rollback()
        database_connections_reset()
        response = Response(
            error_body(DEPENDENCY_UNAVAILABLE, dependency_message(exc),
                       {"dependency": dependency, "retry_after_seconds": RETRY_AFTER_SECONDS}),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
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
