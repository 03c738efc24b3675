# Two commands set everything up on a machine with only Python 3.11 and make:
#   make demo   - install, generate demo deliveries into a fresh DVCC_HOME, run the pipeline
#   make test   - install, run ruff and the test suite without the end-to-end tests marked slow
#   make test-slow - the end-to-end tests marked slow (CI runs both)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DVCC_HOME ?= $(CURDIR)/.dvcc

.PHONY: install browser postgresql compat demo test test-slow ui serve bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

# Downstream readers, each in its own venv outside the project's environment, cached per version:
# the older DuckDBs that must open every published file (tests/compat/readers.txt) and datacontract-cli
# (pinned with its whole dependency set in tests/compat/datacontract.lock). The tests run them as
# subprocesses. Re-running is a no-op; a changed pin makes a new venv.
COMPAT := .venv-compat
READERS := $(shell grep -v '^\#' tests/compat/readers.txt)
DATACONTRACT := $(shell grep '^datacontract-cli==' tests/compat/datacontract.lock | cut -d= -f3)

compat: $(foreach v,$(READERS),$(COMPAT)/duckdb-$(v)/.installed) $(COMPAT)/datacontract-$(DATACONTRACT)/.installed

$(COMPAT)/duckdb-%/.installed:
	test -x $(COMPAT)/duckdb-$*/bin/python || $(PYTHON) -m venv $(COMPAT)/duckdb-$*
	$(COMPAT)/duckdb-$*/bin/python -m pip install --quiet "duckdb==$*"
	touch $@

$(COMPAT)/datacontract-$(DATACONTRACT)/.installed: tests/compat/datacontract.lock
	test -x $(COMPAT)/datacontract-$(DATACONTRACT)/bin/python || $(PYTHON) -m venv $(COMPAT)/datacontract-$(DATACONTRACT)
	$(COMPAT)/datacontract-$(DATACONTRACT)/bin/python -m pip install --quiet -c tests/compat/datacontract.lock \
		"datacontract-cli[duckdb,parquet,csv]==$(DATACONTRACT)"
	touch $@

demo: install
	rm -rf "$(DVCC_HOME)"
	$(BIN)/dvcc demo

# The browser tests drive Debian's Chromium with Playwright's Python package (installed with the dev
# extras, pointed at it by executable_path; CI runs as root on Debian); never `playwright install`.
browser:
	command -v chromium || (apt-get update && apt-get install -y chromium)

# The PostgreSQL tests start a throw-away cluster of Debian's server; never a downloaded one.
postgresql:
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || (apt-get update && apt-get install -y postgresql)

# The developer's loop: everything except the end-to-end tests marked `slow` (each of those runs
# the whole pipeline again, with kills, a service or a benchmark). CI runs both targets.
test: install browser postgresql compat
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not slow"

test-slow: install browser postgresql compat
	$(BIN)/pytest -m slow

ui: install
	$(BIN)/dvcc ui

serve: install
	$(BIN)/dvcc serve

bench: install
	$(BIN)/dvcc bench --scale $(or $(SCALE),20)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf "$(DVCC_HOME)" $(COMPAT) dbt_project/target dbt_project/logs .pytest_cache
