# make test: from a fresh clone, installs what the tests need, then lint + JS tests + pytest,
#            then the unit and server tests once more at the lowest allowed versions.
# make demo: reference server with the demo catalog + JupyterLab on a working copy of
#            notebooks/demo.ipynb in $(DEMO_DATA); prints, last, the URL that opens it.
# make demo-reset: delete $(DEMO_DATA) (downloads, partial files, the notebook copy); keeps .venv.
# make bench: the benchmark suite (ratios against baselines measured in the same run).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
DEMO_PORT ?= 39300
DEMO_DATA ?= .demo-data
PIP := $(PY) -m pip --quiet --disable-pip-version-check
# uv uses the Pythons on this machine and never downloads one.
export UV_PYTHON_DOWNLOADS := never

# The lowest allowed versions (pyproject.toml's floors), on the lowest allowed Python when this
# machine has it: uv resolves every direct dependency to its floor (lowest-direct).
LOWEST := .venv-lowest
LOWEST_PYTHON ?= $(or $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10 \
  /usr/bin/python3.10 /usr/local/bin/python3.10)),$(PYTHON))
# Where a transitive dependency would lift a floor: constraints hold it down (ipython >= 8.22
# asks for traitlets >= 5.13); an override where only breaking a claim can (pieces-os-client >= 4
# asks for websocket-client >= 1.8; the tests use only its models).
LOWEST_CONSTRAINTS := traitlets==5.9.0
LOWEST_OVERRIDES := websocket-client==1.6.0
# What runs there (about a minute): every runtime dependency is exercised (widget, client,
# downloads over the progress socket, tqdm bars, psutil, the server and its lock, the SDK).
# The gzip bomb's memory bound is measured with current urllib3 (urllib3 1.x at requests 2.28's
# floor inflates a whole read at once: the cap still stops the answer, the peak is higher).
# The flood test reads messages recorded through the comm package, which ipywidgets uses from
# 8.0.5 on: at 8.0.0 there is nothing to record.
LOWEST_TESTS := tests/test_models.py tests/test_sync.py tests/test_client.py tests/test_widget.py \
  tests/test_manage.py tests/test_server_api.py tests/test_server_portable.py \
  tests/test_server_schema.py tests/test_cli.py::test_tqdm_bars_in_a_terminal_and_rm_asks \
  --deselect tests/test_widget.py::test_flood_is_coalesced_and_the_final_state_sent \
  --deselect tests/test_client.py::test_a_gzip_bomb_stops_at_the_cap_in_memory_too

STATIC := pieces_widget/static/widget.js
JS_SOURCES := $(shell find js/src -type f 2>/dev/null) js/package.json

.PHONY: wire install chromium lint test test-js test-py test-lowest bench demo demo-reset server build \
  clean

install: $(STAMP)

# The venv, with uv in it: uv from PATH, or installed by pip (it is on PyPI); else pip alone.
BOOTSTRAP = { test -x $(PY) || { command -v uv >/dev/null && uv venv --quiet --python $(PYTHON) \
  $(VENV); } || $(PYTHON) -m venv $(VENV); } && { $(UV) --version >/dev/null 2>&1 \
  || { command -v uv >/dev/null && ln -sf "$$(command -v uv)" $(UV); } || $(PIP) install 'uv>=0.8' \
  || echo "uv could not be installed: pip installs instead (slower)"; }
# The package (editable; make builds the front end itself) with the server extra, and the dev
# dependency group (uv, or pip >= 25.1, read [dependency-groups]).
INSTALL_PY = if $(UV) --version >/dev/null 2>&1; then \
  SKIP_JUPYTER_BUILDER=1 $(UV) pip install --quiet --python $(PY) -e '.[server]' --group dev; \
  else $(PIP) install --upgrade 'pip>=25.1' && \
  SKIP_JUPYTER_BUILDER=1 $(PIP) install -e '.[server]' --group dev; fi

# npm and Python install side by side; warnings and errors still show. (No $(MAKE) in these
# recipes: `make -n`, which tests/test_readme.py runs, would execute it.)
$(STAMP): pyproject.toml js/package.json js/package-lock.json
	@echo "installing into $(VENV) and js/node_modules (first run: about a minute)"
	@(cd js && npm ci --no-audit --no-fund --loglevel=warn) & npm=$$!; \
	  { $(BOOTSTRAP) && $(INSTALL_PY); } || { kill $$npm; exit 1; }; wait $$npm
	@touch $@

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

build: $(STATIC)

# js/src/wire.gen.js from pieces_widget/widget/wire.py and js/src/labels.gen.js from
# pieces_widget/core/labels.py (tests/test_wire.py, tests/test_labels.py fail when they differ).
wire: install
	$(PY) -m pieces_widget.widget.wire_js js/src/wire.gen.js
	$(PY) -m pieces_widget.widget.labels_js js/src/labels.gen.js

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

# The unit and server tests mostly wait on sockets and rate-limited sources: three workers (one
# test file each at a time, so a file's module fixtures stay shared) make them about 2.5x faster
# on two cores. The browser tests then run alone: Chromium and JupyterLab want the CPU.
test-py: build chromium
	$(PY) -m pytest -q -n 3 --dist loadfile --ignore=tests/browser
	$(PY) -m pytest -q tests/browser

$(LOWEST)/.installed: pyproject.toml | $(STAMP)
	@if ! $(UV) --version >/dev/null 2>&1; then echo "no uv: the lowest-versions pass is skipped"; \
	else echo "installing the lowest allowed versions into $(LOWEST) ($$($(LOWEST_PYTHON) --version))" \
	  && rm -rf $(LOWEST) && $(UV) venv --quiet --python $(LOWEST_PYTHON) $(LOWEST) \
	  && printf '%s\n' $(LOWEST_CONSTRAINTS) > $(LOWEST)/constraints.txt \
	  && printf '%s\n' $(LOWEST_OVERRIDES) > $(LOWEST)/overrides.txt \
	  && SKIP_JUPYTER_BUILDER=1 $(UV) pip install --quiet --python $(LOWEST)/bin/python \
	    --resolution lowest-direct --constraint $(LOWEST)/constraints.txt \
	    --override $(LOWEST)/overrides.txt -e '.[server]' --group test-unit \
	  && touch $@; fi

test-lowest: build $(LOWEST)/.installed
	@if test -f $(LOWEST)/.installed; then \
	  $(LOWEST)/bin/python -m pytest -q -p no:cacheprovider -n 3 --dist loadfile $(LOWEST_TESTS); fi

test: lint test-js test-py test-lowest

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
	rm -rf $(VENV) $(LOWEST) js/node_modules pieces_widget/static dist build $(DEMO_DATA)
