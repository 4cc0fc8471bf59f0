# Two commands for a fresh machine: `make demo` (train and report) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test demo install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

test: install
	$(BIN)/python -m pytest

demo: install
	bash scripts/demo.sh

clean:
	rm -rf $(VENV) build *.egg-info
