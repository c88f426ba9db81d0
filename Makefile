# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv if missing and
# install the package with its dev extra, pinning torch through constraints.txt (an unpinned torch
# pulls a multi-GB CUDA build here). A stamp file makes a second install a no-op.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deepchem-finetune-installed
PYTEST_ARGS ?=

.PHONY: install demo test test-fast benchmark clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/deepchem-finetune demo

test: install
	$(BIN)/python -m pytest -ra --durations=15 $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -ra -m "not slow" $(PYTEST_ARGS)

benchmark: install
	$(BIN)/python benchmarks/throughput.py

# every results table of README.md and benchmarks/RESULTS.md, from the per-seed CSVs under benchmarks/results/
.PHONY: results
results: install
	$(BIN)/python benchmarks/make_results.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
