"""Periodic tasks, declared in one place. Apps add theirs here by name.

Tasks are referenced by name so this module imports no app (floor rule).
"""

from celery.schedules import crontab


def periodic_tasks():
    """Yield (name, schedule, task name, signature options)."""
    # Every 5 minutes: drop expired lockout records and stale sessions.
    yield (
        "acorn-housekeeping",
        crontab(minute="*/5"),
        "acorn.tasks.housekeeping",
        {},
    )
    # Every minute: enqueue PO and PO-status syncs of the Amazon vendor
    # accounts whose poll interval is due (per-account interval, default 15).
    yield (
        "channels-purchase-orders-sync-dispatch",
        crontab(minute="*"),
        "channels.purchase_orders_sync_dispatch",
        {},
    )
    # Daily at 05:10 UTC: request the forecasting and sales reports of every
    # active account (Amazon refreshes vendor reports overnight).
    yield (
        "channels-vendor-reports-dispatch",
        crontab(minute=10, hour=5),
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.vendor_reports_dispatch",)},
    )
    # Daily at 06:00 UTC: remind admins of LWA client secrets that expire
    # within 14 days (Amazon makes them expire every 180 days).
    yield (
        "channels-account-secret-expiry-check",
        crontab(minute=0, hour=6),
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.account_secret_expiry_check",)},
    )
    # Every minute: poll getTransaction for sent submissions (backoff per
    # submission inside), flag stale ones, reconcile lost answers, pick up
    # queued submissions whose send task was lost.
    yield (
        "channels-submissions-poll",
        crontab(minute="*"),
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.submissions_poll",)},
    )
    # Every 5 minutes: sync runs still RUNNING past their task's hard time
    # limit (the worker was killed) become FAILED with the reason and open
    # a SYNC_FAILED exception on the work queue.
    yield (
        "channels-sync-runs-sweep",
        crontab(minute="*/5"),
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.sync_runs_sweep",)},
    )
    # Every 15 minutes: raise ACK_DEADLINE for POs due within 4 hours.
    yield (
        "channels-acknowledgement-deadlines",
        crontab(minute="*/15"),
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.acknowledgement_deadlines_check",)},
    )
    # Every 15 minutes: release holds whose expiry has passed.
    yield (
        "inventory-hold-expiry",
        crontab(minute="*/15"),
        "acorn.tasks.for_each_tenant",
        {"args": ("inventory.stock_hold_expire",)},
    )
    # Daily at 02:00 UTC: recompute purchase plans from demand and forecast.
    yield (
        "inventory-purchase-plan",
        crontab(minute=0, hour=2),
        "acorn.tasks.for_each_tenant",
        {"args": ("inventory.purchase_plan_refresh",)},
    )
    # Every minute: the heartbeat task; /health/ready reports beat (and
    # the default queue's workers) stale when it has not run for 3 minutes.
    yield (
        "acorn-monitoring-heartbeat",
        crontab(minute="*"),
        "acorn.monitoring_heartbeat",
        {},
    )
    # Every 5 minutes: per account, open (or close) the work-queue alert
    # on the Amazon API's success rate and 429 share of the last window.
    yield (
        "channels-api-health-check",
        crontab(minute="*/5"),
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.api_health_check",)},
    )
    # Daily at 03:30 UTC (after the 02:00 purchase plan, before Europe's
    # working day): archive and delete operational history older than each
    # tenant's retention (API call log, sync runs, PO events).
    yield (
        "channels-data-archive",
        crontab(minute=30, hour=3),
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.data_archive",)},
    )
    # Every 3 seconds: the web-store push backstop. Drains inventory's ATP
    # outbox onto the listings and enqueues a push per store with pending
    # listings (queue "stores"); with the on-commit trigger of store orders
    # a stock change reaches the store well within 15 s.
    yield (
        "channels-stores-push",
        3.0,
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.stores_push_dispatch",)},
    )
    # Every minute: store order polls (per-connection interval, default 5
    # min, with overlap), reconciliations (default hourly) and webhook
    # events left unprocessed.
    yield (
        "channels-stores-sync",
        crontab(minute="*"),
        "acorn.tasks.for_each_tenant",
        {"args": ("channels.stores_sync_dispatch",)},
    )
    # Every 10 minutes: classify new remittance deductions, apply recoveries,
    # match returns, alert on stuck submissions.
    yield (
        "reconciliation-deductions-classify",
        crontab(minute="*/10"),
        "acorn.tasks.for_each_tenant",
        {"args": ("reconciliation.deductions_classify",)},
    )
    # Daily at 06:30 UTC: alert on dispute windows closing within each
    # tenant's lead time (once per deduction).
    yield (
        "reconciliation-dispute-windows",
        crontab(minute=30, hour=6),
        "acorn.tasks.for_each_tenant",
        {"args": ("reconciliation.dispute_windows_alert",)},
    )
    # Daily at 07:00 UTC: the notification digest e-mail (per preferences).
    yield (
        "acorn-notifications-digest",
        crontab(minute=0, hour=7),
        "acorn.tasks.for_each_tenant",
        {"args": ("acorn.notifications_digest",)},
    )
