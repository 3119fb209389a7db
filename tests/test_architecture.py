"""Package boundaries: ``cli`` (the command line) > ``app`` (the window) > ``core`` (Qt-free).

* the import-linter contracts in pyproject.toml hold (core imports neither app nor cli nor Qt; app does not
  import cli; the layers cli > app > core);
* app uses no ``_private`` name of core (read from the source: imports and attributes of imported core modules);
* no import cycle among core modules (module-level and function-level imports alike).

The last two read the source with ``ast``; nothing is imported.
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

CORE, APP = ROOT / "core", ROOT / "app"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether the dotted name is a module or package of this repository."""
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(path: Path):
    """(node, target module, imported names) for every import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node, target, [a.name for a in node.names]


def sources(folder: Path):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


# -- import-linter -----------------------------------------------------------------------------------------------
def test_import_linter_contracts_are_kept():
    # in its own process: import-linter's console output must not meet the streams earlier tests replaced
    import shutil
    import subprocess
    import sys
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    proc = subprocess.run(cmd + ["--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for contract in ("core is Qt-free and imports neither app nor cli", "app does not import cli",
                     "layers: cli above app above core"):
        assert f"{contract} KEPT" in out, out


# -- private names -----------------------------------------------------------------------------------------------
def private_core_uses(path: Path):
    """'app/x.py:12 _name from core.y' for each private core name the file imports or reads off a core module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    where = path.relative_to(ROOT)
    found, modules = [], {}   # modules: local name -> the core module it is bound to
    for node, target, names in imports(path):
        if target.split(".")[0] != "core":
            continue
        for part in target.split(".")[1:]:
            if private(part):
                found.append(f"{where}:{node.lineno} module {target}")
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    modules[alias.asname] = alias.name
            continue
        for alias in node.names:
            if private(alias.name):
                found.append(f"{where}:{node.lineno} {alias.name} from {target}")
            elif is_module(f"{target}.{alias.name}"):
                modules[alias.asname or alias.name] = f"{target}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            chain, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and (value.id in modules or value.id == "core"):
                base = modules.get(value.id, "core")
                dotted = ".".join([base] + chain[::-1][:-1])
                if is_module(dotted) or dotted == base:
                    found.append(f"{where}:{node.lineno} {node.attr} from {dotted}")
    return found


def test_app_uses_no_private_core_name():
    found = [use for path in sources(APP) for use in private_core_uses(path)]
    assert not found, "app uses private core names (make them public or move the code):\n" + "\n".join(found)


# -- cycles ------------------------------------------------------------------------------------------------------
def core_import_graph():
    """{core module: core modules it imports}, at any level of the file. ``from core.x import y`` counts as an
    import of ``core.x`` (and of ``core.x.y`` when that is a module); a package importing its own children (its
    ``__init__`` re-exporting them) does not count."""
    mods = {module_name(p) for p in sources(CORE)}
    graph = {m: set() for m in mods}
    for path in sources(CORE):
        me = module_name(path)
        for _node, target, names in imports(path):
            for t in [target] + [f"{target}.{n}" for n in names]:
                if t in mods and t != me and t.rpartition(".")[0] != me:
                    graph[me].add(t)
    return graph


def cycles(graph):
    """The strongly connected components with more than one module (Tarjan, without recursion)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_core_modules():
    found = cycles(core_import_graph())
    assert not found, "import cycles among core modules:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_core_imports_neither_app_nor_cli_nor_qt():
    banned = {"app", "cli", "PySide6", "pyqtgraph", "shiboken6"}
    found = [f"{p.relative_to(ROOT)}:{node.lineno} imports {target}" for p in sources(CORE)
             for node, target, _names in imports(p) if target.split(".")[0] in banned]
    assert not found, "\n".join(found)
