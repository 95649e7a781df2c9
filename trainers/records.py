"""Training records in chat format: what the trainers read and what they export.

Two record kinds, both plain JSON (one per line in a ``.jsonl`` file), matching the export
format of the critique method (``memplay.agents.methods.critique.export``; docs/CONTRACTS.md):

- :class:`ChatRecord` (SFT): ``{"messages": [...], "train_on": [i, ...], "source": str}``;
  loss is taken only on the assistant messages whose indices are in ``train_on``.
- :class:`PreferencePair` (DPO): ``{"prompt": [...], "chosen": str, "rejected": str,
  "source": str}``; ``chosen`` and ``rejected`` are two answers to the same prompt.

    >>> r = ChatRecord(messages=[{"role": "user", "content": "hi"},
    ...                          {"role": "assistant", "content": "right"}], train_on=[1])
    >>> r.assistant_indices()
    [1]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from memplay.config import format_validation_error
from memplay.errors import DataNotFound, TrainerError

__all__ = [
    "ChatRecord",
    "PreferencePair",
    "as_records",
    "parse_row",
    "read_jsonl",
    "read_rows",
    "to_dataset",
    "write_jsonl",
]

Message = dict[str, str]
_ROLES = ("system", "user", "assistant")


def _check_messages(messages: Sequence[Message], what: str) -> None:
    """Reject messages without a known role or a string content (the chat template needs both)."""
    for i, msg in enumerate(messages):
        if msg.get("role") not in _ROLES or not isinstance(msg.get("content"), str):
            raise ValueError(
                f"{what}[{i}]={msg!r} needs a role in {_ROLES} and a string content"
            )


class ChatRecord(BaseModel):
    """One SFT example: a chat transcript and the assistant turns that carry loss.

    >>> ChatRecord(messages=[{"role": "user", "content": "x"}], train_on=[0])
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for ChatRecord
    ...
    """

    model_config = ConfigDict(extra="forbid")

    messages: list[Message] = Field(description="Chat messages with role and content.")
    train_on: list[int] = Field(description="Indices of assistant messages that carry loss.")
    source: str = Field(default="success", description="Where it came from (success, revision).")

    @model_validator(mode="after")
    def _check(self) -> ChatRecord:
        _check_messages(self.messages, "messages")
        if not self.train_on:
            raise ValueError("train_on is empty; list the assistant message indices to learn")
        for i in self.train_on:
            if not 0 <= i < len(self.messages) or self.messages[i]["role"] != "assistant":
                raise ValueError(
                    f"train_on index {i} is not an assistant message of the "
                    f"{len(self.messages)} messages; use one of {self.assistant_indices()}"
                )
        return self

    def assistant_indices(self) -> list[int]:
        """Indices of all assistant messages (the candidates for ``train_on``)."""
        return [i for i, m in enumerate(self.messages) if m["role"] == "assistant"]


class PreferencePair(BaseModel):
    """One DPO example: a prompt (chat messages), a preferred and a dispreferred answer.

    >>> p = PreferencePair(prompt=[{"role": "user", "content": "at (0,0)"}],
    ...                    chosen="down", rejected="left")
    >>> p.chosen, p.source
    ('down', 'success_vs_failure')
    """

    model_config = ConfigDict(extra="forbid")

    prompt: list[Message] = Field(description="Chat messages before the answer (ends with user).")
    chosen: str = Field(min_length=1, description="Preferred assistant answer.")
    rejected: str = Field(min_length=1, description="Dispreferred assistant answer.")
    source: str = Field(default="success_vs_failure", description="Where the pair came from.")

    @model_validator(mode="after")
    def _check(self) -> PreferencePair:
        _check_messages(self.prompt, "prompt")
        if not self.prompt:
            raise ValueError("prompt is empty; a pair needs the messages the answers reply to")
        if self.chosen == self.rejected:
            raise ValueError(f"chosen and rejected are both {self.chosen!r}; drop this pair")
        return self


RecordT = TypeVar("RecordT", ChatRecord, PreferencePair)


def read_rows(path: str | Path) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed JSON)`` of each non-empty line; bad JSON raises TrainerError
    naming ``file:line``.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> _ = open(p, "w").write('{"a": 1}\\n\\n[2]\\n')
    >>> list(read_rows(p))
    [(1, {'a': 1}), (3, [2])]
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFound(f"training data file {str(path)!r} does not exist; check the path")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainerError(f"{path}:{number} is not valid JSON ({exc.msg}); fix or remove "
                               "the line") from None


def parse_row(row: Any, kind: type[RecordT], where: str) -> RecordT:
    """Validate one parsed row as ``kind``; TrainerError naming ``where`` otherwise.

    >>> parse_row({"chosen": "a"}, PreferencePair, "x.jsonl:3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.TrainerError: x.jsonl:3 is not a valid PreferencePair: prompt: required ...
    """
    try:
        return kind.model_validate(row)
    except ValidationError as exc:
        raise TrainerError(
            f"{where} is not a valid {kind.__name__}: {format_validation_error(exc)}"
        ) from None


def read_jsonl(path: str | Path, kind: type[RecordT]) -> list[RecordT]:
    """Read records of one kind from a JSONL file; bad lines raise with their line number.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> write_jsonl([PreferencePair(prompt=[{"role": "user", "content": "q"}],
    ...                             chosen="a", rejected="b")], p)
    1
    >>> read_jsonl(p, PreferencePair)[0].rejected
    'b'
    """
    return [parse_row(row, kind, f"{path}:{number}") for number, row in read_rows(path)]


def write_jsonl(records: Iterable[BaseModel], path: str | Path) -> int:
    """Write records as JSONL (one JSON object per line); returns how many were written.

    >>> import tempfile, os
    >>> write_jsonl([], os.path.join(tempfile.mkdtemp(), "empty.jsonl"))
    0
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r.model_dump_json() for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def to_dataset(records: Sequence[BaseModel]) -> Any:
    """Convert records to a Hugging Face ``datasets.Dataset`` (one column per field).

    >>> ds = to_dataset([PreferencePair(prompt=[{"role": "user", "content": "q"}],
    ...                                 chosen="a", rejected="b")])
    >>> ds.column_names
    ['prompt', 'chosen', 'rejected', 'source']
    """
    from datasets import Dataset  # heavy import, only when exporting

    if not records:
        raise TrainerError("cannot build a dataset from 0 records; collect some data first")
    return Dataset.from_list([r.model_dump() for r in records])


def as_records(rows: Iterable[Any], kind: type[RecordT]) -> list[RecordT]:
    """Records from records, dicts or a ``datasets.Dataset`` (rows are dicts).

    >>> from memplay.trainers.records import PreferencePair
    >>> row = {"prompt": [{"role": "user", "content": "q"}], "chosen": "a", "rejected": "b"}
    >>> as_records([row], PreferencePair)[0].chosen
    'a'
    """
    records = []
    for i, row in enumerate(rows):
        if isinstance(row, kind):
            records.append(row)
            continue
        if not isinstance(row, Mapping):
            raise TrainerError(f"row {i} is a {type(row).__name__}; give {kind.__name__} "
                               "records, dicts with its fields, or a datasets.Dataset")
        try:
            records.append(kind.model_validate(dict(row)))
        except ValidationError as exc:
            raise TrainerError(f"row {i} is not a valid {kind.__name__}: "
                               f"{format_validation_error(exc)}") from None
    return records
