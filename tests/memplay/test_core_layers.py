"""The package imports downward only, and no two modules import each other in a circle.

Layers, lowest first (README "The parts" names them):

    core         memplay.errors, .types, .config, .demos, .registry, ._lazy, ._version
    environments memplay.environments
    llm          memplay.agents.llm       (protocol + backends; imports only core)
    memory       memplay.memory
    trainers     memplay.trainers
    agents       memplay.agents           (graphs, nodes, policy, runner, critique search)
    app          memplay, memplay.cli, memplay.commands (the command line and public facade)

A module may import its own layer and any layer below it. Imports inside functions count:
a lazy import is still a dependency, and a cycle through one is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"memplay": "memplay", "agents": "memplay.agents", "memory": "memplay.memory",
           "trainers": "memplay.trainers", "environments": "memplay.environments"}
LAYERS = ["core", "environments", "llm", "memory", "trainers", "agents", "app"]
CORE = {"memplay.errors", "memplay.types", "memplay.config", "memplay.demos", "memplay._lazy",
        "memplay._version", "memplay.registry", "memplay._atomic"}


def layer_of(module: str) -> str:
    """The layer a module belongs to (see the module docstring).

    >>> layer_of("memplay.agents.llm.base"), layer_of("memplay.agents.nodes")
    ('llm', 'agents')
    """
    if module in CORE:
        return "core"
    for prefix, layer in (("memplay.agents.llm", "llm"), ("memplay.environments", "environments"),
                          ("memplay.memory", "memory"), ("memplay.trainers", "trainers"),
                          ("memplay.agents", "agents")):
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return "app"


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
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
def graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for module, path in modules.items():
        for target in _imports(path, module, set(modules)):
            g.add_edge(module, target)
    return g


def test_every_import_goes_to_the_same_or_a_lower_layer(graph: nx.DiGraph) -> None:
    upward = [f"{a} ({layer_of(a)}) imports {b} ({layer_of(b)})" for a, b in graph.edges
              if LAYERS.index(layer_of(b)) > LAYERS.index(layer_of(a))]
    assert not upward, "\n".join(sorted(upward))


def test_no_import_cycle_between_modules(graph: nx.DiGraph) -> None:
    # A package's __init__ re-exporting its own modules is not a cycle of concepts.
    edges = [(a, b) for a, b in graph.edges if not b.startswith(a + ".")]
    cycles = [sorted(c) for c in nx.strongly_connected_components(nx.DiGraph(edges))
              if len(c) > 1]
    assert not cycles, cycles


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from memplay.agents import nodes\n", encoding="utf-8")
    found = _imports(source, "memplay.memory.mod", {"memplay.agents", "memplay.agents.nodes"})
    assert found == {"memplay.agents", "memplay.agents.nodes"}
    assert layer_of("memplay.memory.mod") == "memory" and layer_of("memplay.cli") == "app"
