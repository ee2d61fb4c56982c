"""``python -m bench [NAME]``: run the benchmarks (see bench/harness.py)."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acorn.settings.bench")

import django  # noqa: E402

django.setup()

from bench.harness import run  # noqa: E402

run(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None)
