from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AcornConfig(AppConfig):
    name = "acorn"
    label = "acorn"
    verbose_name = _("ACORN platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every process (web, manage.py, tests) binds @shared_task to the
        # project's Celery app and its broker settings.
        import acorn.celery_app  # noqa: F401
        from acorn import rls
        from acorn.input_cleaning import integer_bounds_install

        # Unbounded integer form fields get PostgreSQL's integer bounds.
        integer_bounds_install()

        # After every migrate: every table with a tenant_id column gets
        # RLS + FORCE + its policy, and the app role gets its grants.
        post_migrate.connect(rls.rls_apply_after_migrate, dispatch_uid="acorn-rls-apply")

        from acorn.monitoring import signals

        # Heartbeats, failed-task records and task metrics (Celery signals).
        signals.connect()
