"""Workflow: a state machine that logs everything, traces, and has a role of its own."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.assertions import Match

from constructs_lib import LambdaFunction, Workflow
from tests.constructs import (
    HANDLER,
    HANDLER_SOURCE,
    cfn_lint_findings,
    findings_in,
    get_att,
    logical_id_of,
    only,
    ref,
    unjustified_acknowledgments,
)
from tests.support import ENV, Synthesized, as_list, nag_app, resources_of_type, synthesize

STACKS = ("Defaults", "Express", "Publishes", "PublishesElsewhere")
#: The only actions Step Functions needs on '*': log delivery and X-Ray have no resources.
UNSCOPED_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    defaults = cdk.Stack(app, "Defaults", env=ENV)
    check = LambdaFunction(
        defaults, "Check", code=lambda_.Code.from_inline(HANDLER_SOURCE), handler=HANDLER
    )
    Workflow(
        defaults,
        "Fulfil",
        definition=tasks.LambdaInvoke(defaults, "CheckStock", lambda_function=check.function).next(
            sfn.Succeed(defaults, "Done")
        ),
    )

    express = cdk.Stack(app, "Express", env=ENV)
    Workflow(
        express,
        "Notify",
        definition=sfn.Pass(express, "Pass"),
        state_machine_type=sfn.StateMachineType.EXPRESS,
        timeout=cdk.Duration.minutes(5),
        log_retention=logs.RetentionDays.ONE_WEEK,
        comment="notify customers",
    )

    _publishing_workflows(app)
    return synthesize(app)


def _publishing_workflows(app: cdk.App) -> None:
    """A workflow publishing to encrypted and plain topics and sending to an encrypted queue;
    another publishing to an encrypted topic of another stack."""
    stack = cdk.Stack(app, "Publishes", env=ENV)
    topic_key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    queue_key = kms.Key(stack, "QueueKey", enable_key_rotation=True)
    encrypted = sns.Topic(stack, "Encrypted", master_key=topic_key, enforce_ssl=True)
    plain = sns.Topic(stack, "Plain", enforce_ssl=True)
    dead_letters = sqs.Queue(stack, "QueueDlq", encryption_master_key=queue_key, enforce_ssl=True)
    cdk.Validations.of(dead_letters).acknowledge(
        cdk.Acknowledgment(
            id="Serverless::Serverless-SQSRedrivePolicy",
            reason="The dead-letter queue of the test's queue: the end of its failure path.",
        )
    )
    queue = sqs.Queue(
        stack,
        "Queue",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=queue_key,
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dead_letters),
    )
    message = sfn.TaskInput.from_text("order shipped")
    Workflow(
        stack,
        "Notify",
        definition=tasks.SnsPublish(stack, "ToEncrypted", topic=encrypted, message=message)
        .next(tasks.SnsPublish(stack, "ToPlain", topic=plain, message=message))
        .next(tasks.SqsSendMessage(stack, "ToQueue", queue=queue, message_body=message)),
    )

    messaging = cdk.Stack(app, "Messaging", env=ENV)
    shared_topic = sns.Topic(
        messaging,
        "Shared",
        master_key=kms.Key(messaging, "SharedKey", enable_key_rotation=True),
        enforce_ssl=True,
    )
    elsewhere = cdk.Stack(app, "PublishesElsewhere", env=ENV)
    Workflow(
        elsewhere,
        "Notify",
        definition=tasks.SnsPublish(elsewhere, "ToShared", topic=shared_topic, message=message),
    )


def template(synth: Synthesized, stack: str) -> dict[str, Any]:
    return synth.templates[stack]


def state_machine_of(synth: Synthesized, stack: str) -> dict[str, Any]:
    return only(resources_of_type(template(synth, stack), "AWS::StepFunctions::StateMachine"))[1]


def as_text(token: dict[str, Any]) -> str:
    """``{"Ref": "X"}`` as ``<X>``, ``{"Fn::GetAtt": ["X", "Arn"]}`` as ``<X.Arn>``."""
    if "Ref" in token:
        return f"<{token['Ref']}>"
    return "<{}.{}>".format(*token["Fn::GetAtt"])


def definition_of(synth: Synthesized, stack: str) -> dict[str, Any]:
    """The state machine definition, with each token written as by :func:`as_text`."""
    definition = state_machine_of(synth, stack)["Properties"]["DefinitionString"]
    if isinstance(definition, str):
        return json.loads(definition)
    parts = definition["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else as_text(p) for p in parts)
    return json.loads(text)


def workflow_role(synth: Synthesized, stack: str) -> tuple[str, dict[str, Any]]:
    """The role the state machine runs as (the Defaults stack also holds a function's role)."""
    role_id = state_machine_of(synth, stack)["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return role_id, template(synth, stack)["Resources"][role_id]


def role_statements(synth: Synthesized, stack: str) -> tuple[str, list[dict[str, Any]]]:
    """The logical id and statements of the workflow role's policy."""
    role_id, _ = workflow_role(synth, stack)
    policies = resources_of_type(template(synth, stack), "AWS::IAM::Policy")
    policy_id, policy = only(
        {k: v for k, v in policies.items() if ref(role_id) in v["Properties"]["Roles"]}
    )
    return policy_id, policy["Properties"]["PolicyDocument"]["Statement"]


def test_workflow_logs_all_events_with_execution_data_to_its_own_log_group(
    synth: Synthesized,
) -> None:
    log_groups = resources_of_type(template(synth, "Defaults"), "AWS::Logs::LogGroup")
    log_group_id, log_group = only({k: v for k, v in log_groups.items() if k.startswith("Fulfil")})
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert state_machine_of(synth, "Defaults")["Properties"]["LoggingConfiguration"] == {
        "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": get_att(log_group_id)}}],
        "IncludeExecutionData": True,
        "Level": "ALL",
    }


