"""Helpers shared by the construct specifications: findings per stack, cfn-lint, inline code."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from constructs_lib import LambdaFunction, acknowledge_finding
from tests.support import ENV, Synthesized, cfn_lint_findings

#: Source of every inline test function (handler ``index.handler``).
HANDLER_SOURCE = "def handler(event, context):\n    return None\n"
HANDLER = "index.handler"
ACCOUNT = ENV.account
REGION = ENV.region

__all__ = ["cfn_lint_findings"]


def inline_function(
    scope: cdk.Stack, construct_id: str = "Handler", **props: Any
) -> LambdaFunction:
    """A LambdaFunction with inline code: the target every construct specification uses."""
    return LambdaFunction(
        scope, construct_id, code=lambda_.Code.from_inline(HANDLER_SOURCE), handler=HANDLER, **props
    )


def users_bucket(scope: cdk.Stack, construct_id: str) -> s3.Bucket:
    """A bucket of the user's own: private, encrypted, TLS-only, access recorded elsewhere."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
    )
    # The bucket is the user's, so the user acknowledges what it lacks.
    acknowledge_finding(
        bucket,
        "AwsSolutions-S1",
        reason="Object-level access is recorded by the organisation's CloudTrail data "
        "events trail.",
    )
    return bucket


def nag_clean_user_pool(scope: cdk.Stack) -> cognito.UserPool:
    """A user pool that passes the AwsSolutions Cognito rules (only the authorizer is tested)."""
    return cognito.UserPool(
        scope,
        "Users",
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_digits=True,
            require_lowercase=True,
            require_uppercase=True,
            require_symbols=True,
        ),
        mfa=cognito.Mfa.REQUIRED,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        feature_plan=cognito.FeaturePlan.PLUS,
    )


def findings_in(synth: Synthesized, stack_name: str) -> list[str]:
    """Unacknowledged findings (any plugin) on constructs of ``stack_name``, one line each."""
    return [
        f"{violation['ruleName']} ({violation['severity']}) at {construct['constructPath']}"
        for violation in synth.violations
        for construct in violation.get("violatingConstructs", [])
        if construct["constructPath"].startswith(f"{stack_name}/")
    ]


def unjustified_acknowledgments(synth: Synthesized) -> list[str]:
    """Acknowledgments without a reason, or naming a broader id than the finding's own.

    cdk-nag reports IAM4/IAM5 findings with a granular id
    (``AwsSolutions-IAM5[Resource::<Table.Arn>/stream/*]``); an acknowledgment must name
    that id exactly, so that it cannot cover a wildcard nobody reviewed.
    """
    problems = []
    for entry in synth.acknowledged:
        where = entry.get("acknowledgedAt", "?")
        rule = entry["ruleName"]
        if not entry.get("reason", "").strip():
            problems.append(f"{rule} at {where}: no reason")
        if not entry.get("acknowledgedId", "").endswith(f"::{rule}"):
            problems.append(f"{rule} at {where}: acknowledged as {entry.get('acknowledgedId')}")
        if rule.split("[")[0].endswith(("-IAM4", "-IAM5")) and "[" not in rule:
            problems.append(f"{rule} at {where}: no granular part")
    return problems


def resources_under(template: dict[str, Any], logical_id_prefix: str) -> dict[str, Any]:
    """Resources whose logical id starts with ``logical_id_prefix`` (the construct path)."""
    return {k: v for k, v in template["Resources"].items() if k.startswith(logical_id_prefix)}


def only(resources: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The one (logical id, resource) pair of ``resources``; fails on zero or several."""
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))


def logical_id_of(template: dict[str, Any], resource_type: str, prefix: str = "") -> str:
    """The logical id of the one ``resource_type`` resource whose id starts with ``prefix``."""
    return only(
        {
            k: v
            for k, v in template["Resources"].items()
            if v["Type"] == resource_type and k.startswith(prefix)
        }
    )[0]


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}
