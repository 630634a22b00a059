# Yiwang — two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install run test test-sqlite test-postgres lint format clean bench-quick

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	npm ci --no-audit --no-fund --silent
	$(BIN)/yiwang i18n_compile

run: install
	$(BIN)/yiwang keys init
	$(BIN)/yiwang migrate
	$(BIN)/yiwang demo
	$(BIN)/yiwang serve --with-worker

test: install
	$(BIN)/python -m yiwang.testrun

# Short runs of the request-path benchmarks on PostgreSQL (needs wrk): each figure as a ratio to the bare view of
# the same run beside bench/recorded.json; exits 1 and names the figures that fell by more than 20 %.
bench-quick:
	$(BIN)/python bench/quick.py

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format:
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) node_modules var
