"""The package keeps one room per concern: no import cycles, no giant class, no giant function.

Read from the source (AST), so a cycle hidden in a function-level import counts too: it is still a
cycle a newcomer has to hold in their head, and it breaks the day someone moves the import up.

How edges are counted (decided for issue 21):

* every ``import``/``from ... import`` anywhere in a module is an edge, function bodies included;
* ``from P import name`` is an edge to ``P.name`` when that is a module, else to ``P``; ``from . import sub``
  inside ``P`` needs only the submodule (``P`` is already being imported), so it is no edge to ``P``;
* the lazy re-exports in ``tui_trainer/__init__.py`` (``__getattr__``, so ``from tui_trainer import Monitor``
  works without importing TensorFlow) are no edges: they run only when a user asks for the name, after the
  package is fully imported, and nothing inside the package goes through them;
* imports under ``if TYPE_CHECKING:`` are no edges: they never run (annotations only);
* a package and its own submodules (``datasets`` and ``datasets.registry``) may import each other: the
  package's ``__init__`` is their table of contents.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tui_trainer"
MAX_CLASS_LINES = 300
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


def _imports_in(node: ast.AST) -> set[int]:
    return {n.lineno for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))}


def _not_edges(tree: ast.Module, is_root: bool) -> set[int]:
    """Line numbers of the imports that never run with the module: under ``if TYPE_CHECKING:``, and the
    root package's lazy re-exports (its module-level ``__getattr__``)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            lines |= set().union(*(_imports_in(n) for n in node.body))
    for node in tree.body if is_root else ():
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            lines |= _imports_in(node)
    return lines


def _targets(node: ast.AST, module: str, is_package: bool, mods: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in mods}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    out = set()
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        if sub in mods:
            out.add(sub)
            if not module.startswith(source + "."):  # not an ancestor: importing P.sub runs P's __init__ too
                out.add(source)
        elif source in mods:
            out.add(source)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports, anywhere in its body."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        skip = _not_edges(tree, is_root=name == "tui_trainer")
        edges = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) not in skip:
                edges |= _targets(node, name, is_package, mods)
        # a package and its own submodules may import each other (its __init__ is their table of contents)
        graph[name] = {t for t in edges if t != name and not _same_package(name, t, mods)}
    return graph


def _same_package(a: str, b: str, mods: dict[str, Path]) -> bool:
    def package_of(m: str) -> str:
        return m if mods[m].name == "__init__.py" else m.rsplit(".", 1)[0]

    pa, pb = package_of(a), package_of(b)
    return pa == pb and pa != "tui_trainer"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def _sizes(kind: type) -> list[tuple[str, int]]:
    out = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, kind):
                out.append((f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}",
                            node.end_lineno - node.lineno + 1))
    return out


def test_the_cycle_finder_finds_a_function_level_cycle():
    # the checker itself: a cycle through an import inside a function is found, a chain is not
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("def f():\n    from .b import x\n")
    mods = {"p": Path("p/__init__.py"), "p.a": Path("p/a.py"), "p.b": Path("p/b.py")}
    assert set().union(*(_targets(n, "p.a", False, mods) for n in ast.walk(tree))) == {"p.b"}
    typing_only = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import x\n")
    assert _not_edges(typing_only, is_root=False) == {3}


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles (function-level imports count): " + "; ".join(" <-> ".join(c) for c in found)


def test_no_class_over_300_lines():
    big = [f"{where} ({n} lines)" for where, n in _sizes(ast.ClassDef) if n > MAX_CLASS_LINES]
    assert not big, f"classes over {MAX_CLASS_LINES} lines: " + "; ".join(big)


def test_no_function_over_80_lines():
    big = [f"{where} ({n} lines)" for where, n in _sizes((ast.FunctionDef, ast.AsyncFunctionDef))
           if n > MAX_FUNCTION_LINES]
    assert not big, f"functions over {MAX_FUNCTION_LINES} lines: " + "; ".join(big)
