# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
VENV := .venv
HOST ?= 127.0.0.1
PORT ?= 8000
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: run test test-services test-e2e test-all lint format install clean messages

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.synced

## make run: migrate the embedded SQLite database, seed the demo hall, serve on 127.0.0.1:8000 (ASGI)
## make run HOST=0.0.0.0 PORT=8080: the same for the hall's devices on the network; the URLs it
## prints name this machine's address and that port
## DEMO_LIVE=1 make run: the same, with simulated customers and clerks moving the queue: they use
## the running server's API (kiosk token, clerk logins) once /healthz/ answers, so displays move
run: install
	$(PY) manage.py migrate --no-input
	set -o pipefail; $(PY) manage.py seed_demo --bind $(HOST):$(PORT) | tee var/seed_demo.txt
	@host=$$(sed -n 's|^ *Start (sign in) *http://\([^:/]*\).*|\1|p' var/seed_demo.txt); \
	export ALLOWED_HOSTS="$${ALLOWED_HOSTS:-127.0.0.1,localhost,$$host}"; \
	if [ "$${DEMO_LIVE:-0}" = "1" ]; then \
		kiosk=$$(sed -n 's/^ *Kiosk device token *//p' var/seed_demo.txt); \
		echo "DEMO_LIVE=1: simulated customers and clerks drive the demo hall (log: var/demo_live.log)"; \
		$(PY) manage.py demo_live --base http://$$host:$(PORT) --kiosk-token="$$kiosk" \
			> var/demo_live.log 2>&1 & \
		live=$$!; trap 'kill $$live 2>/dev/null' EXIT INT TERM; \
	fi; \
	$(PY) manage.py runserver $(HOST):$(PORT)

## make test: the whole suite on the embedded default (SQLite, in-memory channel layer, eager Celery)
test: install
	$(PY) -m pytest -m "not services and not e2e" -n 2

## make test-services: the suite again against the real PostgreSQL and Redis, plus the services-only tests
test-services: install
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(PY) -m pytest -m "not e2e" -n 2

## make test-e2e: browser tests in Debian's Chromium
test-e2e: install
	$(PY) -m pytest -m e2e

## make messages: after adding or changing user-facing text. Collects each app's strings (and
## config's) into its own <app>/locale/zh_Hans/LC_MESSAGES/django.po and compiles the .mo files.
## Then translate the new entries (empty msgstr; remove any "fuzzy" guess after checking it) and
## run it again. tests/test_translations.py fails while a string is missing or untranslated.
I18N_APPS := config hall queueing counters recovery display reports
messages: install
	set -e; for app in $(I18N_APPS); do \
		mkdir -p $$app/locale; \
		(cd $$app && ../$(PY) ../manage.py makemessages --locale zh_Hans --no-obsolete \
			--add-location file --verbosity 0 && \
		 ../$(PY) ../manage.py compilemessages --locale zh_Hans --verbosity 0); \
	done

## make lint: ruff (check and format), and the floors' import contracts (pyproject.toml,
## [tool.importlinter]); .ci/run runs it before the tests
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) $(TOOLS) var/*.sqlite3*
