# Two commands are the whole set-up on a fresh clone: `make run` and `make test`.
PY_SYS ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint index eval bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## run: install, build the index if missing (a tuned encoder trains in the background while the
##      fallback encoder serves), load demo data, serve on http://$(HOST):$(PORT)
run: $(STAMP)
	$(VENV)/bin/matcher index build --if-missing --background
	$(VENV)/bin/matcher demo
	$(VENV)/bin/matcher serve --host $(HOST) --port $(PORT)

## test: install and run the whole test suite
test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check matcher web tests benchmarks

index: $(STAMP)
	$(VENV)/bin/matcher index build

eval: $(STAMP)
	$(VENV)/bin/matcher eval

bench: $(STAMP)
	$(PY) benchmarks/bench_match.py

clean:
	rm -rf $(VENV) indexes/* instance/
