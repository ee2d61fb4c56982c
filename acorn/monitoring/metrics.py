"""``/metrics``: what a Prometheus scraper reads.

Library: prometheus-client (the Prometheus project's own Python client)
with a custom collector computed at scrape time into a fresh registry;
see README "Libraries chosen" for why not django-prometheus.

Families:
- ``acorn_celery_queue_depth{queue}``: messages waiting in each Celery
  queue (Redis list lengths of the broker, priority sub-queues summed).
- ``acorn_celery_tasks_total{task,state}`` and
  ``acorn_celery_task_duration_seconds{task}`` (histogram): from the Redis
  hash every worker process adds to (acorn.monitoring.task_metrics).
- the apps' families, read per tenant inside the tenant's scope (row-level
  security admits nothing else) from the functions named in
  ``METRIC_SOURCES``; channels gives SP-API calls, failures and 429s per
  operation and sync lag per account.

Labels carry the tenant slug and account ids, never names: platform
operators run Prometheus, the slug is the tenant's handle in URLs they
already see, and free-text names could be anything a tenant typed.

Protected by a bearer token (``ACORN_METRICS_TOKEN``); with no token set
the endpoint does not exist (404).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable

import redis
from celery import current_app
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.utils.module_loading import import_string
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from acorn.models import Tenant
from acorn.monitoring import task_metrics
from acorn.queues import Queue
from acorn.tenancy import tenant_scope

logger = logging.getLogger(__name__)

# Each names ``(metric_definitions, metric_samples)``: definitions are
# {name: (kind, help, label names)}; samples(tenant=..., now=...) yields
# (name, labels, value) for one tenant.
METRIC_SOURCES = [
    ("channels.selectors.metrics.METRIC_DEFINITIONS", "channels.selectors.metrics.metric_samples"),
]
# kombu's Redis transport keeps priority levels in sibling lists named
# "<queue>\x06\x16<priority>" (its default priority steps).
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


def queue_depths() -> dict[str, int]:

    broker_url = str(current_app.conf.broker_url or "")
    if not broker_url.startswith(("redis://", "rediss://")):
        return {}

    names = [queue.value for queue in Queue]
    client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
            for step in _PRIORITY_STEPS:
                pipe.llen(f"{name}{_PRIORITY_SEPARATOR}{step}")
        lengths = pipe.execute()
    finally:
        client.close()
    per_queue = len(_PRIORITY_STEPS) + 1
    return {
        name: sum(lengths[index * per_queue:(index + 1) * per_queue])
        for index, name in enumerate(names)
    }


class AcornCollector:
    """Computes every family when the registry is collected (at scrape)."""

    def collect(self) -> Iterable:
        yield from self._queues()
        yield from self._tasks()
        yield from self._apps()

    def _queues(self):
        family = GaugeMetricFamily(
            "acorn_celery_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        for queue, depth in sorted(queue_depths().items()):
            family.add_metric([queue], depth)
        yield family

    def _tasks(self):
        totals = CounterMetricFamily(
            "acorn_celery_tasks", "Celery tasks finished, by final state.",
            labels=["task", "state"],
        )
        durations = HistogramMetricFamily(
            "acorn_celery_task_duration_seconds", "Run time of Celery tasks.", labels=["task"]
        )
        for name, entry in sorted(task_metrics.task_metrics_read().items()):
            for state, count in sorted(entry["states"].items()):
                totals.add_metric([name, state], count)
            if entry["buckets"]:
                cumulative = 0
                buckets = []
                for bound in (*task_metrics.LATENCY_BUCKETS, "+Inf"):
                    cumulative += entry["buckets"].get(str(bound), 0)
                    buckets.append((str(bound), cumulative))
                durations.add_metric([name], buckets, entry["sum"])
        yield totals
        yield durations

    def _apps(self):

        sources = []
        for definitions_path, samples_path in METRIC_SOURCES:
            try:
                sources.append((import_string(definitions_path), import_string(samples_path)))
            except ImportError:
                continue
        families = {}
        for definitions, _samples in sources:
            for name, (kind, help_text, labels) in definitions.items():
                family_class = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                families[name] = family_class(name, help_text, labels=["tenant", *labels])
        now = timezone.now()
        for tenant in Tenant.objects.filter(is_active=True).order_by("slug"):
            with tenant_scope(tenant):
                for definitions, samples in sources:
                    for name, labels, value in samples(tenant=tenant, now=now):
                        label_names = definitions[name][2]
                        families[name].add_metric(
                            [tenant.slug, *(str(labels[key]) for key in label_names)], value
                        )
        yield from families.values()


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AcornCollector())
    return generate_latest(registry)


def _authorized(request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), settings.ACORN_METRICS_TOKEN.encode()
    )


def metrics_view(request):
    if not settings.ACORN_METRICS_TOKEN:
        return HttpResponseNotFound("Not found.", content_type="text/plain")
    if not _authorized(request):
        response = HttpResponse("Bearer token required.", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
