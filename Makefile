# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UNIT_TESTS := tests/rules tests/architecture tests/core/test_clock.py tests/core/test_crypto.py \
              tests/core/test_masking.py tests/core/test_policy.py

.PHONY: run test browser unit lint typecheck openapi bench bench-layers wrk clean

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

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy --strict app tools
	$(BIN)/pytest -n 2 --dist loadfile

# The tests that need no database, no server and no network: the rules core, the code's shape,
# pure helpers. Seconds, for the edit-test loop.
unit: $(STAMP)
	$(BIN)/pytest -q $(UNIT_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict app tools

openapi: $(STAMP)
	$(BIN)/python -m app.openapi_export openapi/openapi.json

# HTTP numbers are driven by wrk, installed from the distribution's packages when missing (the
# benchmarks fall back to a Python load generator, and say so, when that is not possible).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The /docs test drives Debian's chromium (Playwright, pointed at it: no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || $(SUDO) apt-get install -y chromium \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium) \
		|| echo "chromium could not be installed: the /docs browser test will say so"

wrk:
	@command -v wrk >/dev/null 2>&1 || $(SUDO) apt-get install -y wrk \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y wrk) \
		|| echo "wrk could not be installed: the Python load generator stands in"

bench: $(STAMP) wrk
	$(BIN)/python -m bench.batch
	$(BIN)/python -m bench.claims
	$(BIN)/python -m bench.coverage
	$(BIN)/python -m bench.reconcile
	$(BIN)/python -m bench.limits
	$(BIN)/python -m bench.soak

# What each layer in front of the coverage look-up's SELECT costs (needs wrk; a few minutes).
bench-layers: $(STAMP) wrk
	$(BIN)/python -m bench.layers

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
