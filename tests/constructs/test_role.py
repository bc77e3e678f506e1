"""LeastPrivilegeRole: no managed policy, exact statements, reasons for every '*'."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match

from constructs_lib import LambdaFunction, LeastPrivilegeRole, apply_permissions_boundary
from tests.constructs import (
    ACCOUNT,
    HANDLER,
    HANDLER_SOURCE,
    cfn_lint_findings,
    findings_in,
    only,
    ref,
    unjustified_acknowledgments,
)
from tests.support import ENV, Synthesized, nag_app, resources_of_type, synthesize

STACKS = ("Roles", "Bounded", "BoundedStack", "SharedRole")
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-events"
METRICS_REASON = "CloudWatch PutMetricData has no resource-level permissions."
BOUNDARY = "developer-boundary"


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    roles = cdk.Stack(app, "Roles", env=ENV)
    reader = LeastPrivilegeRole(roles, "Reader")
    reader.allow(["dynamodb:GetItem", "dynamodb:Query"], [TABLE_ARN])
    reader.allow(
        ["sqs:SendMessage"],
        [QUEUE_ARN],
        conditions={"Bool": {"aws:SecureTransport": "true"}},
    )
    LeastPrivilegeRole(roles, "Metrics").allow_unscoped(
        ["cloudwatch:PutMetricData"], reason=METRICS_REASON
    )
    LeastPrivilegeRole(roles, "StatesRole", assumed_by="states.amazonaws.com")
    LeastPrivilegeRole(
        roles, "CrossAccount", assumed_by=iam.AccountPrincipal("444455556666"), description="ops"
    )

    bounded = cdk.Stack(app, "Bounded", env=ENV)
    boundary = iam.ManagedPolicy.from_managed_policy_name(bounded, "Boundary", BOUNDARY)
    LeastPrivilegeRole(bounded, "Worker", permissions_boundary=boundary)
    iam.Role(bounded, "Sibling", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    LambdaFunction(bounded, "Api", code=lambda_.Code.from_inline(HANDLER_SOURCE), handler=HANDLER)

    bounded_stack = cdk.Stack(app, "BoundedStack", env=ENV)
    LeastPrivilegeRole(bounded_stack, "Worker")
    iam.Role(bounded_stack, "Sibling", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    LambdaFunction(
        bounded_stack, "Api", code=lambda_.Code.from_inline(HANDLER_SOURCE), handler=HANDLER
    )
    apply_permissions_boundary(
        bounded_stack,
        iam.ManagedPolicy.from_managed_policy_name(bounded_stack, "Boundary", BOUNDARY),
    )

    shared = cdk.Stack(app, "SharedRole", env=ENV)
    role = LeastPrivilegeRole(shared, "Publisher")
    role.allow_unscoped(["cloudwatch:PutMetricData"], reason=METRICS_REASON)
    LambdaFunction(
        shared,
        "Api",
        code=lambda_.Code.from_inline(HANDLER_SOURCE),
        handler=HANDLER,
        # The construct itself stands for its role.
        role=role,
    )

    return synthesize(app)


def roles_of(synth: Synthesized, stack: str) -> dict[str, Any]:
    return resources_of_type(synth.templates[stack], "AWS::IAM::Role")


def role_of(synth: Synthesized, stack: str, construct_id: str) -> tuple[str, dict[str, Any]]:
    return only({k: v for k, v in roles_of(synth, stack).items() if k.startswith(construct_id)})


def statements_of(synth: Synthesized, stack: str, construct_id: str) -> list[dict[str, Any]]:
    role_id, _ = role_of(synth, stack, construct_id)
    return [
        statement
        for policy in resources_of_type(synth.templates[stack], "AWS::IAM::Policy").values()
        if ref(role_id) in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def trusted(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["Principal"] for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]]


def test_role_never_has_a_managed_policy(synth: Synthesized) -> None:
    for stack in STACKS:
        for role in roles_of(synth, stack).values():
            assert "ManagedPolicyArns" not in role["Properties"]


def test_role_is_assumed_by_lambda_by_default(synth: Synthesized) -> None:
    _, role = role_of(synth, "Roles", "Reader")
    assert trusted(role) == [{"Service": "lambda.amazonaws.com"}]


def test_role_is_assumed_by_a_named_service(synth: Synthesized) -> None:
    _, role = role_of(synth, "Roles", "StatesRole")
    assert trusted(role) == [{"Service": "states.amazonaws.com"}]


def test_role_is_assumed_by_a_given_principal(synth: Synthesized) -> None:
    _, role = role_of(synth, "Roles", "CrossAccount")
    (principal,) = trusted(role)
    assert "444455556666" in str(principal["AWS"])
    assert role["Properties"]["Description"] == "ops"


def test_allow_adds_exactly_the_statements_asked_for(synth: Synthesized) -> None:
    assert statements_of(synth, "Roles", "Reader") == [
        {
            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
            "Effect": "Allow",
            "Resource": TABLE_ARN,
        },
        {
            "Action": "sqs:SendMessage",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            "Effect": "Allow",
            "Resource": QUEUE_ARN,
        },
    ]


def test_allow_returns_the_statement_it_added() -> None:
    role = LeastPrivilegeRole(cdk.Stack(cdk.App(), "S"), "Reader")
    statement = role.allow(["dynamodb:GetItem"], [TABLE_ARN])
    assert statement.actions == ["dynamodb:GetItem"]
    assert statement.resources == [TABLE_ARN]
    assert statement.effect == iam.Effect.ALLOW


def test_allow_unscoped_grants_on_star_and_records_the_reason(synth: Synthesized) -> None:
    assert statements_of(synth, "Roles", "Metrics") == [
        {"Action": "cloudwatch:PutMetricData", "Effect": "Allow", "Resource": "*"}
    ]
    recorded = [
        (entry["ruleName"], entry["reason"])
        for entry in synth.acknowledged
        if entry["acknowledgedAt"] == "Roles/Metrics/Role"
    ]
    assert recorded == [("AwsSolutions-IAM5[Resource::*]", METRICS_REASON)]


def test_allow_unscoped_reason_survives_giving_the_role_to_a_function(
    synth: Synthesized,
) -> None:
    reasons = [
        entry["reason"]
        for entry in synth.acknowledged
        if entry["acknowledgedAt"] == "SharedRole/Publisher/Role"
        and entry["ruleName"] == "AwsSolutions-IAM5[Resource::*]"
    ]
    assert reasons
    assert all(METRICS_REASON in reason for reason in reasons), reasons


BOUNDARY_ARN = Match.object_like(
    {"Fn::Join": ["", Match.array_with([f":iam::{ACCOUNT}:policy/{BOUNDARY}"])]}
)


def test_permissions_boundary_prop_bounds_that_role_only(synth: Synthesized) -> None:
    template = synth.template("Bounded")
    bounded = template.find_resources(
        "AWS::IAM::Role", {"Properties": {"PermissionsBoundary": BOUNDARY_ARN}}
    )
    assert [logical_id for logical_id in bounded] == [role_of(synth, "Bounded", "Worker")[0]]
    template.resource_count_is("AWS::IAM::Role", 3)


def test_apply_permissions_boundary_bounds_every_role_under_the_scope(synth: Synthesized) -> None:
    template = synth.template("BoundedStack")
    template.resource_count_is("AWS::IAM::Role", 3)  # Worker, Sibling, the function's role
    template.all_resources_properties("AWS::IAM::Role", {"PermissionsBoundary": BOUNDARY_ARN})


def test_permissions_boundary_stays_within_its_scope(synth: Synthesized) -> None:
    synth.template("Roles").all_resources_properties(
        "AWS::IAM::Role", {"PermissionsBoundary": Match.absent()}
    )


def test_function_takes_a_least_privilege_role_as_its_role(synth: Synthesized) -> None:
    role_id, _ = role_of(synth, "SharedRole", "Publisher")
    synth.template("SharedRole").has_resource_properties(
        "AWS::Lambda::Function", {"Role": {"Fn::GetAtt": [role_id, "Arn"]}}
    )
    synth.template("SharedRole").resource_count_is("AWS::IAM::Role", 1)


@pytest.mark.parametrize("stack", STACKS)
def test_role_stack_has_no_unacknowledged_nag_finding(synth: Synthesized, stack: str) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_role_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_role_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []
