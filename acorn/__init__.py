"""ACORN's project package: wiring and the shared kernel.

The Celery app is imported by ``AcornConfig.ready`` rather than here, so
importing any ``acorn`` module (``acorn.env`` from manage.py, say) never
chooses a settings module as a side effect; see acorn/celery_app.py.
"""
