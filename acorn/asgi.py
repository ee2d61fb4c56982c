"""ASGI entry point. Production settings unless told otherwise (see wsgi.py)."""

from django.core.asgi import get_asgi_application

from acorn.env import settings_module_default

settings_module_default("acorn.settings.production")
application = get_asgi_application()
