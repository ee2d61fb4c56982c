#!/usr/bin/env python
import sys


def main():
    # The command line on a laptop means the demo; servers (wsgi, asgi,
    # Celery) default to production. Set DJANGO_SETTINGS_MODULE to choose.
    from acorn.env import settings_module_default

    settings_module_default("acorn.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
