"""Loading pydantic config models from YAML files or dicts, with fix-it error messages.

Every config in memplay is a pydantic model. :func:`load_config` validates a YAML file (or a
mapping) against one and turns pydantic's errors into a single :class:`ConfigError` that
names each bad field, the value given and what is expected::

    >>> from pydantic import BaseModel, Field
    >>> class Demo(BaseModel):
    ...     k2: int = Field(3, ge=1)
    >>> load_config({"k2": 0}, Demo)
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: invalid config: k2=0: Input should be greater than or equal to 1
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from memplay.errors import ConfigError

__all__ = ["dump_config", "format_validation_error", "load_config"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def load_config(source: str | Path | Mapping[str, Any] | None, model: type[ModelT]) -> ModelT:
    """Validate ``source`` (a YAML path, a mapping, or None for defaults) against ``model``.

    >>> from pydantic import BaseModel
    >>> class Demo(BaseModel):
    ...     seed: int = 0
    >>> load_config(None, Demo).seed
    0
    """
    data = _read_source(source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = f" in {source}" if isinstance(source, (str, Path)) else ""
        raise ConfigError(f"invalid config{where}: {format_validation_error(exc)}") from None


def dump_config(config: BaseModel, path: str | Path) -> None:
    """Write a config model to YAML (plain types only, so it loads back anywhere).

    >>> from pydantic import BaseModel
    >>> class Demo(BaseModel):
    ...     seed: int = 1
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "c.yaml"); dump_config(Demo(), p)
    >>> load_config(p, Demo).seed
    1
    """
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    Path(path).write_text(text, encoding="utf-8")


def format_validation_error(exc: ValidationError) -> str:
    """Render pydantic errors as ``field.path=value: message`` joined by ``; ``."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "<root>"
        if err["type"] == "extra_forbidden":
            parts.append(f"{field}: unknown field; remove it or check its spelling")
        elif err["type"] == "missing":
            parts.append(f"{field}: required field is missing; add it")
        else:
            parts.append(f"{field}={err.get('input')!r}: {err['msg']}")
    return "; ".join(parts)


def _read_source(source: str | Path | Mapping[str, Any] | None) -> Mapping[str, Any]:
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return source
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist; check the path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"config file {str(path)!r} must hold a mapping of fields, got {type(data).__name__}"
        )
    return data
