"""The package's shape: a domain is data, no import circles, all errors in one module.

* No code line in ``toolkit/`` names a table, field or pack of a shipped domain (docstrings and comments
  may use them as examples): everything domain-specific comes from the pack.
* No function below the command line defaults its domain to a shipped pack.
* Importing modules of ``toolkit/`` never goes round in a circle (imports under ``if TYPE_CHECKING:`` are
  annotations only and do not count).
* Exception classes live in ``toolkit/errors.py``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from toolkit.domain import EXPECTATIONS_DIR, load_domain

ROOT = Path(__file__).resolve().parent.parent / "toolkit"
SOURCES = sorted(p for p in ROOT.rglob("*.py"))
PACKS = sorted(p.name for p in EXPECTATIONS_DIR.iterdir() if (p / "domain.yaml").exists())


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    lines.update(range(body[0].lineno, body[0].end_lineno + 1))
        # attribute docstrings (a string expression statement after an assignment)
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _code_tokens(path: Path):
    text = path.read_text(encoding="utf-8")
    skip = _docstring_lines(ast.parse(text))
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NAME, tokenize.STRING) and tok.start[0] not in skip:
            yield tok


@pytest.mark.parametrize("pack", PACKS)
def test_no_code_line_names_a_shipped_domains_tables_or_fields(pack):
    dom = load_domain(pack)
    tables = set(dom.tables)
    fields = {f for t in dom.tables.values() for f in t["fields"] if len(f) >= 3}
    word = re.compile(
        r"\b(" + "|".join(sorted(map(re.escape, fields | tables), key=len, reverse=True)) + r")\b"
    )
    found = []
    for path in SOURCES:
        for tok in _code_tokens(path):
            if tok.type == tokenize.NAME and tok.string in fields | tables:
                found.append(f"{path.relative_to(ROOT)}:{tok.start[0]} {tok.string}")
            elif tok.type == tokenize.STRING and (m := word.search(tok.string)):
                found.append(f"{path.relative_to(ROOT)}:{tok.start[0]} {m.group(0)}")
    assert found == []


def test_no_domain_defaults_to_a_shipped_pack():
    offenders = []
    for path in SOURCES:
        if path.name in (
            "cli.py",
            "clean_cli.py",
            "demo.py",
            "ledger_cli.py",
        ):  # the command line may default; nothing below
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args
                pairs = list(
                    zip(args.args[len(args.args) - len(args.defaults) :], args.defaults, strict=True)
                )
                pairs += [
                    (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
                ]
                for a, d in pairs:
                    if isinstance(d, ast.Constant) and d.value in PACKS:
                        offenders.append(
                            f"{path.relative_to(ROOT)}:{node.lineno} {node.name}({a.arg}={d.value!r})"
                        )
    assert offenders == []


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in ast.walk(node):
                typing_only.add(id(child))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("toolkit"):
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("toolkit")]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                out.add(name)
                break
    return out


def test_no_import_circles():
    modules = {}
    for p in SOURCES:
        name = ".".join(p.relative_to(ROOT.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = p
    graph = {
        m: {
            d
            for d in _imports(p, modules)
            if d != m and not d.startswith(m + ".") and not m.startswith(d + ".")
        }
        for m, p in modules.items()
    }
    state: dict[str, int] = {}
    circles = []

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                circles.append([*trail[trail.index(d) :], d] if d in trail else [m, d])
            elif d not in state:
                visit(d, [*trail, d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert circles == []


def test_exception_classes_live_in_errors_py():
    stray = []
    for path in SOURCES:
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {ast.unparse(b) for b in node.bases}
                if any(b.endswith(("Error", "Exception", "Warning")) for b in bases):
                    stray.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert stray == []
