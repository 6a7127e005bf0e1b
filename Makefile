# make test: from a fresh clone, installs what the tests need, then lint + JS tests + pytest.
# make demo: reference server with the demo catalog + JupyterLab on notebooks/demo.ipynb.
# make bench: the benchmark suite (ratios against baselines measured in the same run).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_PORT ?= 39300
DEMO_DATA ?= .demo-data

.PHONY: install chromium lint test test-js test-py bench demo server build clean

install: $(STAMP)

$(STAMP): pyproject.toml js/package.json js/package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	cd js && npm ci --no-audit --no-fund
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

build: install
	cd js && npm run build

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
	$(PY) -m pieces_widget.server --port $(DEMO_PORT) --data-dir $(DEMO_DATA)

demo: build
	$(PY) -m pieces_widget.demo --port $(DEMO_PORT) --data-dir $(DEMO_DATA)

clean:
	rm -rf $(VENV) js/node_modules pieces_widget/static dist build $(DEMO_DATA)
