# Siaga Pilkada: the two commands of the README, and the checks behind them.
# Everything installs itself: a missing uv is installed with pip, Python deps from uv.lock.
SHELL := /bin/bash
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
# uv on PATH if there is one; otherwise the module pip installs (works wherever pip puts it).
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: setup demo test test-fast lint browser services clean screenshots

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet uv
	# bytecode written once here: where PYTHONDONTWRITEBYTECODE is set (containers, this machine)
	# every process would otherwise compile Prefect and GX from source (bench/README.md)
	$(UV) sync --frozen --compile-bytecode

## make demo: sample data → ingest → validate → load → bulletin into data/outbox
## make demo MAIL=1: and then the mail path (needs Dovecot: make services)
demo: setup $(if $(MAIL),services)
	$(UV) run pilkada demo $(if $(MAIL),--mail)

## make test: lint, then the whole test suite (real Prefect, DuckDB, SMTP, Chromium)
test: setup browser services
	$(UV) run ruff check .
	$(UV) run pytest -q -n 2 --dist loadfile --durations=20

## make test-fast: lint and the tests that need no browser, office, Prefect flow run, server of
## their own, fault injection or national-scale data (the inner loop, under 2 minutes on 2 cores;
## `make test` still runs everything)
test-fast: setup
	$(UV) run ruff check .
	$(UV) run pytest -q -n 2 --dist loadfile --durations=10 \
	  -m "not browser and not office and not flow and not faults and not slow and not services"

## Debian's Chromium (bulletin look tests) and LibreOffice Calc (template tests), from apt:
## no browser or office download at run time
browser:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-calc-nogui"; \
	if [ -n "$$missing" ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null) \
	  || echo "could not install:$$missing (browser/template tests will fail)"; \
	fi

## PostgreSQL (the Prefect-on-PostgreSQL deployment test) and Dovecot (the mailbox intake
## tests), from apt; the tests start their own servers in temporary folders on 127.0.0.1
services:
	@missing=""; \
	command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
	  || missing="$$missing postgresql"; \
	command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null) \
	  || echo "could not install:$$missing (deployment/mailbox tests will fail)"; \
	fi

## make screenshots: the sample W47 and W48 bulletins at 375 px (Chromium) into docs/screenshots/
screenshots: setup browser
	$(UV) run python docs/screenshots/make_screenshots.py

lint: setup
	$(UV) run ruff check .

clean:
	rm -rf data .pytest_cache .ruff_cache
