"""WSGI entry point (gunicorn). Production settings unless told otherwise:
a server started without configuration refuses to run without its secrets
instead of serving the demo's debug settings."""

from django.core.wsgi import get_wsgi_application

from acorn.env import settings_module_default

settings_module_default("acorn.settings.production")
application = get_wsgi_application()
