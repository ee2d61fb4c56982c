# ACORN: the two commands of the quick start are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ONLY ?=
PYTEST_WORKERS ?= 2

LOCK_VENV := var/lock-venv

.PHONY: demo test bench lint system-packages venv migrate clean-demo messages lock

# Every install gets the exact versions of constraints.txt (all of
# pyproject.toml's dependencies, dev included, resolved by `make lock`).
$(STAMP): pyproject.toml constraints.txt
	@bash scripts/system-packages.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## make demo: install, start the embedded PostgreSQL and Valkey (files in var/;
## each skipped when DATABASE_URL / REDIS_URL is set), migrate, seed a demo
## tenant, run web + worker + beat + sandbox under honcho (scripts/demo.sh).
## Ctrl-C stops everything.
demo: $(STAMP)
	@bash scripts/demo.sh

## make test: the whole suite on PostgreSQL and Redis (local by default).
test: $(STAMP)
	@bash scripts/system-packages.sh test
	$(PY) -m acorn.db.bootstrap
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=acorn.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --create-db -q -p no:randomly

## make bench [ONLY=name]: benchmarks; results in bench/results/latest.json.
bench: $(STAMP)
	DATABASE_URL=postgres://acorn_app@127.0.0.1:5432/acorn_bench \
	DATABASE_OWNER_URL=postgres://acorn_owner@127.0.0.1:5432/acorn_bench \
	$(PY) -m acorn.db.bootstrap
	$(PY) -m bench $(ONLY)

## make lock: re-resolve constraints.txt after changing pyproject.toml's
## dependencies (pip-tools in a throwaway virtualenv; commit the result).
lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) \
		&& $(LOCK_VENV)/bin/pip install --quiet 'pip-tools>=7.4,<8')
	$(LOCK_VENV)/bin/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file constraints.txt pyproject.toml

lint: $(STAMP)
	$(VENV)/bin/ruff check .

## Recompile the translation catalogs after editing locale/*/django.po.
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

## Stop the embedded servers and delete every demo file (var/).
clean-demo:
	@test ! -x $(PY) || $(PY) manage.py demo_services stop
	rm -rf var
