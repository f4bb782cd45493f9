"""No import cycles between k8stop's modules: the layers import one way (tui -> widgets ->
queries), and inside a layer no two modules need each other, not even for type hints."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"queries": "k8stop.queries", "widgets": "k8stop.widgets", "tui": "k8stop.tui"}


def modules() -> dict[str, Path]:
    found = {}
    for folder, package in LAYERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the k8stop modules it imports anywhere (top level, in functions, under TYPE_CHECKING)."""
    known = modules()
    graph = {}
    for name, path in known.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
        graph[name] = {t for t in targets if t in known and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 90 and "k8stop.tui.app" in graph["k8stop.tui.replay_app"]  # the graph is real
    assert cycles(graph) == []


def test_layers_import_downwards_only() -> None:
    for name, targets in import_graph().items():
        if name.startswith("k8stop.queries."):
            assert not {t for t in targets if not t.startswith("k8stop.queries.")}, name
        if name.startswith("k8stop.widgets."):
            assert not {t for t in targets if t.startswith("k8stop.tui.")}, name


def test_every_module_imports_on_its_own() -> None:
    """Each module first in a clean k8stop namespace: an order-dependent import would fail here."""
    script = (
        "import importlib, sys\n"
        f"for name in {sorted(modules())!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('k8stop.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_first_frame_needs_no_http_client() -> None:
    """The dashboard draws before any feed starts: what it imports for that first frame, and the
    kubeconfig check the CLI makes before it, must not pull in aiohttp or the kubernetes client
    (together ~300 ms of imports on this machine)."""
    script = (
        "import sys\n"
        "import k8stop.tui.cli, k8stop.tui.live_command, k8stop.tui.app, k8stop.tui.contexts\n"
        "from k8stop.queries.config import Settings\n"
        "k8stop.tui.contexts.check_kubeconfig(Settings(kubeconfig='/nonexistent'))\n"
        "print(sorted(m for m in ('aiohttp', 'kubernetes') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
