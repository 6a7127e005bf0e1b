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

# The server runs in the background for as long as JupyterLab does (Ctrl-C stops both).
demo: build
	@$(PY) -m pieces_widget.server --port $(DEMO_PORT) --data-dir $(DEMO_DATA) --quiet & \
	server=$$!; trap "kill $$server 2>/dev/null" EXIT INT TERM; \
	echo "reference server: http://127.0.0.1:$(DEMO_PORT) (demo catalog, data in $(DEMO_DATA))"; \
	PIECES_OS_URL=http://127.0.0.1:$(DEMO_PORT) $(VENV)/bin/jupyter lab --ip 127.0.0.1 \
	  --no-browser --allow-root --ServerApp.root_dir=notebooks notebooks/demo.ipynb

clean:
	rm -rf $(VENV) js/node_modules pieces_widget/static dist build $(DEMO_DATA)
