"""The package import graph of `app/`: which package imports which, and any cycle among them.

`python -m tools.import_graph` prints one line per package, in layer order from the top, with the
packages it imports, then the cycles (none, if the layers contract holds). Read with grimp, the
library import-linter uses, so it sees what the contract sees.
"""

from __future__ import annotations

import sys
from collections import defaultdict

import grimp

ROOT = "app"


def package_graph(root: str = ROOT) -> dict[str, set[str]]:
    """Each package (or top-level module) of `root` -> the ones it imports, itself excluded."""
    graph = grimp.build_graph(root)
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.modules:
        source = _package(module)
        if source is None:
            continue
        edges[source]
        for imported in graph.find_modules_directly_imported_by(module):
            target = _package(imported)
            if target is not None and target != source:
                edges[source].add(target)
    return dict(edges)


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == ROOT and len(parts) > 1 else None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one package (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _depth(edges: dict[str, set[str]]) -> dict[str, int]:
    """How far above the bottom each package sits: 0 imports nothing of `app`."""
    depth: dict[str, int] = {}

    def of(node: str, seen: frozenset[str]) -> int:
        if node not in depth:
            below = [of(t, seen | {node}) for t in edges.get(node, ()) if t not in seen]
            depth[node] = 1 + max(below, default=-1)
        return depth[node]

    for node in edges:
        of(node, frozenset())
    return depth


def main() -> int:
    edges = package_graph()
    depth = _depth(edges)
    for package in sorted(edges, key=lambda p: (-depth[p], p)):
        imported = ", ".join(sorted(edges[package])) or "-"
        print(f"{package:<15} -> {imported}")
    found = cycles(edges)
    print(f"\n{len(edges)} packages, {sum(len(t) for t in edges.values())} imports between them")
    if found:
        for component in found:
            print("cycle: " + " <-> ".join(component))
        return 1
    print("no import cycle between packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
