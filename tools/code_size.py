"""Files and functions of `app/` that have grown past what a reader takes in at once.

`python -m tools.code_size` prints the largest file and the longest function, and every file
over `MAX_FILE_LINES` or function over `MAX_FUNCTION_LINES` (exit 1 if any). When a module grows,
split it by use case; when a function grows, by step.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
APP = Path(__file__).resolve().parent.parent / "app"


@dataclass(frozen=True, order=True)
class Measure:
    lines: int
    where: str


def files(root: Path = APP) -> list[Measure]:
    return sorted(
        Measure(len(path.read_text(encoding="utf-8").splitlines()), str(path.relative_to(root)))
        for path in root.rglob("*.py")
    )


def functions(root: Path = APP) -> list[Measure]:
    found = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                where = f"{path.relative_to(root)}:{node.lineno} {node.name}"
                found.append(Measure(node.end_lineno - node.lineno + 1, where))
    return sorted(found)


def too_long() -> list[str]:
    return [f"file {m.where}: {m.lines} lines" for m in files() if m.lines > MAX_FILE_LINES] + [
        f"function {m.where}: {m.lines} lines" for m in functions() if m.lines > MAX_FUNCTION_LINES
    ]


def main() -> int:
    largest, longest = files()[-1], functions()[-1]
    print(f"largest file: {largest.where}, {largest.lines} lines (at most {MAX_FILE_LINES})")
    print(
        f"longest function: {longest.where}, {longest.lines} lines (at most {MAX_FUNCTION_LINES})"
    )
    problems = too_long()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
