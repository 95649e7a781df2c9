"""The package imports downward only, folder by folder, and nothing imports in a circle.

Each top-level folder is one layer; pyproject.toml's ``package-dir`` says which package it
installs as, and LAYERS below orders the folders, lowest first (docs/ARCHITECTURE.md):

    memplay       core: errors, types, config, registry, the run directory, demo files
    environments  text environments: contract, registry, wrappers, games, executors
    llm           the LLM protocol and its backends
    memory        embedders, stores, retrieval, step memory, reflection documents
    trainers      the optional weight-update loop
    agents        graphs, nodes, policy, runner, the Agent facade
    app           the command line, its commands and the HTML report

The package root's ``memplay/__init__.py`` (the lazy public facade) and ``memplay/__main__.py``
are the app's entry points: they sit in memplay/ but count as the top layer. A module may
import its own folder and any folder below it. Imports inside functions count: a lazy import
is still a dependency, and a cycle through one is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["memplay", "environments", "llm", "memory", "trainers", "agents", "app"]
ENTRY_POINTS = {"memplay": "app", "memplay.__main__": "app"}  # module -> the folder it counts in


def package_dirs() -> dict[str, str]:
    """Top-level folder -> the package it installs as (pyproject's ``package-dir``)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {folder: package for package, folder in data["tool"]["setuptools"]["package-dir"]
            .items()}


def _modules() -> dict[str, tuple[Path, str]]:
    """Every module of the package: its file and the folder (layer) it counts in."""
    found = {}
    for folder, package in package_dirs().items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            module = ".".join((package, *parts))
            found[module] = (path, ENTRY_POINTS.get(module, folder))
    return found


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """memplay modules imported anywhere in ``path`` (resolved to a known module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1],
                                 *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if n in known and n != module}


@pytest.fixture(scope="module")
def modules() -> dict[str, tuple[Path, str]]:
    return _modules()


@pytest.fixture(scope="module")
def graph(modules: dict[str, tuple[Path, str]]) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for module, (path, _) in modules.items():
        for target in _imports(path, module, set(modules)):
            g.add_edge(module, target)
    return g


def test_every_folder_is_a_layer() -> None:
    assert sorted(package_dirs()) == sorted(LAYERS), \
        "each folder of pyproject's package-dir needs its place in LAYERS (and no other)"


def test_every_import_goes_to_the_same_or_a_lower_folder(
        graph: nx.DiGraph, modules: dict[str, tuple[Path, str]]) -> None:
    def rank(module: str) -> int:
        return LAYERS.index(modules[module][1])

    upward = [f"{a} ({modules[a][1]}/) imports {b} ({modules[b][1]}/)" for a, b in graph.edges
              if rank(b) > rank(a)]
    assert not upward, "\n".join(sorted(upward))


def test_no_import_cycle_between_modules(graph: nx.DiGraph) -> None:
    # A package's __init__ re-exporting its own modules is not a cycle of concepts.
    edges = [(a, b) for a, b in graph.edges if not b.startswith(a + ".")]
    cycles = [sorted(c) for c in nx.strongly_connected_components(nx.DiGraph(edges))
              if len(c) > 1]
    assert not cycles, cycles


def test_no_import_cycle_between_folders(graph: nx.DiGraph,
                                         modules: dict[str, tuple[Path, str]]) -> None:
    folders = nx.DiGraph((modules[a][1], modules[b][1]) for a, b in graph.edges
                         if modules[a][1] != modules[b][1])
    assert nx.is_directed_acyclic_graph(folders), list(nx.simple_cycles(folders))


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from memplay.agents import nodes\n", encoding="utf-8")
    found = _imports(source, "memplay.memory.mod", {"memplay.agents", "memplay.agents.nodes"})
    assert found == {"memplay.agents", "memplay.agents.nodes"}


def test_folders_and_entry_points_map_to_their_layers(
        modules: dict[str, tuple[Path, str]]) -> None:
    assert modules["memplay.llm.base"][1] == "llm"
    assert modules["memplay.app.cli"][1] == "app"
    assert modules["memplay.errors"][1] == "memplay"
    assert modules["memplay"][1] == modules["memplay.__main__"][1] == "app"