def test_workflow_traces_with_xray(synth: Synthesized) -> None:
    properties = state_machine_of(synth, "Defaults")["Properties"]
    assert properties["TracingConfiguration"] == {"Enabled": True}


def test_workflow_is_standard_and_times_out_after_15_minutes(synth: Synthesized) -> None:
    assert state_machine_of(synth, "Defaults")["Properties"]["StateMachineType"] == "STANDARD"
    assert definition_of(synth, "Defaults")["TimeoutSeconds"] == 900


def test_workflow_role_is_assumed_by_step_functions_and_has_no_managed_policy(
    synth: Synthesized,
) -> None:
    role_id, role = workflow_role(synth, "Defaults")
    assert role_id.startswith("FulfilExecutionRole")
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "states.amazonaws.com"}]
    assert "ManagedPolicyArns" not in role["Properties"]


def test_workflow_may_invoke_the_function_of_its_task_and_its_versions_only(
    synth: Synthesized,
) -> None:
    functions = resources_of_type(template(synth, "Defaults"), "AWS::Lambda::Function")
    (function_id,) = functions
    _, statements = role_statements(synth, "Defaults")
    invokes = [s for s in statements if "lambda:InvokeFunction" in as_list(s["Action"])]
    assert invokes == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": [
                get_att(function_id),
                {"Fn::Join": ["", [get_att(function_id), ":*"]]},
            ],
        }
    ]
    task = definition_of(synth, "Defaults")["States"]["CheckStock"]
    assert task["Parameters"]["FunctionName"] == f"<{function_id}.Arn>"


def test_workflow_grants_on_star_only_log_delivery_and_xray(synth: Synthesized) -> None:
    for stack in STACKS:
        _, statements = role_statements(synth, stack)
        for statement in statements:
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= UNSCOPED_ACTIONS, statement


def test_workflow_depends_on_its_role_policy_but_not_on_its_role(synth: Synthesized) -> None:
    for stack in STACKS:
        role_id, _ = workflow_role(synth, stack)
        policy_id, _ = role_statements(synth, stack)
        depends_on = as_list(state_machine_of(synth, stack).get("DependsOn", []))
        assert role_id not in depends_on
        assert policy_id in depends_on


def test_express_workflow_takes_its_type_timeout_and_retention(synth: Synthesized) -> None:
    properties = state_machine_of(synth, "Express")["Properties"]
    assert properties["StateMachineType"] == "EXPRESS"
    assert definition_of(synth, "Express")["TimeoutSeconds"] == 300
    assert definition_of(synth, "Express")["Comment"] == "notify customers"
    (log_group,) = resources_of_type(template(synth, "Express"), "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["RetentionInDays"] == 7
    assert properties["LoggingConfiguration"]["Level"] == "ALL"


def test_standard_workflow_times_out_after_15_minutes_by_default(synth: Synthesized) -> None:
    assert definition_of(synth, "Defaults")["TimeoutSeconds"] == 900


@pytest.mark.parametrize("stack", STACKS)
def test_workflow_stack_has_no_unacknowledged_nag_finding(synth: Synthesized, stack: str) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_workflow_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert synth.acknowledged, "expected the log delivery and function version acknowledgments"
    assert unjustified_acknowledgments(synth) == []


def test_workflow_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []


def _kms_statements(synth: Synthesized, stack: str) -> list[dict[str, Any]]:
    _, statements = role_statements(synth, stack)
    return [s for s in statements if any(a.startswith("kms:") for a in as_list(s["Action"]))]


def test_workflow_may_use_the_key_of_an_encrypted_topic_it_publishes_to_and_no_other(
    synth: Synthesized,
) -> None:
    template = synth.template("Publishes")
    topic_key = logical_id_of(synth.templates["Publishes"], "AWS::KMS::Key", "TopicKey")
    queue_key = logical_id_of(synth.templates["Publishes"], "AWS::KMS::Key", "QueueKey")
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                            "Effect": "Allow",
                            "Resource": get_att(topic_key),
                        }
                    ]
                )
            },
            "Roles": [ref(workflow_role(synth, "Publishes")[0])],
        },
    )
    # The plain topic needs no key; the queue's key is aws-cdk's own SqsSendMessage grant.
    assert {json.dumps(s["Resource"]) for s in _kms_statements(synth, "Publishes")} == {
        json.dumps(get_att(topic_key)),
        json.dumps(get_att(queue_key)),
    }


def test_workflow_may_use_the_key_of_an_encrypted_topic_in_another_stack(
    synth: Synthesized,
) -> None:
    (statement,) = _kms_statements(synth, "PublishesElsewhere")
    assert statement["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert "Fn::ImportValue" in statement["Resource"]


def test_workflow_without_a_publish_task_gets_no_key_grant(synth: Synthesized) -> None:
    assert _kms_statements(synth, "Defaults") == []
    assert _kms_statements(synth, "Express") == []
