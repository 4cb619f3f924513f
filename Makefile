# LagLens: `make run` and `make test` do all the set-up on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
CHROMIUM ?= /usr/bin/chromium
PORT ?= 8501

.PHONY: run test test-fast test-integration test-browser lint bench screenshots clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

test: $(DEV_STAMP) $(CHROMIUM)
	$(PY) -m pytest

# The tiers (tests/conftest.py marks each test); `make test` runs all three.
test-fast: $(DEV_STAMP)
	$(PY) -m pytest -m unit

test-integration: $(DEV_STAMP)
	$(PY) -m pytest -m integration

test-browser: $(DEV_STAMP) $(CHROMIUM)
	$(PY) -m pytest -m browser

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(DEV_STAMP) $(CHROMIUM)
	$(PY) -m benchmarks.bench_training
	$(PY) -m benchmarks.bench_accuracy
	$(PY) -m benchmarks.bench_baselines
	$(PY) -m benchmarks.bench_sweep
	$(PY) -m benchmarks.bench_faults
	$(PY) -m benchmarks.bench_anomaly
	$(PY) -m benchmarks.bench_backends
	$(PY) -m benchmarks.bench_next_step
	$(PY) -m benchmarks.bench_compare
	$(PY) -m benchmarks.bench_relationships
	$(PY) -m benchmarks.bench_spread_defaults
	$(PY) -m benchmarks.bench_relationships_ui
	$(PY) -m benchmarks.bench_calibration
	$(PY) -m benchmarks.bench_bands
	$(PY) -m benchmarks.bench_ui
	$(PY) -m benchmarks.bench_speed
	$(PY) -m benchmarks.bench_floor
	$(PY) -m benchmarks.bench_class
	$(PY) -m benchmarks.bench_class --kill-worker
	$(PY) -m benchmarks.bench_class --people 10 --jobs 4 --within 30 --loopback --kill-node
	$(PY) -m benchmarks.bench_class --people 10 --jobs 4 --within 30
	$(PY) -m benchmarks.bench_volatility

screenshots: $(DEV_STAMP) $(CHROMIUM)
	LAGLENS_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/test_walkthrough.py

clean:
	rm -rf $(VENV) workspace .pytest_cache .ruff_cache
