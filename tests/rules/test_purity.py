"""The rules core is pure: it imports the standard library and itself, nothing else.

No web framework, no database, no HTTP client, no settings, no clock: dates and plans are
arguments. (import-linter checks the same in `make test`; this test keeps it in the suite.)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import app.rules

RULES = Path(app.rules.__file__).parent
# Standard-library modules that read the outside world: the core takes such things as arguments.
IMPURE_STDLIB = {
    "os",
    "socket",
    "subprocess",
    "time",
    "random",
    "urllib",
    "http",
    "sqlite3",
    "io",
    "pathlib",
    "shutil",
    "tempfile",
    "logging",
    "asyncio",
    "threading",
}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_rules_core_imports_only_the_standard_library_and_itself():
    files = sorted(RULES.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                module.startswith("app.rules")
                or (top in sys.stdlib_module_names and top not in IMPURE_STDLIB)
                or top == "__future__"
            )
            assert allowed, f"{path.relative_to(RULES.parent.parent)} imports {module}"


def test_the_rules_core_never_reads_the_clock_or_files():
    for path in RULES.rglob("*.py"):
        calls = {
            node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
        }
        reads = calls & {"now", "today", "utcnow", "time", "open", "read_text", "getenv"}
        assert not reads, f"{path.name} calls {sorted(reads)}"
