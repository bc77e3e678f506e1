"""The emulator's two packages: no import cycle, the client never imports the patches, and
the patches refuse a moto version they were not written against."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import emulator
from emulator.patches import glue
from emulator.patches.moto_version import PINNED, MotoVersionError, check

PACKAGE = Path(emulator.__file__).parent


def _imports() -> dict[str, set[str]]:
    """Each module of the emulator -> the emulator modules it imports (anywhere in it)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        graph[module] = {name for name in names if name.startswith("emulator")}
    return {m: {n for n in names if n in graph and n != m} for m, names in graph.items()}


def test_no_module_of_the_emulator_is_in_an_import_cycle() -> None:
    graph = _imports()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in graph[start]
        )

    in_cycles = sorted(m for m in graph if reaches(m, m, {m}))
    assert in_cycles == []
    assert "emulator.patches.rest_api" in graph["emulator.patches.glue"]  # the graph is real


def test_the_client_imports_no_patch_and_the_patches_import_no_client_module() -> None:
    graph = _imports()
    client = {m for m in graph if not m.startswith("emulator.patches")} - {"emulator.protocol"}

    assert {m: graph[m] for m in client if any("patches" in n for n in graph[m])} == {}
    assert {m: graph[m] & client for m in graph if m.startswith("emulator.patches.")} == {
        m: set() for m in graph if m.startswith("emulator.patches.")
    }


def test_every_module_imports() -> None:
    names = [info.name for info in pkgutil.walk_packages([str(PACKAGE)], "emulator.")]
    for name in names:
        importlib.import_module(name)
    assert "emulator.patches.lambda_versions" in names


def test_the_pinned_moto_is_the_installed_one() -> None:
    import moto

    check(moto.__version__)
    assert moto.__version__ == PINNED


def test_another_moto_version_is_refused_before_anything_is_patched() -> None:
    with pytest.raises(MotoVersionError) as refused:
        check("5.3.0")

    assert "moto 5.2.5" in str(refused.value) and "moto 5.3.0" in str(refused.value)
    assert "moto[server]==5.2.5" in str(refused.value)


def test_install_checks_the_version_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto

    monkeypatch.setattr(moto, "__version__", "4.0.0")
    with pytest.raises(MotoVersionError, match=r"moto 4\.0\.0 is installed"):
        glue.install("http://127.0.0.1:1", 1, "us-east-1", "/nonexistent", "python")
