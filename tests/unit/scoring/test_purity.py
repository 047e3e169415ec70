"""scoring/ stays pure: no bot, database or network imports; files are read only by
the rubric loader."""

from __future__ import annotations

import ast
from pathlib import Path

import scoring

PACKAGE = Path(scoring.__file__).parent
FORBIDDEN = {
    "aiogram",
    "sqlalchemy",
    "sqlmodel",
    "bot",
    "handlers",
    "socket",
    "urllib",
    "http",
    "requests",
    "aiohttp",
    "asyncio",
    "subprocess",
    "sqlite3",
    "random",
    "time",
}
ALLOWED_IO = {"rubric.py"}  # the loader reads rubric files, nothing else does I/O


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_there_are_modules_to_check():
    assert len(modules()) >= 8


def test_no_forbidden_imports():
    for path in modules():
        found = imported(ast.parse(path.read_text(encoding="utf-8"))) & FORBIDDEN
        assert not found, f"{path.name} imports {found}"


def test_only_the_loader_opens_files():
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
        }
        io = calls & {"open", "read_text", "read_bytes", "write_text", "write_bytes", "urlopen"}
        if path.name not in ALLOWED_IO:
            assert not io, f"{path.name} does I/O: {io}"


def test_no_clock_or_randomness():
    # Scores must be deterministic: nothing reads the clock or a random source.
    for path in modules():
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now", "date.today", "time.time", "random."):
            assert needle not in text, f"{path.name} uses {needle}"
