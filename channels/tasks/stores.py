"""Thin tasks of the web-store sync engine (queue ``stores`` for store I/O).

Beat runs the dispatchers through ``acorn.tasks.for_each_tenant``; each
per-tenant dispatcher does database work only (drain the outbox, find what
is due) and enqueues the per-connection work, which talks to the store, on
the ``stores`` queue.
"""

from __future__ import annotations

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from channels.services import stores as services


def _tenant(tenant_id: int) -> Tenant:
    return Tenant.objects.get(pk=tenant_id)


@shared_task(name="channels.stores_push_dispatch", queue=Queue.DEFAULT, ignore_result=True,
             soft_time_limit=30, time_limit=45)
@tenant_task
def stores_push_dispatch_task(*, tenant_id: int) -> None:
    """Beat backstop (every few seconds): drain the outbox, enqueue pushes."""
    tenant = _tenant(tenant_id)
    services.store_outbox_drain(tenant=tenant)
    for connection_id in services.store_pending_connections(tenant=tenant):
        store_connection_push_task.apply_async(
            kwargs={"tenant_id": tenant_id, "connection_id": connection_id}, queue=Queue.STORES)


@shared_task(name="channels.stores_push", queue=Queue.STORES, ignore_result=True,
             soft_time_limit=120, time_limit=150)
@tenant_task
def stores_push_task(*, tenant_id: int) -> None:
    """On-commit trigger: drain and push every connection of the tenant now."""
    services.store_tenant_push(tenant=_tenant(tenant_id))


@shared_task(name="channels.store_connection_push", queue=Queue.STORES, ignore_result=True,
             soft_time_limit=120, time_limit=150)
@tenant_task
def store_connection_push_task(*, tenant_id: int, connection_id: int) -> None:
    services.store_connection_push(tenant=_tenant(tenant_id), connection_id=connection_id)


@shared_task(name="channels.stores_sync_dispatch", queue=Queue.DEFAULT, ignore_result=True,
             soft_time_limit=30, time_limit=45)
@tenant_task
def stores_sync_dispatch_task(*, tenant_id: int) -> None:
    """Every minute: order polls and reconciliations that are due."""
    tenant = _tenant(tenant_id)
    for connection_id in services.store_bootstrap_due(tenant=tenant):
        store_bootstrap_task.apply_async(
            kwargs={"tenant_id": tenant_id, "connection_id": connection_id}, queue=Queue.STORES)
    for connection_id in services.store_orders_poll_due(tenant=tenant):
        store_orders_poll_task.apply_async(
            kwargs={"tenant_id": tenant_id, "connection_id": connection_id}, queue=Queue.STORES)
    for connection_id in services.store_reconcile_due(tenant=tenant):
        store_reconcile_task.apply_async(
            kwargs={"tenant_id": tenant_id, "connection_id": connection_id}, queue=Queue.STORES)
    for connection_id in services.store_webhook_pending_connections(tenant=tenant):
        store_webhooks_process_task.apply_async(
            kwargs={"tenant_id": tenant_id, "connection_id": connection_id}, queue=Queue.STORES)


@shared_task(name="channels.store_orders_poll", queue=Queue.STORES, ignore_result=True,
             soft_time_limit=240, time_limit=300)
@tenant_task
def store_orders_poll_task(*, tenant_id: int, connection_id: int) -> None:
    from channels.stores.adapter import StoreError

    try:
        services.store_orders_poll(tenant=_tenant(tenant_id), connection_id=connection_id)
    except StoreError:
        pass  # recorded on the run and the connection's health; the next poll retries


@shared_task(name="channels.store_reconcile", queue=Queue.STORES, ignore_result=True,
             soft_time_limit=540, time_limit=600)
@tenant_task
def store_reconcile_task(*, tenant_id: int, connection_id: int) -> None:
    services.store_connection_reconcile(tenant=_tenant(tenant_id), connection_id=connection_id)


@shared_task(name="channels.store_webhooks_process", queue=Queue.STORES, ignore_result=True,
             soft_time_limit=240, time_limit=300)
@tenant_task
def store_webhooks_process_task(*, tenant_id: int, connection_id: int) -> None:
    services.webhooks_process(tenant=_tenant(tenant_id), connection_id=connection_id)


@shared_task(name="channels.store_bootstrap", queue=Queue.STORES, ignore_result=True,
             soft_time_limit=240, time_limit=300)
@tenant_task
def store_bootstrap_task(*, tenant_id: int, connection_id: int) -> None:
    from acorn.exceptions import ApplicationError

    try:
        services.connection_bootstrap(tenant=_tenant(tenant_id), connection_id=connection_id)
    except ApplicationError:
        pass  # recorded on the connection's runs and health; an admin takes over
