"""OrdersSample, as a user deploys it: snapshot, wiring, least privilege and compliance.

One synthesis (with the cdk-nag packs applied) serves every test in this module.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support import (
    Synthesized,
    as_list,
    cfn_lint_findings,
    policy_statements,
    resources_of_type,
)

STACK = "OrdersSample"


@pytest.fixture(scope="module")
def synth(sample_synth: Synthesized) -> Synthesized:
    return sample_synth


@pytest.fixture(scope="module")
def template(synth: Synthesized) -> dict[str, Any]:
    return synth.templates[STACK]


def _normalised(template: dict[str, Any]) -> dict[str, Any]:
    """The template with asset hashes replaced, so the snapshot moves only with infrastructure."""
    text = json.dumps(template, indent=1, sort_keys=True)
    text = re.sub(r"[0-9a-f]{64}", "<asset-hash>", text)
    return json.loads(text)


def _one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = list(resources_of_type(template, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return found[0]


def _logical_id(template: dict[str, Any], resource_type: str, path_fragment: str) -> str:
    for logical_id, resource in template["Resources"].items():
        if resource_type in ("", resource["Type"]) and path_fragment in logical_id:
            return logical_id
    raise AssertionError(f"no {resource_type} whose id contains {path_fragment}")


def _role_statements(template: dict[str, Any], runner_fragment: str) -> list[dict[str, Any]]:
    """The policy statements of the role a function or state machine runs as."""
    runners = {
        **resources_of_type(template, "AWS::Lambda::Function"),
        **resources_of_type(template, "AWS::StepFunctions::StateMachine"),
    }
    runner_id = _logical_id({"Resources": runners}, "", runner_fragment)
    properties = template["Resources"][runner_id]["Properties"]
    role_id = (properties.get("Role") or properties["RoleArn"])["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for resource in resources_of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in resource["Properties"]["Roles"]:
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for s in statements for action in as_list(s["Action"])}


def _rendered_definition(template: dict[str, Any]) -> dict[str, Any]:
    definition = _one(template, "AWS::StepFunctions::StateMachine")["Properties"][
        "DefinitionString"
    ]
    parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
    text = "".join(p if isinstance(p, str) else "TOKEN" for p in parts)
    return json.loads(text)


# --- snapshot -----------------------------------------------------------------------


def test_orders_sample_template_matches_snapshot(template: dict[str, Any], snapshot: Any) -> None:
    assert _normalised(template) == snapshot


# --- compliance ---------------------------------------------------------------------


def test_orders_sample_leaves_no_open_nag_finding(synth: Synthesized) -> None:
    assert synth.violations == [], "\n".join(synth.finding_summary())


def test_every_acknowledgment_gives_a_reason_and_a_granular_rule(synth: Synthesized) -> None:
    assert synth.acknowledged, "the stack is expected to acknowledge some findings"
    for entry in synth.acknowledged:
        assert len(entry["reason"]) > 40, entry
        assert entry["ruleName"] not in ("AwsSolutions-IAM5", "AwsSolutions-IAM4"), entry


def test_cfn_lint_reports_nothing(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []


def test_no_role_carries_a_managed_policy(template: dict[str, Any]) -> None:
    for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], logical_id


def test_no_statement_grants_a_wildcard_action(template: dict[str, Any]) -> None:
    for statement in policy_statements(template):
        for action in as_list(statement["Action"]):
            assert "*" not in action, statement


def test_star_resources_are_only_for_services_without_resource_permissions(
    template: dict[str, Any],
) -> None:
    unscoped_services = {"xray", "logs"}
    for statement in policy_statements(template):
        if "*" in as_list(statement["Resource"]):
            services = {action.split(":")[0] for action in as_list(statement["Action"])}
            assert services <= unscoped_services, statement
    logs_on_star = {
        action
        for statement in policy_statements(template)
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
        if action.startswith("logs:")
    }
    # CloudWatch Logs actions on '*' are only the log-delivery and describe actions.
    assert not logs_on_star & {"logs:PutLogEvents", "logs:CreateLogStream", "logs:CreateLogGroup"}


def test_every_log_group_has_a_retention(template: dict[str, Any]) -> None:
    groups = resources_of_type(template, "AWS::Logs::LogGroup")
    assert groups
    for logical_id, group in groups.items():
        assert group["Properties"].get("RetentionInDays"), logical_id


def test_no_hidden_helper_function_or_custom_resource(template: dict[str, Any]) -> None:
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert not any(t.startswith("Custom::") for t in types)
    handlers = {
        fn["Properties"]["Handler"]
        for fn in resources_of_type(template, "AWS::Lambda::Function").values()
    }
    assert handlers == {
        "orders.api.handler",
        "orders.ingest.handler",
        "orders.stream.handler",
        "orders.workflow.process_order",
        "orders.workflow.ship_order",
        "orders.workflow.backorder_item",
    }


# --- wiring -------------------------------------------------------------------------


def test_orders_table_is_keyed_by_order_id_with_new_and_old_images(
    template: dict[str, Any],
) -> None:
    orders_id = _logical_id(template, "AWS::DynamoDB::Table", "Orders")
    table = template["Resources"][orders_id]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "order_id", "KeyType": "HASH"}]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_upload_trigger_matches_json_files_under_uploads(template: dict[str, Any]) -> None:
    rule = _one(template, "AWS::Events::Rule")["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "uploads/*.json"}]
    ingest_id = _logical_id(template, "AWS::Lambda::Function", "IngestFunction")
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [ingest_id, "Arn"]}
    assert "DeadLetterConfig" in rule["Targets"][0]


def test_stream_mapping_takes_inserts_only_in_batches_of_ten(template: dict[str, Any]) -> None:
    mapping = _one(template, "AWS::Lambda::EventSourceMapping")["Properties"]
    assert mapping["BatchSize"] == 10
    assert mapping["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    stream_fn = _logical_id(template, "AWS::Lambda::Function", "StreamFunction")
    assert mapping["FunctionName"] == {"Ref": stream_fn}


def test_workflow_runs_process_check_ship_or_backorder_then_update_and_notify(
    template: dict[str, Any],
) -> None:
    definition = _rendered_definition(template)
    states = definition["States"]
    assert definition["StartAt"] == "ProcessOrder"
    assert states["ProcessOrder"]["Next"] == "CheckInventory"
    choice = states["CheckInventory"]
    assert choice["Type"] == "Choice"
    assert choice["Choices"] == [
        {"Variable": "$.inStock", "BooleanEquals": True, "Next": "ShipOrder"}
    ]
    assert choice["Default"] == "BackorderItem"
    assert states["ShipOrder"]["Next"] == "UpdateOrderStatus"
    assert states["BackorderItem"]["Next"] == "UpdateOrderStatus"
    assert states["UpdateOrderStatus"]["Resource"].endswith(":states:::dynamodb:updateItem")
    assert states["UpdateOrderStatus"]["Next"] == "NotifyCustomer"
    assert states["NotifyCustomer"]["Resource"].endswith(":states:::sns:publish")
    assert states["NotifyCustomer"]["Next"] == "RecordNotificationSent"
    assert states["RecordNotificationSent"]["Next"] == "OrderDone"
    assert states["RecordNotificationFailed"]["Next"] == "NotificationFailed"
    assert states["MarkOrderFailed"]["Next"] == "OrderFailed"
    assert states["OrderFailed"]["Type"] == states["NotificationFailed"]["Type"] == "Fail"


def test_every_lambda_task_catches_failures_into_mark_failed(template: dict[str, Any]) -> None:
    states = _rendered_definition(template)["States"]
    for name in ("ProcessOrder", "ShipOrder", "BackorderItem"):
        catchers = states[name]["Catch"]
        assert [c["Next"] for c in catchers] == ["MarkOrderFailed"], name
        assert catchers[0]["ErrorEquals"] == ["States.ALL"], name


def test_a_refused_status_update_fails_without_marking_the_order_failed(
    template: dict[str, Any],
) -> None:
    catchers = _rendered_definition(template)["States"]["UpdateOrderStatus"]["Catch"]
    assert [(c["ErrorEquals"], c["Next"]) for c in catchers] == [
        (["DynamoDB.ConditionalCheckFailedException"], "StatusRefused"),
        (["States.ALL"], "MarkOrderFailed"),
    ]


def test_status_updates_are_conditional_on_the_order_and_its_status(
    template: dict[str, Any],
) -> None:
    states = _rendered_definition(template)["States"]
    update = states["UpdateOrderStatus"]["Parameters"]
    assert update["ConditionExpression"] == (
        "attribute_exists(order_id) AND (#status IN (:from0, :from1, :from2) OR #status = :status)"
    )
    assert [update["ExpressionAttributeValues"][f":from{n}"]["S"] for n in range(3)] == [
        "PENDING",
        "FAILED",
        "BACKORDERED",
    ]
    failed = states["MarkOrderFailed"]["Parameters"]
    assert failed["ConditionExpression"] == (
        "attribute_exists(order_id) AND (#status IN (:from0, :from1))"
    )
    assert failed["ExpressionAttributeValues"][":status"] == {"S": "FAILED"}


def test_a_failed_notification_is_retried_then_recorded_apart_from_the_status(
    template: dict[str, Any],
) -> None:
    states = _rendered_definition(template)["States"]
    notify = states["NotifyCustomer"]
    assert [(r["ErrorEquals"], r["MaxAttempts"]) for r in notify["Retry"]] == [(["States.ALL"], 2)]
    assert [c["Next"] for c in notify["Catch"]] == ["RecordNotificationFailed"]
    for name, outcome in (
        ("RecordNotificationSent", "SENT"),
        ("RecordNotificationFailed", "FAILED"),
    ):
        parameters = states[name]["Parameters"]
        assert parameters["UpdateExpression"] == "SET notification = :outcome"
        assert parameters["ConditionExpression"] == "attribute_exists(order_id)"
        assert parameters["ExpressionAttributeValues"] == {":outcome": {"S": outcome}}


def test_lambda_tasks_retry_transient_errors_with_backoff(template: dict[str, Any]) -> None:
    states = _rendered_definition(template)["States"]
    for name in ("ProcessOrder", "ShipOrder", "BackorderItem"):
        (retry,) = states[name]["Retry"]
        assert "TransientError" in retry["ErrorEquals"]
        assert "InvalidOrderError" not in retry["ErrorEquals"]
        assert retry["BackoffRate"] == 2
        assert retry["MaxAttempts"] == 3


def test_api_function_may_only_write_orders_keep_idempotency_records_and_start_retries(
    template: dict[str, Any],
) -> None:
    orders_arn = {"Fn::GetAtt": [_logical_id(template, "AWS::DynamoDB::Table", "Orders"), "Arn"]}
    records_arn = {
        "Fn::GetAtt": [_logical_id(template, "AWS::DynamoDB::Table", "Idempotency"), "Arn"]
    }
    grants = {
        json.dumps(as_list(statement["Resource"]), sort_keys=True): set(
            as_list(statement["Action"])
        )
        for statement in _role_statements(template, "ApiFunction")
        if any(action.startswith("dynamodb:") for action in as_list(statement["Action"]))
    }
    assert grants == {
        json.dumps([orders_arn]): {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
        json.dumps([records_arn]): {
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        },
    }
    variables = template["Resources"][_logical_id(template, "AWS::Lambda::Function", "Api")]
    assert variables["Properties"]["Environment"]["Variables"]["IDEMPOTENCY_TABLE_NAME"] == {
        "Ref": records_arn["Fn::GetAtt"][0]
    }
    machine_id = _logical_id(template, "AWS::StepFunctions::StateMachine", "OrderWorkflow")
    assert {
        "Action": "states:StartExecution",
        "Effect": "Allow",
        "Resource": {"Ref": machine_id},
    } in _role_statements(template, "ApiFunction")


def test_ingest_function_reads_uploads_writes_orders_quarantine_and_checkpoints_only(
    template: dict[str, Any],
) -> None:
    statements = _role_statements(template, "IngestFunction")
    s3_statements = [s for s in statements if "s3:GetObject" in as_list(s["Action"])]
    assert len(s3_statements) == 1
    assert as_list(s3_statements[0]["Action"]) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert json.dumps(s3_statements[0]["Resource"]).endswith('"/uploads/*.json"]]}')
    [put] = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    assert json.dumps(put["Resource"]).endswith('"/quarantine/*"]]}')
    assert {a for a in _actions(statements) if a.startswith(("dynamodb:", "s3:"))} == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "dynamodb:PutItem",
        "dynamodb:GetItem",
    }
    records_id = _logical_id(template, "AWS::DynamoDB::Table", "Idempotency")
    [checkpoints] = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [records_id, "Arn"]}]
    assert set(as_list(checkpoints["Action"])) == {"dynamodb:GetItem", "dynamodb:PutItem"}
    function = template["Resources"][_logical_id(template, "AWS::Lambda::Function", "Ingest")]
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["QUARANTINE_PREFIX"] == "quarantine/"
    assert variables["PROGRESS_TABLE_NAME"] == {"Ref": records_id}


def test_stream_function_may_start_this_workflow_only(template: dict[str, Any]) -> None:
    statements = _role_statements(template, "StreamFunction")
    start = [s for s in statements if "states:StartExecution" in as_list(s["Action"])]
    machine_id = _logical_id(template, "AWS::StepFunctions::StateMachine", "OrderWorkflow")
    assert start == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}}
    ]
    assert not {a for a in _actions(statements) if a.startswith("dynamodb:Put")}


def test_workflow_tasks_cannot_touch_the_table_or_topic(template: dict[str, Any]) -> None:
    for fragment in ("ProcessOrderFunction", "ShipOrderFunction", "BackorderFunction"):
        actions = _actions(_role_statements(template, fragment))
        assert not {a for a in actions if a.startswith(("dynamodb:", "sns:", "states:"))}, fragment


def test_workflow_may_publish_to_the_encrypted_topic_and_use_its_key(
    template: dict[str, Any],
) -> None:
    statements = _role_statements(template, "OrderWorkflow")
    topic_id = _logical_id(template, "AWS::SNS::Topic", "Notifications")
    key_id = _logical_id(template, "AWS::KMS::Key", "NotificationsKey")
    grants = {
        (frozenset(as_list(s["Action"])), json.dumps(s["Resource"]))
        for s in statements
        if s["Effect"] == "Allow"
    }
    assert (frozenset({"sns:Publish"}), json.dumps({"Ref": topic_id})) in grants
    key_arn = json.dumps({"Fn::GetAtt": [key_id, "Arn"]})
    assert (frozenset({"kms:GenerateDataKey", "kms:Decrypt"}), key_arn) in grants


def test_notification_topic_is_kms_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    # The stack has two topics: order notifications, and the alarms' (tests/constructs).
    topic_id = _logical_id(template, "AWS::SNS::Topic", "Notifications")
    assert "KmsMasterKeyId" in template["Resources"][topic_id]["Properties"]
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in resources_of_type(template, "AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [{"Ref": topic_id}]
    ]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Statement"]
    )


def test_outputs_name_every_entry_point(template: dict[str, Any]) -> None:
    assert {
        "RestApiUrl",
        "HttpApiUrl",
        "UploadsBucketName",
        "OrdersTableName",
        "StateMachineArn",
        "UserPoolId",
    } <= set(template["Outputs"])
