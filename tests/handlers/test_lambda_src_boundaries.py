"""lambda_src holds runtime code only, loadable on Lambda with the Powertools layer."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
SOURCES = sorted(LAMBDA_SRC.rglob("*.py"))
# The Python runtime ships boto3; the Powertools layer adds pydantic and aws_xray_sdk, which
# the handlers leave out on purpose (each was a large share of a cold start).
RUNTIME_PACKAGES = {"aws_lambda_powertools", "boto3", "botocore"}
HANDLER_MODULES = ["orders.api", "orders.ingest", "orders.stream", "orders.workflow"]


def imported_top_level_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_lambda_src_holds_only_the_orders_package() -> None:
    assert {path.relative_to(LAMBDA_SRC).parts[0] for path in SOURCES} == {"orders"}
    assert not [path for path in SOURCES if path.name.startswith(("test_", "conftest"))]


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_runtime_code_imports_only_the_stdlib_the_runtime_and_the_layer(path: Path) -> None:
    third_party = imported_top_level_packages(path) - set(sys.stdlib_module_names) - {"orders"}

    assert third_party <= RUNTIME_PACKAGES


def test_handler_modules_import_without_settings_aws_access_or_the_cdk() -> None:
    # A fresh interpreter without TABLE_NAME or credentials: imports must not read settings
    # or create clients, and must not pull in the CDK.
    check = (
        f"import sys, {', '.join(HANDLER_MODULES)}; "
        "assert not {'aws_cdk', 'constructs', 'constructs_lib'} & set(sys.modules)"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(LAMBDA_SRC)}
    env.update({"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "orders"})
    subprocess.run([sys.executable, "-c", check], env=env, check=True, timeout=60)
