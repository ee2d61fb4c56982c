"""``python -m bench [NAME]``: run the benchmarks (see bench/harness.py)."""

import sys

from acorn.env import settings_module_default

settings_module_default("acorn.settings.bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.harness import run  # noqa: E402

# The benchmark database is migrated (as the owner role) before any run.
call_command("migrate", verbosity=0, interactive=False)

run(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None)
