# Two commands for a fresh machine: `make demo` (train and report) and `make test`.
# Each installs what it needs: Debian's graphviz and dataset-fashion-mnist (as root, when
# missing), then the package with its test extras (PyTorch 2.13.0 CPU, hypothesis, ...) in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test test-long demo install system-packages mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

system-packages:
	bash scripts/system_packages.sh

install: $(BIN)/python system-packages
	$(BIN)/pip install --quiet -e ".[test]"

# The whole suite; hypothesis' seed (printed in the header) comes from the commit under CI.
test: install
	$(BIN)/python -m pytest

# A deep hypothesis run (profile "long" in tests/conftest.py): many more examples per property.
test-long: install
	MINIGRAD_HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest

# Mutation testing of minigrad/ops, engine and optim (long; not part of `make test`).
# MUTATION_TARGETS="optim engine ops", MUTATION_BUDGET=seconds per target; see scripts/mutation.py.
mutation: install
	$(BIN)/pip install --quiet -e ".[test,mutation]"
	$(BIN)/python scripts/mutation.py $(MUTATION_TARGETS)

demo: install
	bash scripts/demo.sh

clean:
	rm -rf $(VENV) build *.egg-info mutants
