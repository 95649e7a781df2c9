"""The installed llama.cpp CPU library holds no AMX tile instruction.

A llama.cpp build tuned to a CPU with AMX faults (general protection fault at ``ldtilecfg``)
on machines where AMX is off; the Makefile builds llama-cpp-python for any x86-64-v3 CPU
instead. This test keeps that build honest on machines without AMX too, where the crash
itself would never show.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

AMX = re.compile(r"\b(ldtilecfg|sttilecfg|tileloadd|tileloaddt1|tilestored|tilerelease|"
                 r"tilezero|tdpb[su][su]d|tdpbf16ps|tdpfp16ps)\b")
# ldtilecfg [rax]: the instruction the native build faulted on
LDTILECFG = bytes.fromhex("c4e2784900")

pytestmark = pytest.mark.skipif(platform.machine() not in {"x86_64", "AMD64"},
                                reason="AMX is an x86-64 extension")


def _objdump() -> str:
    found = shutil.which("objdump")
    if found is None:
        pytest.skip("objdump is not installed (Debian: binutils)")
    return found


def _amx_instructions(disassembly: str) -> set[str]:
    return set(AMX.findall(disassembly))


def _cpu_libraries() -> list[Path]:
    llama_cpp = pytest.importorskip("llama_cpp", reason="pip install 'llama-cpp-python'")
    lib = Path(llama_cpp.__file__).parent / "lib"
    found = sorted(lib.glob("libggml-cpu*.so*")) or sorted(lib.glob("lib*.so*"))
    assert found, f"no shared library under {lib}"
    return found


def test_the_detector_finds_an_amx_instruction(tmp_path: Path) -> None:
    raw = tmp_path / "amx.bin"
    raw.write_bytes(LDTILECFG)
    out = subprocess.run([_objdump(), "-D", "-b", "binary", "-m", "i386:x86-64", str(raw)],
                         capture_output=True, text=True, check=True).stdout
    assert _amx_instructions(out) == {"ldtilecfg"}


def test_installed_llama_cpp_holds_no_amx_tile_code() -> None:
    objdump = _objdump()
    for library in _cpu_libraries():
        out = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(library)],
                             capture_output=True, text=True, check=True).stdout
        found = _amx_instructions(out)
        assert not found, (f"{library.name} holds AMX tile instructions {sorted(found)}: it was "
                           "built with native CPU tuning; rebuild with `rm "
                           ".venv/.memplay-llamacpp && make setup-test`")
