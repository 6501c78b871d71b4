# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
PORTAL_PORT ?= 8000
SANDBOX_PORT ?= 8001
# `make run PG=portone`: the PortOne emulator beside the sandbox, and the portal's PortOne adapter pointed at it
PG ?= test
PORTONE_PORT ?= 8002
PG_URL ?= postgres://postgres@127.0.0.1:5432/mileage_portal
PG_SANDBOX_URL ?= postgres://postgres@127.0.0.1:5432/provider_sandbox
SANDBOX := DJANGO_SETTINGS_MODULE=provider_sandbox.settings $(PY) manage.py

.PHONY: run serve test venv migrate demo messages lint pytest-sqlite pytest-postgres pytest-standard pytest-browser-portone pytest-scaleout bench clean screenshots

venv: .venv/.installed

.venv/.installed: pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev]"
	touch $@

messages: venv
	$(PY) manage.py compilemessages --ignore=.venv -v0

migrate: venv
	mkdir -p var
	$(PY) manage.py migrate --noinput -v0
	$(SANDBOX) migrate --noinput -v0

demo: migrate
	$(PY) manage.py load_demo
	$(SANDBOX) sandbox_seed

run: venv messages demo
	$(PY) manage.py collectstatic --noinput -v0
	@PG=$(PG) PORTONE_PORT=$(PORTONE_PORT) bash scripts/run.sh $(PORTAL_PORT) $(SANDBOX_PORT)

# The production profile (README, Production): gunicorn, WhiteNoise, WORKERS task workers, the scheduler; the
# sandbox only with WITH_SANDBOX=1. Needs DATABASE_URL, DJANGO_SECRET_KEY, MILEAGE_API_BASE, MILEAGE_SERVICE_BASE,
# PORTONE_* (README, Payments) or ALLOW_TEST_GATEWAY=1;
# MIGRATE=0 on every node but one.
PROD := DJANGO_SETTINGS_MODULE=portal.settings.production $(PY) manage.py
serve: venv messages
	mkdir -p var
	$(PROD) collectstatic --noinput -v0
	@if [ "$(MIGRATE)" != "0" ]; then $(PROD) migrate --noinput -v0; fi
	@if [ "$(WITH_SANDBOX)" = "1" ] && [ "$(MIGRATE)" != "0" ]; then $(SANDBOX) migrate --noinput -v0 && $(SANDBOX) sandbox_seed; fi
	@WORKERS=$(or $(WORKERS),2) SANDBOX=$(or $(WITH_SANDBOX),0) PORTAL_PORT=$(PORTAL_PORT) SANDBOX_PORT=$(SANDBOX_PORT) \
		bash scripts/serve.sh

lint: venv
	.venv/bin/ruff check .
	.venv/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run -v0
	$(SANDBOX) makemigrations sandbox --check --dry-run -v0

# The suite on every core (pytest-xdist: each worker its own test database, sandbox process and files); JOBS=0 runs
# it in one process.
JOBS ?= auto
XDIST = -n $(JOBS)
pytest-sqlite: venv messages
	$(PY) -m pytest -q $(XDIST)

# Runs when PostgreSQL answers at PG_URL; REQUIRE_POSTGRES=1 makes its absence a failure. The browser tests run on
# SQLite here (no screen depends on the database) and on PostgreSQL in pytest-standard, which .ci/run runs.
pytest-postgres: venv messages
	@if $(PY) scripts/pg_ready.py "$(PG_URL)"; then \
		DATABASE_URL="$(PG_URL)" SANDBOX_DATABASE_URL="$(PG_SANDBOX_URL)" $(PY) -m pytest -q $(XDIST) --ignore=tests/browser; \
	elif [ "$(REQUIRE_POSTGRES)" = "1" ]; then \
		echo "PostgreSQL does not answer at $(PG_URL) and REQUIRE_POSTGRES=1"; exit 1; \
	else \
		echo "PostgreSQL does not answer at $(PG_URL): the PostgreSQL run is skipped"; \
	fi

test: lint pytest-sqlite pytest-postgres

# The public protocol alone (docs/adr/0011-provider-profiles.md): the sandbox plays the standard provider for every
# merchant, and the buyer's and operator's paths (browser, storefront, console scenarios, the provider client) run
# again on PostgreSQL; the tests of an extension's own behaviour are marked `extended` and skipped. .ci/run runs it.
STANDARD_TESTS ?= tests/browser tests/portal/storefront tests/portal/console/test_scenarios.py tests/mileage/provider
pytest-standard: venv messages
	SANDBOX_PROFILE=standard DATABASE_URL="$(PG_URL)" SANDBOX_DATABASE_URL="$(PG_SANDBOX_URL)" \
		$(PY) -m pytest -q $(STANDARD_TESTS)

# The browser paths again with PortOne as the shop's gateway (its emulator, the real SDKs; BROWSER_GATEWAY in
# tests/browser/test_buyer_path.py): cards paid in PortOne's window. .ci/run runs it; `make test` runs them on TEST-PG.
pytest-browser-portone: venv messages
	BROWSER_GATEWAY=portone $(PY) -m pytest -q $(XDIST) tests/browser

# Several nodes on PostgreSQL and Redis (tests/scaleout, marked `scaleout`, left out of `make test`); .ci/run runs it.
# SCALEOUT_ORDERS card orders and SCALEOUT_EXPIRED unpaid bank transfers (about 3½ minutes on 2 cores).
REDIS_TEST_URL ?= redis://127.0.0.1:6379/5
SCALEOUT_ORDERS ?= 200
SCALEOUT_EXPIRED ?= 20
pytest-scaleout: venv messages
	DATABASE_URL="$(PG_URL)" SANDBOX_DATABASE_URL="$(PG_SANDBOX_URL)" REDIS_TEST_URL="$(REDIS_TEST_URL)" \
		SCALEOUT_ORDERS="$(SCALEOUT_ORDERS)" SCALEOUT_EXPIRED="$(SCALEOUT_EXPIRED)" \
		$(PY) -m pytest -q -m scaleout tests/scaleout

# The README's pictures and every screen at 1366 and 390 px (docs/screenshots/), taken by the browser tests with axe-core checks on every screen.
screenshots: venv messages
	README_SCREENSHOTS=1 $(PY) -m pytest -q tests/browser/test_screens.py tests/browser/test_every_screen.py

# Benchmarks: `make bench` (1,000,000 orders) or `make bench SCALE=small` (a few minutes; CI runs it); the table
# includes the query counts of a placement with mileage (1 / 20 lines) and of a 환불완료, on both databases.
# LATENCY_MS=100 (and LATENCY_JITTER_MS) put the provider sandbox that far away: every server call waits that long.
bench: venv messages
	SANDBOX_LATENCY_MS=$(or $(LATENCY_MS),0) SANDBOX_LATENCY_JITTER_MS=$(or $(LATENCY_JITTER_MS),0) \
		$(PY) bench/run.py --scale $(or $(SCALE),full)

clean:
	rm -rf var/*.sqlite3* var/static var/media var/mail
