"""The counts of docs/RELIABILITY.md's table, computed from the tests that run them.

Each row of the table is backed by named test functions in ``tests/reliability/``; its count
is worked out from those tests as they are: parametrised cases (their ``parametrize`` marks),
hypothesis examples (each test's ``max_examples``), and the constants the tests loop over
(kills, episodes, seconds). ``test_rel_readme_counts.py`` fails when that page says
otherwise, or when a reliability test belongs to no row.

    python tests/reliability/rel_counts.py   # prints each row's label and count
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def load(stem: str) -> ModuleType:
    """Import ``tests/reliability/<stem>.py`` (tests are not a package) once."""
    name = f"memplay_rel_counts_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def cases(test: Callable[..., Any]) -> int:
    """How many cases pytest runs of ``test``: the product of its parametrize lists."""
    marks = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
    return math.prod(len(m.args[1]) for m in marks)


def examples(test: Callable[..., Any]) -> int:
    """Hypothesis examples one run of a ``@given`` test asks for (its ``max_examples``);
    0 for a plain test."""
    if getattr(test, "hypothesis", None) is None:
        return 0
    # @settings stores the settings object on the test; hypothesis reads it from there too
    return int(test._hypothesis_internal_use_settings.max_examples)


@dataclass(frozen=True)
class Row:
    """One row: the table label it starts with, the tests behind it, its count text."""

    label: str
    module: str
    tests: tuple[str, ...]
    count: Callable[[ModuleType, list[Callable[..., Any]]], str]


def _plain(tests: list[Callable[..., Any]]) -> int:
    return sum(cases(t) for t in tests if not examples(t))


def _fuzzed(tests: list[Callable[..., Any]]) -> int:
    return sum(examples(t) * cases(t) for t in tests)


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _soak_benchmark() -> int:
    import json

    record = json.loads((ROOT / "bench" / "results" / "bench_soak.json").read_text())
    return int(record["summary"]["episodes"])


ROWS = (
    Row("SIGKILL while saving", "test_rel_kill",
        ("test_sigkill_during_saves_loses_nothing_acknowledged",),
        lambda m, t: f"{m.STORE_KILLS} kills"),
    Row("SIGKILL of a running agent", "test_rel_kill",
        ("test_killed_run_resumes_without_duplicates",),
        lambda m, t: f"{m.RUN_KILLS} kills, {m.RUN_EPISODES} episodes"),
    Row("SIGKILL of `memplay run`", "test_rel_kill",
        ("test_cli_run_killed_twice_then_rerun_finishes_once",),
        lambda m, t: f"{m.CLI_KILLS} kills, {_n(m.CLI_EPOCHS * m.CLI_TASKS)} episodes"),
    Row("second writer", "test_rel_kill",
        ("test_second_writer_is_refused_while_first_holds_the_lock",
         "test_second_run_in_the_same_run_dir_is_refused_without_duplicates"),
        lambda m, t: f"{_plain(t)} scenarios"),
    Row("malformed archives", "test_rel_archive_fuzz",
        ("test_random_bytes_are_refused", "test_random_tar_members_never_escape",
         "test_mutated_members_with_good_checksums", "test_mutated_manifest",
         "test_items_rows_of_any_json", "test_step_rows_of_any_json",
         "test_valid_archive_round_trips", "test_nan_q_in_archive_names_the_line",
         "test_wrong_dimension_vectors_are_refused", "test_pickled_vectors_are_refused",
         "test_symlink_member_is_refused_and_not_followed",
         "test_archive_cannot_point_the_embedder_at_a_local_path",
         "test_archive_reader_fuzz_for_bounded_time"),  # the loop last: not a case
        lambda m, t: f"{_n(_fuzzed(t))} hypothesis examples, {_plain(t[:-1])} cases and a "
                     f"seeded fuzz loop of {m.FUZZ_SECONDS:g} s"),
    Row("config files and mappings", "test_rel_config_fuzz",
        ("test_mappings_give_a_model_or_config_error",
         "test_yaml_text_gives_a_model_or_config_error",
         "test_python_tags_are_refused_not_executed",
         "test_known_bad_values_are_refused_with_the_field_name"),
        lambda m, t: f"{_n(_fuzzed(t))} hypothesis examples, {_plain(t)} cases"),
    Row("corrupt memory directories", "test_rel_store_files",
        ("test_untampered_corruption_fails_the_checksum",
         "test_malformed_jsonl_line_names_file_and_line", "test_nan_q_names_file_and_line",
         "test_truncated_faiss_index_is_a_clear_error", "test_index_of_wrong_dimension",
         "test_other_embedder_is_refused", "test_step_memory_bad_rows_name_the_line",
         "test_symlinked_file_in_a_memory_directory_is_refused"),
        lambda m, t: f"{_plain(t)} cases"),
    Row("manifest fields of any type", "test_rel_store_files",
        ("test_manifest_fields_of_any_type",),
        lambda m, t: f"{_n(_fuzzed(t))} hypothesis examples"),
    Row("memory and playbook text in prompts", "test_rel_prompt_data",
        ("test_injected_text_is_bounded", "test_blocks_are_delimited",
         "test_memory_text_cannot_forge_structure"),
        lambda m, t: f"{_n(_fuzzed(t))} hypothesis examples, {_plain(t)} case"),
    Row("LLM faults injected mid-run", "test_rel_faults",
        ("test_llm_exceptions_mid_run_error_only_their_episodes",
         "test_non_memplay_backend_exception_is_isolated", "test_llm_fault_total_is_in_metrics",
         "test_garbage_or_empty_generations_do_not_break_the_run",
         "test_non_finite_scores_are_llm_faults_not_crashes",
         "test_a_backend_that_never_scores_finitely_stops_the_run"),
        lambda m, t: f"{_plain(t)} cases"),
    Row("environment exceptions", "test_rel_faults",
        ("test_env_faults_in_reset_and_step_are_isolated_and_env_recreated",),
        lambda m, t: f"{_plain(t)} run of {m.EPOCHS * m.TASKS} episodes, "
                     f"{m.ENV_FAULT_RATE:.0%} of calls raise"),
    Row("soak", "test_rel_soak", ("test_short_soak_stays_bounded",),
        lambda m, t: f"CI: {_n(m.SOAK_EPISODES)} episodes; benchmark: "
                     f"{_n(_soak_benchmark())}"),
)


def counts() -> dict[str, str]:
    """Row label -> the count the page must show."""
    out = {}
    for row in ROWS:
        module = load(row.module)
        out[row.label] = row.count(module, [getattr(module, name) for name in row.tests])
    return out


def unassigned() -> list[str]:
    """``file::test`` of every reliability test that backs no row (this check's own aside)."""
    claimed = {(row.module, name) for row in ROWS for name in row.tests}
    missing = []
    for path in sorted(HERE.glob("test_rel_*.py")):
        if path.stem == "test_rel_readme_counts":
            continue
        module = load(path.stem)
        missing += [f"{path.name}::{name}" for name in vars(module)
                    if name.startswith("test_") and (path.stem, name) not in claimed]
    return missing


if __name__ == "__main__":
    for label, count in counts().items():
        print(f"{label}: {count}")
