# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck openapi bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mutualaid migrate
	$(BIN)/mutualaid demo
	$(BIN)/mutualaid serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy --strict app/rules
	$(BIN)/mypy app
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy app

openapi: $(STAMP)
	$(BIN)/python -m app.openapi_export openapi/openapi.json

bench: $(STAMP)
	$(BIN)/python -m bench.batch
	$(BIN)/python -m bench.claims
	$(BIN)/python -m bench.coverage

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
