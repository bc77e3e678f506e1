"""The benchmark's hand-written baseline describes the same resources as OrdersSample.

bench/run.py reports OrdersSample's synthesis cost as a ratio to BaselineOrders; the ratio
means something only while both stacks hold the same resources. Both are synthesized
once, in one app, without cdk-nag and without aws-cdk's built-in validation.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from bench import baseline_stack
from bench.baseline_stack import BaselineOrders
from orders_sample import stack as sample_stack
from orders_sample.stack import OrdersSample
from tests.support import scratch_dir

ENV = cdk.Environment(account="111122223333", region="us-east-1")

#: Resource types whose counts may differ: type -> (sample count - baseline count, reason).
#: Empty: every difference so far could be removed from the baseline.
ALLOWED_DIFFERENCES: dict[str, tuple[int, str]] = {}


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    app = cdk.App(
        outdir=scratch_dir("cdkout-bench-"),
        builtin_cloud_formation_validation=False,
        analytics_reporting=False,
    )
    OrdersSample(app, "OrdersSample", env=ENV)
    BaselineOrders(app, "BaselineOrders", env=ENV)
    assembly = app.synth()
    return {
        name: assembly.get_stack_by_name(name).template
        for name in ("OrdersSample", "BaselineOrders")
    }


def resource_counts(template: dict[str, Any]) -> Counter[str]:
    return Counter(resource["Type"] for resource in template["Resources"].values())


def test_baseline_has_the_sample_resource_types_and_counts(
    templates: dict[str, dict[str, Any]],
) -> None:
    sample = resource_counts(templates["OrdersSample"])
    baseline = resource_counts(templates["BaselineOrders"])
    differences = {
        resource_type: sample[resource_type] - baseline[resource_type]
        for resource_type in sample.keys() | baseline.keys()
        if sample[resource_type] != baseline[resource_type]
    }
    allowed = {resource_type: delta for resource_type, (delta, _) in ALLOWED_DIFFERENCES.items()}
    assert differences == allowed, (
        "OrdersSample minus BaselineOrders, per resource type; update bench/baseline_stack.py "
        "so that both stacks describe the same resources"
    )


def test_baseline_functions_have_the_sample_settings(
    templates: dict[str, dict[str, Any]],
) -> None:
    def settings(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            properties["Handler"]: {
                "runtime": properties["Runtime"],
                "architectures": properties["Architectures"],
                "memory": properties["MemorySize"],
                "timeout": properties["Timeout"],
                "tracing": properties["TracingConfig"],
                "log_format": properties["LoggingConfig"]["LogFormat"],
                "layers": len(properties.get("Layers", [])),
                "environment": sorted(properties["Environment"]["Variables"]),
            }
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::Lambda::Function"
            for properties in [resource["Properties"]]
        }

    assert settings(templates["BaselineOrders"]) == settings(templates["OrdersSample"])


def test_baseline_packages_the_same_lambda_asset(templates: dict[str, dict[str, Any]]) -> None:
    def asset_keys(template: dict[str, Any]) -> set[str]:
        return {
            resource["Properties"]["Code"]["S3Key"]
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::Lambda::Function"
        }

    assert baseline_stack.ASSET_EXCLUDES == sample_stack.ASSET_EXCLUDES
    assert baseline_stack.LAMBDA_SRC == sample_stack.LAMBDA_SRC
    assert asset_keys(templates["BaselineOrders"]) == asset_keys(templates["OrdersSample"])


def test_baseline_imports_neither_the_library_nor_the_sample() -> None:
    tree = ast.parse(Path(baseline_stack.__file__).read_text(encoding="utf-8"))
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert imported.isdisjoint({"constructs_lib", "orders_sample"})
