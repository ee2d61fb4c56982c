"""ACORN's project package: wiring and the shared kernel.

The Celery app is imported by ``AcornConfig.ready`` (and on first use of
``acorn.app`` / ``acorn.celery_app``, so ``celery -A acorn`` still finds
it) rather than here: importing any ``acorn`` module (``acorn.env`` from
manage.py, say) never chooses a settings module as a side effect; see
acorn/celery_app.py.
"""


def __getattr__(name):
    if name in ("app", "celery_app"):
        from acorn.celery_app import app

        return app
    raise AttributeError(f"module 'acorn' has no attribute {name!r}")
