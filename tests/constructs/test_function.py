"""LambdaFunction: own log group, role, tracing, dead-letter queue and Powertools layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from constructs_lib import LambdaFunction
from constructs_lib.defaults import POWERTOOLS_LAYER_COMMERCIAL_ACCOUNT, POWERTOOLS_LAYER_VERSION
from tests.constructs import (
    HANDLER,
    REGION,
    cfn_lint_findings,
    findings_in,
    get_att,
    inline_function,
    logical_id_of,
    only,
    ref,
    resources_under,
    unjustified_acknowledgments,
)
from tests.support import (
    ENV,
    Synthesized,
    as_list,
    nag_app,
    policy_statements,
    resources_of_type,
    scratch_dir,
    synthesize,
)

STACKS = ("Defaults", "Options", "EnvAgnostic")


def bootstrap_asset() -> lambda_.Code:
    """A custom-runtime bundle: a ``bootstrap`` executable in a directory of its own."""
    directory = Path(scratch_dir("bootstrap-"))
    (directory / "bootstrap").write_text("#!/bin/sh\nexit 0\n")
    (directory / "bootstrap").chmod(0o755)
    return lambda_.Code.from_asset(str(directory))


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    defaults = cdk.Stack(app, "Defaults", env=ENV)
    inline_function(defaults, "Api")

    options = cdk.Stack(app, "Options", env=ENV)
    sized = inline_function(
        options,
        "Sized",
        memory_size=1024,
        timeout=cdk.Duration.seconds(30),
        architecture=lambda_.Architecture.X86_64,
        log_retention=logs.RetentionDays.ONE_WEEK,
        environment={"TABLE_NAME": "orders"},
    )
    inline_function(
        options,
        "Live",
        alias_name="live",
        provisioned_concurrent_executions=2,
        reserved_concurrent_executions=5,
    )
    plain = inline_function(options, "Plain", powertools_layer=False, tracing=False)
    # Turning tracing off is the user's decision, so the user acknowledges the finding.
    cdk.Validations.of(plain.function).acknowledge(
        cdk.Acknowledgment(
            id="Serverless::Serverless-LambdaTracing",
            reason="A batch function whose latency nobody investigates; traces cost more "
            "than they tell.",
        )
    )
    LambdaFunction(
        options,
        "Custom",
        code=bootstrap_asset(),
        handler="bootstrap",
        runtime=lambda_.Runtime.PROVIDED_AL2023,
    )
    # Two functions may share one failure queue: the second one is given the first one's.
    inline_function(options, "SharesQueue", dead_letter_queue=sized.dead_letter_queue)
    own_role = iam.Role(options, "OwnRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    inline_function(options, "GivenRole", role=own_role)

    agnostic = cdk.Stack(app, "EnvAgnostic")
    memory = cdk.CfnParameter(agnostic, "Memory", type="Number", default=512)
    timeout = cdk.CfnParameter(agnostic, "Timeout", type="Number", default=20)
    inline_function(
        agnostic,
        "Tuned",
        memory_size=cdk.Token.as_number(cdk.Fn.ref(memory.logical_id)),
        timeout=cdk.Duration.seconds(cdk.Token.as_number(cdk.Fn.ref(timeout.logical_id))),
    )

    return synthesize(app)


def template(synth: Synthesized, stack: str) -> dict[str, Any]:
    return synth.templates[stack]


def function_of(synth: Synthesized, stack: str, construct_id: str) -> dict[str, Any]:
    """The AWS::Lambda::Function of the LambdaFunction ``construct_id``."""
    functions = resources_of_type(template(synth, stack), "AWS::Lambda::Function")
    return only({k: v for k, v in functions.items() if k.startswith(f"{construct_id}Function")})[1]


def logical_id(synth: Synthesized, stack: str, prefix: str, resource_type: str) -> str:
    return logical_id_of(template(synth, stack), resource_type, prefix)


def statements_of_role(synth: Synthesized, stack: str, role_id: str) -> list[dict[str, Any]]:
    policies = resources_of_type(template(synth, stack), "AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if ref(role_id) in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


# --- log group and logging ------------------------------------------------------------


def test_function_logs_as_json_to_its_own_log_group_kept_30_days(synth: Synthesized) -> None:
    log_group_id, log_group = only(
        resources_of_type(template(synth, "Defaults"), "AWS::Logs::LogGroup")
    )
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert log_group["DeletionPolicy"] == "Retain"
    logging = function_of(synth, "Defaults", "Api")["Properties"]["LoggingConfig"]
    assert logging == {"LogFormat": "JSON", "LogGroup": ref(log_group_id)}


def test_function_log_retention_can_be_shortened(synth: Synthesized) -> None:
    log_group_id = logical_id(synth, "Options", "SizedLogGroup", "AWS::Logs::LogGroup")
    log_group = template(synth, "Options")["Resources"][log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == 7


def test_function_adds_no_log_retention_helper_and_no_other_function(synth: Synthesized) -> None:
    resources = template(synth, "Defaults")["Resources"].values()
    assert not [r for r in resources if r["Type"] == "Custom::LogRetention"]
    assert list(resources_of_type(template(synth, "Defaults"), "AWS::Lambda::Function")) == [
        logical_id(synth, "Defaults", "ApiFunction", "AWS::Lambda::Function")
    ]


def test_function_role_writes_logs_to_that_log_group_only(synth: Synthesized) -> None:
    log_group_id = logical_id(synth, "Defaults", "ApiLogGroup", "AWS::Logs::LogGroup")
    log_statements = [
        s
        for s in policy_statements(template(synth, "Defaults"))
        if any(a.startswith("logs:") for a in as_list(s["Action"]))
    ]
    assert log_statements == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": get_att(log_group_id),
        }
    ]


# --- role -----------------------------------------------------------------------------


def test_function_role_has_no_managed_policy(synth: Synthesized) -> None:
    for stack in STACKS:
        for role in resources_of_type(template(synth, stack), "AWS::IAM::Role").values():
            assert "ManagedPolicyArns" not in role["Properties"]


def test_function_role_holds_no_wildcard_resource_except_for_xray(synth: Synthesized) -> None:
    for stack in STACKS:
        unscoped = [
            s for s in policy_statements(template(synth, stack)) if "*" in as_list(s["Resource"])
        ]
        for statement in unscoped:
            assert all(a.startswith("xray:") for a in as_list(statement["Action"])), statement


def test_function_uses_a_given_role_and_grants_it_the_log_write(synth: Synthesized) -> None:
    role_id = logical_id(synth, "Options", "OwnRole", "AWS::IAM::Role")
    function = function_of(synth, "Options", "GivenRole")
    assert function["Properties"]["Role"] == get_att(role_id)
    assert not resources_under(template(synth, "Options"), "GivenRoleExecutionRole")
    log_group_id = logical_id(synth, "Options", "GivenRoleLogGroup", "AWS::Logs::LogGroup")
    assert {
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Effect": "Allow",
        "Resource": get_att(log_group_id),
    } in statements_of_role(synth, "Options", role_id)


def test_function_depends_on_its_role_policy_but_not_on_its_role(synth: Synthesized) -> None:
    # The Role property already orders the function after its role; a DependsOn on the
    # role as well is what cfn-lint reports as W3005.
    for stack in STACKS:
        resources = template(synth, stack)["Resources"]
        for function in resources_of_type(template(synth, stack), "AWS::Lambda::Function").values():
            role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
            depends_on = as_list(function.get("DependsOn", []))
            assert role_id not in depends_on
            policies = [
                k
                for k, v in resources.items()
                if v["Type"] == "AWS::IAM::Policy" and ref(role_id) in v["Properties"]["Roles"]
            ]
            assert set(policies) <= set(depends_on)


# --- runtime settings -----------------------------------------------------------------


def test_function_defaults_to_256_mb_10_seconds_arm64_python_3_14(synth: Synthesized) -> None:
    properties = function_of(synth, "Defaults", "Api")["Properties"]
    assert properties["MemorySize"] == 256
    assert properties["Timeout"] == 10
    assert properties["Architectures"] == ["arm64"]
    assert properties["Runtime"] == "python3.14"
    assert properties["Handler"] == HANDLER


def test_function_traces_with_xray_active(synth: Synthesized) -> None:
    properties = function_of(synth, "Defaults", "Api")["Properties"]
    assert properties["TracingConfig"] == {"Mode": "Active"}


def test_function_without_tracing_grants_no_xray(synth: Synthesized) -> None:
    properties = function_of(synth, "Options", "Plain")["Properties"]
    assert properties.get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": "PassThrough"}
    role_id = properties["Role"]["Fn::GetAtt"][0]
    actions = [
        a for s in statements_of_role(synth, "Options", role_id) for a in as_list(s["Action"])
    ]
    assert not [a for a in actions if a.startswith("xray:")]


def test_function_memory_timeout_architecture_and_environment_can_be_set(
    synth: Synthesized,
) -> None:
    properties = function_of(synth, "Options", "Sized")["Properties"]
    assert properties["MemorySize"] == 1024
    assert properties["Timeout"] == 30
    assert properties["Architectures"] == ["x86_64"]
    assert properties["Environment"] == {"Variables": {"TABLE_NAME": "orders"}}


def test_function_passes_unresolved_memory_and_timeout_unchecked(synth: Synthesized) -> None:
    properties = function_of(synth, "EnvAgnostic", "Tuned")["Properties"]
    assert properties["MemorySize"] == ref("Memory")
    assert properties["Timeout"] == ref("Timeout")


def test_function_reserves_concurrency_and_provisions_it_on_an_alias(synth: Synthesized) -> None:
    function_id = logical_id(synth, "Options", "LiveFunction", "AWS::Lambda::Function")
    assert function_of(synth, "Options", "Live")["Properties"]["ReservedConcurrentExecutions"] == 5
    version_id, version = only(
        resources_of_type(template(synth, "Options"), "AWS::Lambda::Version")
    )
    assert version["Properties"]["FunctionName"] == ref(function_id)
    _, alias = only(resources_of_type(template(synth, "Options"), "AWS::Lambda::Alias"))
    assert alias["Properties"] == {
        "FunctionName": ref(function_id),
        "FunctionVersion": get_att(version_id, "Version"),
        "Name": "live",
        "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2},
    }


# --- Powertools layer -----------------------------------------------------------------


def powertools_layer(region: str, architecture: str) -> dict[str, Any]:
    """The Layers property of a function with the pinned Powertools layer of ``region``."""
    return {
        "Layers": [
            {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        f":lambda:{region}:{POWERTOOLS_LAYER_COMMERCIAL_ACCOUNT}:layer:"
                        f"AWSLambdaPowertoolsPythonV3-python314-{architecture}:"
                        f"{POWERTOOLS_LAYER_VERSION}",
                    ],
                ]
            }
        ]
    }


def test_function_gets_the_powertools_layer_of_its_region_and_arm64(synth: Synthesized) -> None:
    synth.template("Defaults").has_resource_properties(
        "AWS::Lambda::Function", powertools_layer(REGION, "arm64")
    )


def test_powertools_layer_follows_an_x86_64_architecture(synth: Synthesized) -> None:
    synth.template("Options").has_resource_properties(
        "AWS::Lambda::Function",
        {"Architectures": ["x86_64"], **powertools_layer(REGION, "x86_64")},
    )


def test_powertools_layer_of_an_env_agnostic_stack_looks_up_its_publisher_at_deploy(
    synth: Synthesized,
) -> None:
    (layer,) = function_of(synth, "EnvAgnostic", "Tuned")["Properties"]["Layers"]

    def lookup(column: str) -> dict[str, Any]:
        return {"Fn::FindInMap": ["PowertoolsLayerPublishers", {"Ref": "AWS::Region"}, column]}

    assert layer["Fn::Join"][1] == [
        "arn:",
        {"Ref": "AWS::Partition"},
        ":lambda:",
        {"Ref": "AWS::Region"},
        ":",
        lookup("Account"),
        ":layer:AWSLambdaPowertoolsPythonV3-python314-arm64:",
        lookup("Version"),
    ]
    mapping = synth.template("EnvAgnostic").find_mappings("PowertoolsLayerPublishers")
    publishers = mapping["PowertoolsLayerPublishers"]
    pinned = str(POWERTOOLS_LAYER_VERSION)
    commercial = {"Account": POWERTOOLS_LAYER_COMMERCIAL_ACCOUNT, "Version": pinned}
    assert publishers["us-east-1"] == commercial
    assert publishers["cn-north-1"] == {"Account": "498634801083", "Version": pinned}
    # GovCloud publishes fewer versions: the one Powertools' documentation lists there.
    assert publishers["us-gov-east-1"] == {"Account": "165087284144", "Version": "27"}
    assert publishers["us-gov-west-1"] == {"Account": "165093116878", "Version": "27"}


def test_function_has_no_layer_when_powertools_layer_is_off(synth: Synthesized) -> None:
    assert "Layers" not in function_of(synth, "Options", "Plain")["Properties"]


def test_custom_runtime_function_has_no_powertools_layer(synth: Synthesized) -> None:
    properties = function_of(synth, "Options", "Custom")["Properties"]
    assert properties["Runtime"] == "provided.al2023"
    assert properties["Handler"] == "bootstrap"
    assert "Layers" not in properties


# --- failed asynchronous invocations ---------------------------------------------------


def test_function_sends_failed_invocations_to_an_encrypted_retained_queue(
    synth: Synthesized,
) -> None:
    resources = template(synth, "Defaults")["Resources"]
    queue_id = logical_id(synth, "Defaults", "ApiDeadLetterQueue", "AWS::SQS::Queue")
    queue = resources[queue_id]
    assert function_of(synth, "Defaults", "Api")["Properties"]["DeadLetterConfig"] == {
        "TargetArn": get_att(queue_id)
    }
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["DeletionPolicy"] == "Retain"
    _, policy = only(resources_of_type(template(synth, "Defaults"), "AWS::SQS::QueuePolicy"))
    assert policy["Properties"]["Queues"] == [ref(queue_id)]
    assert {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": get_att(queue_id),
    } in policy["Properties"]["PolicyDocument"]["Statement"]


def test_function_role_may_send_to_its_dead_letter_queue_only(synth: Synthesized) -> None:
    queue_id = logical_id(synth, "Defaults", "ApiDeadLetterQueue", "AWS::SQS::Queue")
    sqs_statements = [
        s
        for s in policy_statements(template(synth, "Defaults"))
        if any(a.startswith("sqs:") for a in as_list(s["Action"]))
    ]
    assert sqs_statements == [
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": get_att(queue_id)}
    ]


def test_function_uses_a_given_failure_queue_and_creates_none(synth: Synthesized) -> None:
    queue_id = logical_id(synth, "Options", "SizedDeadLetterQueue", "AWS::SQS::Queue")
    properties = function_of(synth, "Options", "SharesQueue")["Properties"]
    assert properties["DeadLetterConfig"] == {"TargetArn": get_att(queue_id)}
    assert not resources_under(template(synth, "Options"), "SharesQueueDeadLetterQueue")


# --- reviews: cdk-nag and cfn-lint ----------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_function_stack_has_no_unacknowledged_nag_finding(synth: Synthesized, stack: str) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_function_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert synth.acknowledged, "expected the X-Ray and dead-letter queue acknowledgments"
    assert unjustified_acknowledgments(synth) == []


def test_function_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []


# --- aws-cdk's built-in CloudFormation validation ---------------------------------------


@pytest.fixture(scope="module")
def validated() -> Synthesized:
    """A function synthesized with aws-cdk's CloudFormation validation on, errors as errors.

    A stack with a deliberately invalid queue shows that the validation really runs.
    """
    app = nag_app(builtin_validation=True)
    inline_function(cdk.Stack(app, "Validated", env=ENV), "Api")
    canary = cdk.Stack(app, "Canary", env=ENV)
    cdk.CfnResource(
        canary,
        "TooShortRetention",
        type="AWS::SQS::Queue",
        properties={"MessageRetentionPeriod": 1},
    )
    return synthesize(app)


def test_function_passes_builtin_cloudformation_validation(validated: Synthesized) -> None:
    assert findings_in(validated, "Canary"), "the built-in validation did not run"
    assert findings_in(validated, "Validated") == [], validated.finding_summary()
