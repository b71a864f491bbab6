"""The code's shape: packages that depend downwards only, and files and functions a reader takes
in at once. `lint-imports` (in `make test`) enforces the layer order itself; these tests check
what it implies, with the same tools a developer runs by hand (`python -m tools.import_graph`,
`python -m tools.code_size`)."""

from __future__ import annotations

from tools import code_size, import_graph


def test_no_import_cycle_between_packages():
    edges = import_graph.package_graph()
    assert {"core", "rules", "claims", "payments", "coverage"} <= set(edges)
    assert import_graph.cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_graph.cycles(edges) == [["a", "b", "c"]]


def test_core_and_the_rules_import_no_feature():
    edges = import_graph.package_graph()
    assert edges["core"] == set()
    assert edges["rules"] == set()


def test_no_file_or_function_is_too_long():
    assert code_size.too_long() == []
