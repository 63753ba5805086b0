# The two commands that matter: `make demo` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
SS_VENV := .venv-superset
UV := $(VENV)/bin/uv
IOC := $(VENV)/bin/ioc
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install demo up down pipeline test lint bench faults dbt-manifest dbt-docs browser office external-pg superset-lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# --- environments (idempotent; redone only when a lock file changes) ------------------------
$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --quiet
	@touch $@

$(SS_VENV)/.synced: $(UV) superset/requirements.lock
	@test -x $(SS_VENV)/bin/python || $(UV) venv --quiet --python $$($(VENV)/bin/python -c 'import sys; print(sys.executable)') $(SS_VENV)
	$(UV) pip sync --quiet --python $(SS_VENV)/bin/python superset/requirements.lock
	@touch $@

dbt_project/target/manifest.json: $(VENV)/.synced $(shell find dbt_project/models dbt_project/macros dbt_project/seeds -type f 2>/dev/null) dbt_project/dbt_project.yml
	$(IOC) dbt parse --quiet

install: $(VENV)/.synced $(SS_VENV)/.synced dbt_project/target/manifest.json ## create both locked environments

dbt-manifest: dbt_project/target/manifest.json

BROWSER_NOTE := without chromium and chromium-driver, Superset's scheduled reports cannot take their screenshots
# issue 19: chromium-driver (/usr/bin/chromedriver) drives chromium for Superset's report screenshots
browser: ## Debian's chromium and chromium-driver for the browser tests and report screenshots (root installs them with apt)
	@{ command -v chromium && test -x /usr/bin/chromedriver; } >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null); \
	  else echo "install Debian's chromium and chromium-driver (sudo apt-get install chromium chromium-driver) for the browser tests and report screenshots"; exit 1; fi; }

office: ## Debian's LibreOffice Calc (headless) for the template tests: recalculates filled templates as Excel does on save
	@command -v soffice >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null); \
	  else echo "NOTE: no LibreOffice and not root: the template tests that recalculate a filled template will be skipped (sudo apt-get install libreoffice-calc-nogui)"; fi; }

external-pg: ## Debian's PostgreSQL (libxml, contrib) for the access tests' external-server run
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || [ -n "$$IOC_TEST_EXTERNAL_SUPERUSER_URL" ] || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
	     && for c in $$(pg_lsclusters -h 2>/dev/null | awk '$$4 == "online" {print $$1 "/" $$2}'); do \
	          pg_ctlcluster $${c%/*} $${c#*/} stop; done); \
	  else echo "NOTE: no Debian PostgreSQL and not root: the access tests' external-server run will be skipped"; fi; }

# --- running ------------------------------------------------------------------------------
demo: install ## install, load the demo world, run the pipeline, serve Dagster, Superset and the upload page
	@$(MAKE) --no-print-directory browser || echo "NOTE: $(BROWSER_NOTE)"  # issue 19: report screenshots
	$(IOC) demo-setup
	$(IOC) serve --pipeline

up: install ## start the services in the background
	@$(MAKE) --no-print-directory browser || echo "NOTE: $(BROWSER_NOTE)"  # issue 19: report screenshots
	$(IOC) up

down: ## stop everything `up` or `demo` started
	@if [ -x $(IOC) ]; then $(IOC) down; fi

pipeline: install ## run the nightly job once against the configured warehouse
	$(IOC) pipeline

# --- quality ------------------------------------------------------------------------------
test: install browser office external-pg ## every test (own throwaway warehouse, and a Debian PostgreSQL for the access tests), dbt build included
	$(VENV)/bin/pytest -ra -m "not faults" --durations=30

faults: install browser ## the slow fault-injection and fuzz suites
	$(VENV)/bin/pytest -ra -m faults

lint: install ## ruff, sqlfluff (no warehouse needed), the catalogue's generated files, the import floors
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python dbt_project/scripts/sqlfluff.py lint models
	# issue 20: files generated from the catalogue of sources are up to date
	$(VENV)/bin/python -m ingest.catalogue --check
	# issue 20: the house's floors (import-linter contracts in pyproject.toml; docs/architecture.md)
	$(VENV)/bin/lint-imports

bench: install ## benchmarks (minutes); writes bench/results/latest.json
	$(VENV)/bin/python -m bench.run

dbt-docs: install ## build and serve dbt's documentation on :8081
	$(IOC) dbt docs generate
	$(IOC) dbt docs serve --port 8081

superset-lock: $(UV) ## re-lock Superset's environment from superset/requirements.in
	$(UV) pip compile superset/requirements.in -c superset/constraints.txt --python-version 3.11 -o superset/requirements.lock

clean: down ## remove environments and local data (.ioc)
	rm -rf $(VENV) $(SS_VENV) .ioc dbt_project/target
