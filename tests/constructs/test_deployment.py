"""LambdaFunction releases: CodeDeploy canary and linear shifts, rolled back on its alarms."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from constructs_lib import AlarmOptions, ConstructPropsError, LambdaDeployment
from tests.constructs import findings_in, get_att, inline_function, ref, unjustified_acknowledgments
from tests.support import ENV, Synthesized, as_list, nag_app, synthesize

ROLLBACK_ALARMS = ("ErrorRate", "Throttles", "Duration", "DeadLetterErrors")


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()
    canary = cdk.Stack(app, "Canary", env=ENV)
    inline_function(canary, "Api", alias_name="live", deployment=LambdaDeployment())

    linear = cdk.Stack(app, "Linear", env=ENV)
    inline_function(
        linear,
        "Api",
        alias_name="live",
        deployment=LambdaDeployment(
            traffic_shift="LINEAR_10_PERCENT_EVERY_1_MINUTE",
            # A LambdaFunction stands for its invoke target, an aws_lambda.Function for itself.
            pre_traffic_hook=inline_function(linear, "PreTraffic"),
            post_traffic_hook=inline_function(linear, "PostTraffic").function,
        ),
    )
    return synthesize(app)


@pytest.fixture(scope="module")
def canary(synth: Synthesized) -> Template:
    return synth.template("Canary")


@pytest.fixture(scope="module")
def linear(synth: Synthesized) -> Template:
    return synth.template("Linear")


def logical_id(template: Template, resource_type: str, prefix: str) -> str:
    (found,) = [k for k in template.find_resources(resource_type) if k.startswith(prefix)]
    return found


def alarm_id(template: Template, name: str) -> str:
    return logical_id(template, "AWS::CloudWatch::Alarm", f"ApiAlarms{name}")


def test_releases_shift_traffic_by_the_chosen_preset(canary: Template, linear: Template) -> None:
    canary.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "DeploymentStyle": {
                "DeploymentType": "BLUE_GREEN",
                "DeploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        },
    )
    linear.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"DeploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"},
    )


def test_a_release_rolls_back_on_failure_stop_and_the_function_alarms(canary: Template) -> None:
    canary.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "AutoRollbackConfiguration": {
                "Enabled": True,
                "Events": Match.array_equals(
                    ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"]
                ),
            },
            "AlarmConfiguration": {
                "Enabled": True,
                # Not DeadLetterQueueMessages: an old message would block every release.
                "Alarms": [{"Name": ref(alarm_id(canary, name))} for name in ROLLBACK_ALARMS],
            },
        },
    )


def test_the_alias_is_shifted_by_codedeploy_after_its_alarms_are_updated(
    canary: Template,
) -> None:
    group = logical_id(canary, "AWS::CodeDeploy::DeploymentGroup", "Api")
    application = logical_id(canary, "AWS::CodeDeploy::Application", "Api")
    canary.has_resource(
        "AWS::Lambda::Alias",
        {
            "UpdatePolicy": {
                "CodeDeployLambdaAliasUpdate": {
                    "ApplicationName": ref(application),
                    "DeploymentGroupName": ref(group),
                }
            },
            "DependsOn": Match.array_with(
                sorted(alarm_id(canary, name) for name in ROLLBACK_ALARMS)
            ),
        },
    )


def test_rollback_alarms_measure_the_new_version_behind_the_alias(canary: Template) -> None:
    function = ref(logical_id(canary, "AWS::Lambda::Function", "Api"))
    version = logical_id(canary, "AWS::Lambda::Version", "Api")
    alias = {"Fn::Join": ["", [function, ":live"]]}
    error_rate = canary.find_resources("AWS::CloudWatch::Alarm")[alarm_id(canary, "ErrorRate")]
    for metric in error_rate["Properties"]["Metrics"][1:]:
        assert metric["MetricStat"]["Metric"]["Dimensions"] == [
            {"Name": "ExecutedVersion", "Value": get_att(version, "Version")},
            {"Name": "FunctionName", "Value": function},
            {"Name": "Resource", "Value": alias},
        ]
    duration = canary.find_resources("AWS::CloudWatch::Alarm")[alarm_id(canary, "Duration")]
    assert {"Name": "ExecutedVersion", "Value": get_att(version, "Version")} in duration[
        "Properties"
    ]["Dimensions"]
    # Throttled invocations run no version: measured on the alias.
    throttles = canary.find_resources("AWS::CloudWatch::Alarm")[alarm_id(canary, "Throttles")]
    assert throttles["Properties"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": function},
        {"Name": "Resource", "Value": alias},
    ]


def deployment_role_statements(template: Template) -> tuple[str, list[dict[str, Any]]]:
    role = logical_id(template, "AWS::IAM::Role", "ApiDeploymentRole")
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [ref(role)]}})
    statements = [
        s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    return role, statements


def test_the_codedeploy_role_has_no_managed_policy_only_this_release(canary: Template) -> None:
    _, statements = deployment_role_statements(canary)
    canary.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like({"Principal": {"Service": "codedeploy.amazonaws.com"}})
                ]
            },
            "ManagedPolicyArns": Match.absent(),
        },
    )
    alias = ref(logical_id(canary, "AWS::Lambda::Alias", "Api"))
    assert statements == [
        {
            "Action": [
                "lambda:GetAlias",
                "lambda:UpdateAlias",
                "lambda:GetProvisionedConcurrencyConfig",
            ],
            "Effect": "Allow",
            "Resource": alias,
        },
        {
            "Action": "cloudwatch:DescribeAlarms",
            "Effect": "Allow",
            "Resource": [get_att(alarm_id(canary, name), "Arn") for name in ROLLBACK_ALARMS],
        },
    ]


def test_the_codedeploy_role_may_invoke_its_hooks_only(linear: Template) -> None:
    _, statements = deployment_role_statements(linear)
    invoke = [s for s in statements if "lambda:InvokeFunction" in as_list(s["Action"])]
    hooks = [logical_id(linear, "AWS::Lambda::Function", f"{h}Traffic") for h in ("Pre", "Post")]
    assert invoke == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": [get_att(hook, "Arn") for hook in hooks],
        }
    ]


def test_hooks_run_before_and_after_traffic(linear: Template) -> None:
    linear.has_resource(
        "AWS::Lambda::Alias",
        {
            "UpdatePolicy": {
                "CodeDeployLambdaAliasUpdate": Match.object_like(
                    {
                        "BeforeAllowTrafficHook": ref(
                            logical_id(linear, "AWS::Lambda::Function", "PreTraffic")
                        ),
                        "AfterAllowTrafficHook": ref(
                            logical_id(linear, "AWS::Lambda::Function", "PostTraffic")
                        ),
                    }
                )
            }
        },
    )


@pytest.mark.parametrize("hook", ["PreTraffic", "PostTraffic"])
def test_a_hook_may_report_its_status_to_this_deployment_group_only(
    linear: Template, hook: str
) -> None:
    function = linear.find_resources("AWS::Lambda::Function")[
        logical_id(linear, "AWS::Lambda::Function", hook)
    ]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = linear.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [ref(role)]}})
    statements = [
        s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    (status,) = [
        s
        for s in statements
        if "codedeploy:PutLifecycleEventHookExecutionStatus" in as_list(s["Action"])
    ]
    assert status["Action"] == "codedeploy:PutLifecycleEventHookExecutionStatus"
    resource = status["Resource"]["Fn::Join"][1]
    group = logical_id(linear, "AWS::CodeDeploy::DeploymentGroup", "Api")
    application = logical_id(linear, "AWS::CodeDeploy::Application", "Api")
    assert ":deploymentgroup:" in "".join(p for p in resource if isinstance(p, str))
    assert ref(group) in resource and ref(application) in resource


def test_releases_leave_no_open_finding(synth: Synthesized) -> None:
    for stack in ("Canary", "Linear"):
        assert findings_in(synth, stack) == []
    assert unjustified_acknowledgments(synth) == []


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"deployment": LambdaDeployment()}, "allowed only together with alias_name"),
        (
            {"alias_name": "live", "deployment": LambdaDeployment(traffic_shift="CANARY_50")},
            "'CANARY_10_PERCENT_5_MINUTES'",
        ),
        (
            {"alias_name": "live", "deployment": LambdaDeployment(pre_traffic_hook="fn")},  # type: ignore[arg-type]
            "deployment.pre_traffic_hook='fn' is invalid",
        ),
        ({"alias_name": "live", "deployment": "canary"}, "a constructs_lib.LambdaDeployment"),
    ],
)
def test_invalid_deployments_name_the_construct_and_the_prop(
    props: dict[str, Any], message: str
) -> None:
    stack = cdk.Stack(cdk.App(), "Invalid")
    with pytest.raises(ConstructPropsError, match="Invalid/Fn: deployment") as error:
        inline_function(stack, "Fn", **props)
    assert message in str(error.value)


def test_a_release_without_alarms_still_rolls_back_on_failure_and_stop() -> None:
    stack = cdk.Stack(cdk.App(), "Silent", env=ENV)
    inline_function(
        stack,
        "Api",
        alias_name="live",
        alarms=AlarmOptions(enabled=False),
        deployment=LambdaDeployment(),
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "AutoRollbackConfiguration": {
                "Enabled": True,
                "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"],
            },
            "AlarmConfiguration": Match.absent(),
        },
    )
