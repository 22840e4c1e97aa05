# The two commands: `make run` (the product, embedded, no servers needed) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py

# Tests run against the real services by default; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/maturity
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: help install run test lint fmt translations bench clean

help:
	@echo "make run    - install, migrate, load demo data, serve at http://127.0.0.1:8000/ with worker and beat"
	@echo "make test   - run the whole test suite (PostgreSQL and Redis at 127.0.0.1 by default)"
	@echo "make lint   - ruff, format check, mypy, import layers, migrations check, translations complete"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 or newer is needed (found " + sys.version.split()[0] + ")")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# The OpenID Connect provider the single sign-on tests start (Node.js; skipped without it).
OIDC_PROVIDER := tests/oidc_provider/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc_provider/package.json tests/oidc_provider/package-lock.json
	if command -v npm >/dev/null; then npm ci --prefix tests/oidc_provider --no-audit --no-fund --silent; fi

install: $(STAMP)

run: install
	DEBUG=true $(MANAGE) migrate --no-input
	DEBUG=true $(MANAGE) seed_demo
	DEBUG=true $(MANAGE) run_embedded

test: install $(OIDC_PROVIDER)
	DEBUG=true DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/mypy .
	$(BIN)/lint-imports
	DEBUG=true $(MANAGE) makemigrations --check --dry-run
	DEBUG=true $(MANAGE) check_translations

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

translations: install
	DEBUG=true $(MANAGE) makemessages --all --no-location --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'static/*' --ignore 'tests/*' --ignore 'bench/*'
	DEBUG=true $(MANAGE) check_translations --compile

clean:
	rm -rf $(VENV) var
