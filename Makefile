# Carto — the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.carto-installed

.PHONY: install demo test lint format bench clean-var

install: $(STAMP)
	@scripts/install-system.sh

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

format: install
	$(BIN)/ruff check --fix carto tests bench
	$(BIN)/ruff format carto tests bench

test: install lint
	$(BIN)/python -m pytest -q

clean-var:
	-$(BIN)/carto db stop
	rm -rf var
