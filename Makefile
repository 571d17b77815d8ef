# The only task runner. Every target creates .venv and installs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# one pytest-xdist worker per core; WORKERS=0 runs the tests in this process
WORKERS ?= auto

.PHONY: install demo test test-fast lint fmt typecheck check pg-up bench clean docs

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wresgov needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)            ## the main job: the annual cycle on synthetic data
	$(BIN)/wresgov demo

test: lint typecheck      ## the whole suite: lint, types, tests with branch coverage
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -p no:cacheprovider -n $(WORKERS) $(PYTEST_ARGS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report --fail-under=$$(cat .coverage-floor)

test-fast: $(STAMP)
	$(BIN)/pytest -q -x $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

pg-up:                    ## start this machine's PostgreSQL server
	pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache build dist

docs: $(STAMP)            ## regenerate docs/cli.md and docs/openapi.json from the code
	$(BIN)/python -m tests.unit.test_cli_docs --write
	$(BIN)/python -m tests.unit.test_openapi_doc --write
