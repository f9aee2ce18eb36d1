# civicgrid — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 5000
# Test workers (pytest-xdist); each gets its own databases. `make test PYTEST_WORKERS=0` runs
# serially. Tests sharing an expensive module fixture are kept together (xdist_group).
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

.PHONY: demo serve test check lint typecheck setup assets clean bench bench-serve

demo: setup assets ## Build (or reuse) the demo city and serve it at http://127.0.0.1:5000 until Ctrl-C
	$(BIN)/civicgrid demo --host $(DEMO_HOST) --port $(DEMO_PORT)

serve: setup assets ## The production server (gunicorn) on DEMO_HOST:DEMO_PORT; needs CIVICGRID_SECRET_KEY
	$(BIN)/civicgrid serve --host $(DEMO_HOST) --port $(DEMO_PORT)

test: setup assets lint typecheck ## Set everything up and run the whole test suite
	$(PYTEST) $(PYTEST_ARGS)

check: setup assets lint ## The quick loop: ruff and the suite without slow and browser tests
	$(PYTEST) -m "not slow and not browser" $(PYTEST_ARGS)

lint: setup ## ruff, and the import contracts of setup.cfg (layers, geo never imports web)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy geo web scripts bench

setup: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

assets: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

bench: setup assets ## Run the benchmarks at full size (slow)
	$(BIN)/python bench/assign.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/rates.py
	$(BIN)/python bench/heat.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/coverage.py

# Serving and scale (issue 21). scale.py and ogc_peer.py need a PostGIS database that they
# empty: BENCH_DATABASE_URL=postgresql+psycopg://…; ogc_peer.py needs pygeoapi (`pip install
# -e '.[bench]'`, or PEER_PYTHON=a Python that has it).
BENCH_DATABASE_URL ?=
PEER_PYTHON ?=
bench-serve: setup assets ## Serving benchmarks: serve.py (SQLite, 1M); scale.py + ogc_peer.py with BENCH_DATABASE_URL
	$(BIN)/python bench/serve.py --rows 1000000
	test -z "$(BENCH_DATABASE_URL)" || $(BIN)/python bench/scale.py --rows 10000000 --database-url "$(BENCH_DATABASE_URL)"
	test -z "$(BENCH_DATABASE_URL)" || $(BIN)/python bench/ogc_peer.py --reuse --database-url "$(BENCH_DATABASE_URL)" $(if $(PEER_PYTHON),--peer-python $(PEER_PYTHON))

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .mypy_cache .ruff_cache test-artifacts
