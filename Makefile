# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck unit integration bench bench-core infra-up infra-down clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/loyalty demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# pytest exits 5 when it collected nothing: that is a broken suite here, so say so and fail.
test: lint typecheck
	@$(BIN)/pytest -ra $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: the suite is broken"; exit 1; fi; \
	exit $$rc

unit: install
	$(BIN)/pytest -ra tests/unit

integration: install
	$(BIN)/pytest -ra tests/integration

# Every speed figure in one run against its baselines, on a real broker started by the project:
# passthrough, idiomatic Faust agent, engine (1 and 2 workers), backfill, replay, latency at
# 2,000 events/s, peak RSS. Writes bench/results/latest.json and .png. BENCH_ARGS="--repeat 1".
bench: install
	$(BIN)/python -m bench.suite $(BENCH_ARGS)

# The rulebook on one core at 100k and 1M events and at 10x the members; events/s beside
# same-run baselines (orjson only, wire validation only, decoding). BENCH_ARGS="--sizes 100k".
bench-core: install
	$(BIN)/python -m bench.core $(BENCH_ARGS)

infra-up: install
	$(BIN)/loyalty infra up

infra-down: install
	$(BIN)/loyalty infra down

clean: infra-down
	rm -rf .loyalty .mypy_cache .ruff_cache .pytest_cache
