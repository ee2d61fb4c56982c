"""Request middleware of the platform kernel."""

from __future__ import annotations

from acorn.dependencies import database_connections_reset, dependency_of, outage_response
from acorn.tenancy import user_scope


class RlsUserMiddleware:
    """Hands the signed-in user to row-level security for the request.

    The memberships policy lets a transaction read the rows of the user in
    context in every tenant (login's redirect, the tenant switcher, the
    membership check of /t/<slug>/) and nobody else's; a tenant's own
    pages still see all its members through the tenant policy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            user = getattr(request, "user", None)
            user_id = user.pk if user is not None and user.is_authenticated else None
        except Exception as exc:
            # Reading the user is the first database query of a request and
            # runs before any view, where DependencyOutageMiddleware would
            # answer an outage: answer it here the same way.
            if dependency_of(exc) is None:
                raise
            database_connections_reset()
            return outage_response(request, exc)
        with user_scope(user_id):
            return self.get_response(request)
