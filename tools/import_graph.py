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
    """Groups of packages that reach one another by imports (a cycle), each sorted."""
    reach = {node: _reachable(edges, node) for node in edges}
    found: list[list[str]] = []
    seen: set[str] = set()
    for node in sorted(edges):
        if node in seen:
            continue
        group = sorted(other for other in reach[node] if node in reach.get(other, set()))
        if len(group) > 1:
            found.append(group)
            seen.update(group)
    return found


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    """Every package `start` imports, directly or through others (itself only via a cycle)."""
    found: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo.extend(edges.get(node, ()))
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
