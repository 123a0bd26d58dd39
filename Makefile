# The two commands of the quick start: `make demo` and `make test`.
# The interpreter: Debian's CPython 3.11 where the machine has it with its headers (the compiled
# builds need them), else `python3`. Debian's executable has libpython linked in and is built
# with profile-guided optimisation and LTO; a default source build (pyenv's here) has neither,
# and the same engine replays ~12% faster on Debian's (docs/performance.md), as it would on the
# image's python:3.11-slim, an optimised build too. `make PYTHON=python3` picks another.
DEBIAN_PYTHON := /usr/bin/python3.11
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell $(DEBIAN_PYTHON) -c 'import ensurepip, os, sysconfig; \
	assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' \
	2>/dev/null && echo $(DEBIAN_PYTHON) || echo python3)
endif
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per interpreter: a venv another interpreter made is made again (`--clear`).
STAMP  := $(VENV)/.installed-$(subst /,-,$(PYTHON))

.PHONY: install demo test lint typecheck unit integration bench bench-core infra-up infra-down clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
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
