"""LambdaFunction's recursive loop detection and SnapStart: each variant, the others at defaults."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match

from constructs_lib import ConstructPropsError, LambdaDeployment
from tests.constructs import (
    cfn_lint_findings,
    findings_in,
    inline_function,
    unjustified_acknowledgments,
)
from tests.support import ENV, Synthesized, nag_app, synthesize

STACKS = ("Defaults", "AllowLoop", "SnapStart", "SnapStartReleased")


@pytest.fixture(scope="module")
def stacks() -> dict[str, cdk.Stack]:
    app = nag_app()
    built = {name: cdk.Stack(app, name, env=ENV) for name in STACKS}
    inline_function(built["Defaults"], "Api")
    inline_function(built["AllowLoop"], "Api", recursive_loop=lambda_.RecursiveLoop.ALLOW)
    inline_function(built["SnapStart"], "Api", snap_start=True, alias_name="live")
    inline_function(
        built["SnapStartReleased"],
        "Api",
        snap_start=True,
        alias_name="live",
        deployment=LambdaDeployment(),
    )
    return built


@pytest.fixture(scope="module")
def synth(stacks: dict[str, cdk.Stack]) -> Synthesized:
    return synthesize(next(iter(stacks.values())).node.root)  # type: ignore[arg-type]


def test_recursive_loop_detection_is_written_into_the_template(synth: Synthesized) -> None:
    synth.template("Defaults").has_resource_properties(
        "AWS::Lambda::Function", {"RecursiveLoop": "Terminate"}
    )


def test_recursive_loops_can_be_allowed(synth: Synthesized) -> None:
    synth.template("AllowLoop").has_resource_properties(
        "AWS::Lambda::Function", {"RecursiveLoop": "Allow"}
    )


def test_snap_start_is_off_by_default(synth: Synthesized) -> None:
    synth.template("Defaults").has_resource_properties(
        "AWS::Lambda::Function", {"SnapStart": Match.absent()}
    )


@pytest.mark.parametrize("stack", ["SnapStart", "SnapStartReleased"])
def test_snap_start_applies_to_the_published_versions_behind_the_alias(
    synth: Synthesized, stack: str
) -> None:
    template = synth.template(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"SnapStart": {"ApplyOn": "PublishedVersions"}, "RecursiveLoop": "Terminate"},
    )
    template.resource_count_is("AWS::Lambda::Version", 1)
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {
            "Name": "live",
            "FunctionVersion": {
                "Fn::GetAtt": [Match.string_like_regexp("^ApiFunctionCurrentVersion"), "Version"]
            },
            "ProvisionedConcurrencyConfig": Match.absent(),
        },
    )


def test_snap_start_answers_aws_cdks_published_version_warning(
    stacks: dict[str, cdk.Stack], synth: Synthesized
) -> None:
    # aws-cdk warns that SnapStart needs published versions; the alias guarantees one.
    for name in ("SnapStart", "SnapStartReleased"):
        warnings = Annotations.from_stack(stacks[name]).find_warning(
            "*", Match.string_like_regexp("SnapStart")
        )
        assert warnings == []


@pytest.mark.parametrize("stack", STACKS)
def test_each_variant_leaves_no_open_finding(synth: Synthesized, stack: str) -> None:
    assert findings_in(synth, stack) == []


def test_variants_acknowledge_only_with_granular_reasons(synth: Synthesized) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_variants_are_cfn_lint_clean(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []


@pytest.mark.parametrize(
    ("props", "prop", "message"),
    [
        ({"snap_start": True}, "snap_start", "allowed only together with alias_name"),
        (
            {"snap_start": True, "alias_name": "live", "provisioned_concurrent_executions": 2},
            "snap_start",
            "does not combine SnapStart with provisioned concurrency",
        ),
        (
            {"snap_start": True, "alias_name": "live", "runtime": lambda_.Runtime.PYTHON_3_11},
            "snap_start",
            "not python3.11",
        ),
        (
            {
                "snap_start": True,
                "alias_name": "live",
                "runtime": lambda_.Runtime.PROVIDED_AL2023,
                "powertools_layer": False,
            },
            "snap_start",
            "not provided.al2023",
        ),
        ({"snap_start": "yes"}, "snap_start", "allowed: True or False"),
        ({"recursive_loop": "TERMINATE"}, "recursive_loop", "RecursiveLoop.TERMINATE or"),
    ],
)
def test_refused_settings_name_the_construct_the_prop_and_what_is_allowed(
    props: dict[str, Any], prop: str, message: str
) -> None:
    stack = cdk.Stack(cdk.App(), "Refused", env=ENV)
    with pytest.raises(ConstructPropsError, match=f"Refused/Api: {prop}=") as error:
        inline_function(stack, "Api", **props)
    assert message in str(error.value)
