# Two commands set everything up on a machine with only Python 3.11 and make:
#   make demo   - install, generate demo deliveries into a fresh DVCC_HOME, run the pipeline
#   make test   - install, run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DVCC_HOME ?= $(CURDIR)/.dvcc

.PHONY: install browser postgresql demo test ui serve bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

demo: install
	rm -rf "$(DVCC_HOME)"
	$(BIN)/dvcc demo

# The browser tests drive Debian's Chromium (CI runs as root on Debian); never a downloaded browser.
browser:
	command -v chromium || (apt-get update && apt-get install -y chromium)

# The PostgreSQL tests start a throw-away cluster of Debian's server; never a downloaded one.
postgresql:
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || (apt-get update && apt-get install -y postgresql)

test: install browser postgresql
	$(BIN)/ruff check .
	$(BIN)/pytest

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
	rm -rf "$(DVCC_HOME)" dbt_project/target dbt_project/logs .pytest_cache
