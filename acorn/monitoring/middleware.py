"""Answer the health probes (and the metrics scrape) before anything else.

First in MIDDLEWARE, so these paths skip:
- host validation: load balancers and orchestrators probe by IP or by a
  container name that is not in ALLOWED_HOSTS. The answers build no URL
  and carry no tenant data, so the Host header cannot poison anything;
  every other path still goes through Django's ALLOWED_HOSTS check.
- the HTTPS redirect: probes speak plain HTTP to the backend behind the
  TLS-terminating proxy; a 301 would read as "unhealthy" to most probes.
- sessions, locale, CSRF and login: a probe has no cookie and needs none.
- ATOMIC_REQUESTS: the database check must run its own statement; a dead
  database must give a 503 with the reason, not a 500 from BEGIN.
``/metrics`` is answered here for the same host reason; it still requires
the bearer token (acorn.monitoring.metrics).
"""

from __future__ import annotations

from acorn.monitoring import health, metrics


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.routes = {
            "/health/live": health.live_view,
            "/health/ready": health.ready_view,
            "/metrics": metrics.metrics_view,
        }

    def __call__(self, request):
        view = self.routes.get(request.path_info.rstrip("/"))
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)
