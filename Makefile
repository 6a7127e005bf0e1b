# make test: from a fresh clone, installs what the tests need, then lint + JS tests + pytest.
# make demo: reference server with the demo catalog + JupyterLab on a working copy of
#            notebooks/demo.ipynb in $(DEMO_DATA); prints, last, the URL that opens it.
# make demo-reset: delete $(DEMO_DATA) (downloads, partial files, the notebook copy); keeps .venv.
# make bench: the benchmark suite (ratios against baselines measured in the same run).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_PORT ?= 39300
DEMO_DATA ?= .demo-data

STATIC := pieces_widget/static/widget.js
JS_SOURCES := $(shell find js/src -type f 2>/dev/null) js/package.json

.PHONY: install chromium lint test test-js test-py bench demo demo-reset server build clean

install: $(STAMP)

# Quiet: one line per step; warnings and errors still show.
$(STAMP): pyproject.toml js/package.json js/package-lock.json
	@echo "installing into $(VENV) and js/node_modules (first run: a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@cd js && npm ci --no-audit --no-fund --loglevel=warn
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

build: $(STATIC)

# esbuild writes widget.js and widget.css; rebuilt only when a source changed.
$(STATIC): $(STAMP) $(JS_SOURCES)
	@echo "building the front end into pieces_widget/static"
	@cd js && npm run --silent build

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd js && npx biome check src test && npx tsc --noEmit -p .

test-js: install
	cd js && npx vitest run

test-py: build chromium
	$(PY) -m pytest -q

test: lint test-js test-py

bench: build
	$(PY) -m benchmarks

server: install
	$(PY) -m pieces_widget.server --port $(DEMO_PORT) --data-dir $(DEMO_DATA)/server

# Server and JupyterLab log to files in $(DEMO_DATA); Ctrl-C stops both.
demo: build
	@$(PY) -m pieces_widget.demo --port $(DEMO_PORT) --data-dir $(DEMO_DATA) \
	  --notebook notebooks/demo.ipynb

demo-reset:
	@$(PY) -m pieces_widget.demo --reset --data-dir $(DEMO_DATA)

clean:
	rm -rf $(VENV) js/node_modules pieces_widget/static dist build $(DEMO_DATA)
