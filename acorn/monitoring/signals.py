"""Celery signal wiring of the monitoring package (connected from
AcornConfig.ready, so every web, worker and beat process has it)."""

from __future__ import annotations

from celery import signals

from acorn.monitoring import heartbeats, task_failures, task_metrics


def _is_eager(task) -> bool:
    return bool(getattr(getattr(task, "request", None), "is_eager", False))


def _on_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None,
                     **_extra):
    if sender is None or _is_eager(sender):
        return
    task_failures.task_failure_record(
        task_name=sender.name, task_id=task_id or "", args=args, kwargs=kwargs or {},
        error=exception,
    )


def _on_task_success(sender=None, **_extra):
    if sender is None or _is_eager(sender):
        return
    request = sender.request
    task_failures.task_success_record(
        task_name=sender.name, args=request.args, kwargs=request.kwargs or {}
    )


def _on_task_prerun(sender=None, task_id=None, task=None, **_extra):
    if task is not None and not _is_eager(task):
        task_metrics.task_started(task_id=task_id)


def _on_task_postrun(sender=None, task_id=None, task=None, state=None, **_extra):
    if task is not None and not _is_eager(task):
        task_metrics.task_finished(task_id=task_id, task_name=task.name, state=state or "")


def connect() -> None:
    signals.worker_ready.connect(heartbeats.worker_heartbeat_start,
                                 dispatch_uid="acorn-worker-heartbeat-start", weak=False)
    signals.worker_shutdown.connect(heartbeats.worker_heartbeat_stop,
                                    dispatch_uid="acorn-worker-heartbeat-stop", weak=False)
    signals.task_failure.connect(_on_task_failure, dispatch_uid="acorn-task-failure",
                                 weak=False)
    signals.task_success.connect(_on_task_success, dispatch_uid="acorn-task-success",
                                 weak=False)
    signals.task_prerun.connect(_on_task_prerun, dispatch_uid="acorn-task-prerun", weak=False)
    signals.task_postrun.connect(_on_task_postrun, dispatch_uid="acorn-task-postrun",
                                 weak=False)
