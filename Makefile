# The two commands: `make run` (embedded supergraph on :4000) and `make test`.
# Everything else is listed by `make help`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JS_STAMP := tests/js/node_modules/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install js run test lint format compose check-schema clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned Python dependencies

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	@touch $(JS_STAMP)

js: $(JS_STAMP) ## Install the npm reference packages used by tests (Apollo composition/gateway)

run: $(STAMP) ## Start the router (:4000) and all eight subgraphs in embedded mode
	$(PY) -m subgraphs.embedded

test: $(STAMP) $(JS_STAMP) ## Run the test suite (uses PostgreSQL and Redis when they are up)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP) ## Format the code with ruff
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

compose: $(STAMP) ## Export each subgraph's SDL to schema/ and compose schema/supergraph.graphql
	$(PY) -m subgraphs.export_sdl
	$(PY) -m router compose supergraph.yaml --output schema/supergraph.graphql

check-schema: $(STAMP) ## Fail when the committed SDL in schema/ is stale
	$(PY) -m subgraphs.export_sdl --check

clean: ## Remove the venv, npm packages and local data
	rm -rf $(VENV) tests/js/node_modules var .pytest_cache .ruff_cache

# Router benchmark (docs/benchmarks.md): our router against @apollo/gateway and Hive Gateway.
BENCH_JS_STAMP := bench/js/node_modules/.installed
BENCH_ARGS ?=

$(BENCH_JS_STAMP): bench/js/package.json bench/js/package-lock.json
	cd bench/js && npm ci --no-audit --no-fund --loglevel=error
	@touch $(BENCH_JS_STAMP)

.PHONY: bench
bench: $(STAMP) $(BENCH_JS_STAMP) ## Benchmark the router against @apollo/gateway and Hive Gateway (BENCH_ARGS="--quick")
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
	  else \
	    echo "bench needs wrk: sudo apt-get install wrk (Debian/Ubuntu) or brew install wrk (macOS)"; exit 1; \
	  fi; }
	$(PY) -m bench.run $(BENCH_ARGS)

# Persisted queries (docs/adr/0008-router-edge.md): the safelist partners are held to.
.PHONY: manifest
manifest: $(STAMP) ## Write schema/persisted-queries.json from the operations/ .graphql files
	$(PY) -m router manifest operations/ --supergraph schema/supergraph.graphql --output schema/persisted-queries.json

# Schema versioning (docs/versioning.md): breaking changes against the committed SDL
# (or SCHEMA_BASE=<git rev>) fail unless announced in schema/versions.yaml.
SCHEMA_BASE ?=
.PHONY: schema-check
schema-check: $(STAMP) ## Fail on a breaking schema change not announced in schema/versions.yaml (SCHEMA_BASE=rev)
	$(PY) -m subgraphs.schema_check $(if $(SCHEMA_BASE),--base $(SCHEMA_BASE))

# Live tracking (docs/benchmarks.md "Live tracking"): N driverPosition subscribers over
# graphql-transport-ws on M orders while the drivers post positions at a steady rate.
# Default: the issue's target shape (10,000 subscribers, 20 orders, the router's two workers).
LIVE_ARGS ?= --subscribers 10000 --streams 20 --duration 20 --router-workers 2
.PHONY: bench-live
bench-live: $(STAMP) ## Subscribers on driverPosition: msg/s, p50/p99 post→client, memory (LIVE_ARGS="--subscribers 2000 --streams 1")
	$(PY) -m bench.live $(LIVE_ARGS)
