# sync_pipeline: every command a newcomer needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
SANDBOX_PORT ?= 8765
DOMAIN_MODULES := sync_pipeline/magento sync_pipeline/catalog sync_pipeline/listings \
	sync_pipeline/platforms sync_pipeline/push sync_pipeline/sandbox sync_pipeline/status \
	sync_pipeline/stores.py sync_pipeline/db.py sync_pipeline/money.py sync_pipeline/lease.py sync_pipeline/checks.py \
	sync_pipeline/markdown.py sync_pipeline/remote.py sync_pipeline/cli.py \
	sync_pipeline/cli_owner.py sync_pipeline/cli_watch.py sync_pipeline/run_figures.py

.PHONY: help .venv lint fmt test test-quick demo ui ui-test sandbox bench clean

help:
	@echo "make demo        run the whole pipeline on the embedded default (SQLite + sandbox stores)"
	@echo "make test        install test dependencies, lint, and run every test"
	@echo "make test-quick  the same without the slow suites"
	@echo "make ui          the Dagster web UI on the demo (http://127.0.0.1:3000)"
	@echo "make ui-test     the headless-Chromium UI test alone (screenshots in test-artifacts/)"
	@echo "make sandbox     the local Shopify/Shopee/TikTok sandbox stores on port $(SANDBOX_PORT)"
	@echo "make bench       how to run each benchmark (figures in benchmarks/RESULTS.md)"
	@echo "make .venv       build the virtual environment only"

.venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,deploy,celery]'
	touch $@

lint: .venv
	$(BIN)/ruff check sync_pipeline sync_pipeline_tests benchmarks
	$(BIN)/mypy $(DOMAIN_MODULES)

fmt: .venv
	$(BIN)/ruff format sync_pipeline sync_pipeline_tests benchmarks
	$(BIN)/ruff check --fix sync_pipeline sync_pipeline_tests benchmarks

test: .venv lint
	$(PY) -m pytest -n 2 --dist loadgroup -q -rfEs

test-quick: .venv
	$(PY) -m pytest -n 2 --dist loadgroup -q -m "not slow"

$(DAGSTER_HOME)/dagster.yaml: dagster.embedded.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.embedded.yaml $(DAGSTER_HOME)/dagster.yaml

demo: .venv $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m sync_pipeline.demo

ui: .venv $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m sync_pipeline.demo --ui

sandbox: .venv
	$(PY) -m sync_pipeline.sandbox --port $(SANDBOX_PORT)

ui-test: .venv
	$(PY) -m pytest -q -rfEs sync_pipeline_tests/production/test_ui.py  # screenshots in test-artifacts/

# Each benchmark takes minutes and creates its own throwaway databases; run them one at a time.
bench: .venv
	@echo "Benchmarks (figures and the exact commands are in benchmarks/RESULTS.md):"
	@echo "  $(PY) -m benchmarks.import_bench --products 48000     # Magento import, MariaDB -> PostgreSQL"
	@echo "  $(PY) -m benchmarks.magento_extract                    # generator and reader alone"
	@echo "  $(PY) -m benchmarks.listings_bench --products 5000 48000"
	@echo "  $(PY) -m benchmarks.shopify_throughput | shopee_throughput | tiktok_throughput"
	@echo "  $(PY) -m benchmarks.push_bench"
	@echo "  $(PY) -m benchmarks.latency_bench --products 48000 --changes 10   # a Magento change to every store"
	@echo "  $(PY) -m benchmarks.titles_bench                       # title band share on real-world names"

clean:
	rm -rf .data .dagster_home .pytest_cache .mypy_cache .ruff_cache
