# Carto — the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.carto-installed
# The web map (web/): npm ci when the lock changes, vite build when a source changes.
WEB_DEPS := web/node_modules/.carto-npm-ci
WEB_BUILT := web/dist/.carto-built
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html \
	web/vite.config.ts web/tsconfig.json

.PHONY: install demo test lint format bench clean-var screenshots

# Street-name glyphs of the offline base map (carto/tiles/glyphs.py), from Debian's DejaVu.
GLYPHS_BUILT := tiles/glyphs/.carto-built

install: $(STAMP) $(WEB_BUILT) $(GLYPHS_BUILT)
	@scripts/install-system.sh

$(WEB_DEPS): web/package.json web/package-lock.json
	@scripts/install-system.sh
	@cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

$(WEB_BUILT): $(WEB_DEPS) $(WEB_SOURCES)
	@cd web && npm run --silent build >/dev/null
	@touch $@
	@echo "install: web map built"

$(GLYPHS_BUILT): $(STAMP) carto/tiles/glyphs.py
	@$(BIN)/python -m carto.tiles.glyphs
	@touch $@

$(STAMP): pyproject.toml
	@scripts/install-system.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -U pip >/dev/null
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)
	@echo "install: .venv ready"

demo: install
	$(BIN)/carto demo

lint: install
	$(BIN)/ruff check carto tests bench
	$(BIN)/ruff format --check carto tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix carto tests bench
	$(BIN)/ruff format carto tests bench

test: install lint
	@scripts/install-system.sh --test
	$(BIN)/python -m pytest -q

# The main screens of the web map, for the README (web/screenshots/*.png).
screenshots: install
	CARTO_SCREENSHOTS_DIR=web/screenshots $(BIN)/python -m pytest -q tests/web/test_screenshots.py

# Trimmed so that the whole run fits in about 20 minutes on 2 cores (it says what it trims).
bench: install  ## all benchmarks; writes bench/results/*.json and bench/RESULTS.md
	@echo "make bench, trimmed to about 20 minutes: intake 20 s x 3 runs per worker count (issue: 60 s);"
	@echo "  crash 15 s x 3 runs; tiles on 1 M MEL + 1 M France points, vacuumed then 1 % written"
	@echo "  (issue: 10 M France, python -m bench.tiles.run --france 10000000); routing and"
	@echo "  exports at full size."
	$(BIN)/python -m bench.routing
	$(BIN)/python -m bench.intake --seconds 20 --runs 3
	$(BIN)/python -m bench.crash --seconds 15 --runs 3
	$(BIN)/python -m bench.export_million
	$(BIN)/python -m bench.tiles.run --france 1000000
	$(BIN)/python -m bench.rounds

clean-var:
	-$(BIN)/carto db stop
	rm -rf var
