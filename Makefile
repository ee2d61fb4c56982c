# ACORN: the two commands of the quick start are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ONLY ?=
PYTEST_WORKERS ?= 2

.PHONY: demo test bench lint system-packages venv migrate clean-demo messages

$(STAMP): pyproject.toml
	@bash scripts/system-packages.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## make demo: install, migrate the embedded default, seed a demo tenant, run
## web + worker + beat + sandbox under honcho. Ctrl-C stops everything.
demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup
	$(VENV)/bin/honcho -f Procfile.demo start

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

lint: $(STAMP)
	$(VENV)/bin/ruff check .

## Recompile the translation catalogs after editing locale/*/django.po.
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean-demo:
	rm -rf var
