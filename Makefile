# Two commands a newcomer needs: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config.yaml
STAMP  := $(VENV)/.installed

.PHONY: run test venv lint bench clean validate

# The stamp depends on pyproject.toml so a changed dependency list reinstalls, and nothing else does.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/warroom up -c $(CONFIG)

validate: $(STAMP)
	$(BIN)/warroom validate -c $(CONFIG)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench.store_bench
	$(BIN)/python -m bench.api_bench

clean:
	rm -rf $(VENV) build *.egg-info
