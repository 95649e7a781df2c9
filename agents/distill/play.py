"""How a trained model plays: the prompt and policy settings its recipe recorded.

A model version's ``version.json`` carries ``play`` (see
:data:`memplay.agents.distill.recipe.ACTION_PLAY`): a model distilled from memory's choices
reads the portable view with no memory text, keeps its learned preferences (no
calibration) and plays greedily. The agent applies these settings whenever it plays with a
version (``Agent(model="runs/x/models/v2")``, a run resumed on its latest version, a round of
``train_every``), unless ``AgentConfig.play_as_trained`` is off; the base model keeps the
config's settings.

    >>> from pydantic import ValidationError

from memplay.agents.config import AgentConfig
    >>> cfg = with_play(AgentConfig(), {"policy": {"temperature": 0.0}})
    >>> cfg.policy.temperature, cfg.policy.calibrate
    (0.0, True)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from memplay.agents.config import AgentConfig, PolicyConfig, PromptConfig
from memplay.agents.distill.recipe import PlaySettings
from memplay.config import format_validation_error
from memplay.errors import ConfigError
from memplay.trainers.version import VERSION_FILE

__all__ = ["config_for_model", "play_overrides", "play_settings", "with_play"]

_SECTIONS: dict[str, type[PolicyConfig] | type[PromptConfig]] = {
    "prompt": PromptConfig, "policy": PolicyConfig}


def play_settings(model: str | Path | None) -> PlaySettings:
    """The ``play`` settings of a model version folder ({} for anything else).

    >>> play_settings(None), play_settings("/no/such/model")
    ({}, {})
    """
    file = Path(model) / VERSION_FILE if model is not None else None
    if file is None or not file.is_file():
        return {}
    try:  # only "play" is needed: a record that is otherwise old or partial still plays
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    play = record.get("play") if isinstance(record, dict) else None
    return dict(play) if isinstance(play, dict) else {}


def with_play(config: AgentConfig, play: PlaySettings) -> AgentConfig:
    """``config`` with the prompt and policy fields ``play`` names replaced (validated).

    >>> with_play(AgentConfig(), {"policy": {"temperature": -1}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: the model's play settings policy.temperature=-1 ...
    """
    update: dict[str, Any] = {}
    for section, fields in play.items():
        cls = _SECTIONS.get(section)
        if cls is None:
            raise ConfigError(f"the model's play settings name {section!r}; only "
                              f"{sorted(_SECTIONS)} can be set there (retrain the version)")
        current = getattr(config, section).model_dump()
        try:
            update[section] = cls.model_validate({**current, **fields})
        except ValidationError as exc:
            shown = ", ".join(f"{section}.{k}={v!r}" for k, v in fields.items())
            raise ConfigError(f"the model's play settings {shown} are invalid "
                              f"({format_validation_error(exc)}); fix version.json's 'play' "
                              "or set play_as_trained=False") from None
    return config.model_copy(update=update)


def config_for_model(config: AgentConfig, model: str | Path | None) -> AgentConfig:
    """``config`` as it plays with ``model``: with the version's play settings when it is a
    trained version and ``play_as_trained`` is on, unchanged otherwise.

    >>> config_for_model(AgentConfig(), None) == AgentConfig()
    True
    """
    if not config.play_as_trained:
        return config
    play = play_settings(model)
    return with_play(config, play) if play else config


def play_overrides(model: str | Path | None, base: AgentConfig | None = None
                   ) -> dict[str, Any]:
    """Agent keyword arguments (``prompt=``, ``policy=``) that play ``model`` as trained,
    for code that hands the Agent a backend object instead of a model path.

    >>> play_overrides(None)
    {}
    """
    play = play_settings(model)
    if not play:
        return {}
    played = with_play(base or AgentConfig(), play)
    return {section: getattr(played, section).model_dump() for section in play}
