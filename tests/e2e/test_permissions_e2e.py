"""OrdersSample's permissions, proven in the emulator: enough for every flow, and each needed.

The emulator enforces IAM and KMS (``emulator.patches.iam_enforcement``). The sample's flows leave
no denied call; copies of the stack with one grant removed each, deployed into the same
emulator under other names, fail the way AWS fails them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator import (
    DeployedStack,
    Emulator,
    HttpResponse,
    deploy_stack,
    http_request,
    read_permissions_report,
    structured_log_records,
    wait_for,
    wait_for_execution,
    wait_for_item,
)
from tests.e2e.conftest import api_headers, signed_in_user

FLOW_TIMEOUT_SECONDS = 60.0
Resources = dict[str, Any]


def order(customer: str, quantity: int = 1) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "email": f"{customer}@example.com",
        "items": [{"sku": "BOOK-42", "quantity": quantity}],
    }


def _resource(resources: Resources, logical_id_prefix: str) -> str:
    matches = [lid for lid in resources if lid.startswith(logical_id_prefix)]
    assert len(matches) == 1, matches
    return matches[0]


def _statements(resources: Resources, policy_prefix: str) -> list[dict[str, Any]]:
    policy = resources[_resource(resources, policy_prefix)]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def without_api_put_item(resources: Resources) -> None:
    """The API function's role loses dynamodb:PutItem (keeps GetItem)."""
    for statement in _statements(resources, "ApiFunctionExecutionRoleDefaultPolicy"):
        actions = statement["Action"] if isinstance(statement["Action"], list) else []
        if "dynamodb:PutItem" in actions:
            actions.remove("dynamodb:PutItem")
            return
    raise AssertionError("the API function's role grants no dynamodb:PutItem")


def without_workflow_topic_key_grant(resources: Resources) -> None:
    """The workflow's role loses kms:GenerateDataKey/kms:Decrypt on the topic's key."""
    statements = _statements(resources, "OrderWorkflowExecutionRoleDefaultPolicy")
    kept = [s for s in statements if "kms:GenerateDataKey" not in s["Action"]]
    assert len(kept) == len(statements) - 1
    statements[:] = kept


def without_stream_on_failure_send(resources: Resources) -> None:
    """The stream function's role loses sqs:SendMessage on the mapping's on-failure queue."""
    for statement in _statements(resources, "StreamFunctionExecutionRoleDefaultPolicy"):
        if "sqs:GetQueueUrl" in statement["Action"]:
            statement["Action"].remove("sqs:SendMessage")
            return
    raise AssertionError("the stream function's role has no on-failure queue grant")


def without_http_post_permission(resources: Resources) -> None:
    """The HTTP API's POST /orders route loses its AWS::Lambda::Permission."""
    del resources[_resource(resources, "HttpApiPOSTordersInvokePermission")]


Deploy = Callable[[str, Callable[[Resources], None]], DeployedStack]


@pytest.fixture(scope="module")
def deploy_weakened(
    emulator: Emulator, cloud_assembly: Path, tmp_path_factory: pytest.TempPathFactory
) -> Deploy:
    """Deploy a copy of the synthesized OrdersSample, with ``weaken`` applied, as ``stack_name``."""
    directory = tmp_path_factory.mktemp("weakened")

    def deploy(stack_name: str, weaken: Callable[[Resources], None]) -> DeployedStack:
        copy = directory / stack_name
        shutil.copytree(cloud_assembly, copy)
        template_path = copy / "OrdersSample.template.json"
        template = json.loads(template_path.read_text(encoding="utf-8"))
        weaken(template["Resources"])
        template_path.write_text(json.dumps(template), encoding="utf-8")
        manifest_path = copy / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["artifacts"]["OrdersSample"]["properties"]["stackName"] = stack_name
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
        return deploy_stack(emulator, copy, stack_name)

    return deploy


def _physical(stack: DeployedStack, resource_type: str, logical_id_prefix: str) -> str:
    [found] = [
        physical_id
        for logical_id, physical_id in stack.physical_ids_of_type(resource_type).items()
        if logical_id.startswith(logical_id_prefix)
    ]
    return found


def _denials(report: dict[str, Any], role_fragment: str) -> list[dict[str, Any]]:
    return [
        denial
        for arn, role in report["roles"].items()
        if role_fragment in arn
        for denial in role["denied"]
    ]


_USER_TOKENS: dict[str, dict[str, str]] = {}


def _post_order(emulator: Emulator, stack: DeployedStack, api: str, customer: str) -> HttpResponse:
    """POST an order through ``api`` as a user signed in to ``stack``'s pool (once per stack)."""
    if stack.name not in _USER_TOKENS:
        _USER_TOKENS[stack.name] = signed_in_user(emulator, stack)
    headers = api_headers(_USER_TOKENS[stack.name])[api]
    return http_request(emulator, "POST", stack.outputs[api] + "orders", order(customer), headers)


def test_the_sample_flows_are_never_denied_and_use_the_topic_key_grant(
    emulator: Emulator, stack: DeployedStack, signed_in: dict[str, dict[str, str]]
) -> None:
    created = http_request(
        emulator,
        "POST",
        stack.outputs["HttpApiUrl"] + "orders",
        order("iam"),
        signed_in["HttpApiUrl"],
    )
    assert created.status == 201, created
    order_id = created.json()["order_id"]
    execution = wait_for_execution(
        emulator, stack.outputs["StateMachineArn"], order_id, FLOW_TIMEOUT_SECONDS
    )
    assert execution["status"] == "SUCCEEDED", execution

    report = read_permissions_report(emulator, stack)
    assert report["enforced"] is True
    assert report["summary"]["roles"] == len(stack.physical_ids_of_type("AWS::IAM::Role")) > 0
    assert report["summary"]["denied"] == 0, report["roles"]
    assert report["summary"]["resource_policy_denied"] == 0
    workflow = next(r for arn, r in report["roles"].items() if "OrderWorkflow" in arn)
    statuses = {g["action"]: g["status"] for g in workflow["grants"]}
    assert statuses["kms:GenerateDataKey"] == statuses["kms:Decrypt"] == "used"
    assert statuses["sns:Publish"] == statuses["dynamodb:UpdateItem"] == "used"


def test_without_put_item_the_api_answers_its_500_and_the_denial_names_put_item(
    emulator: Emulator, deploy_weakened: Deploy
) -> None:
    weak = deploy_weakened("OrdersSampleNoPutItem", without_api_put_item)
    created = _post_order(emulator, weak, "HttpApiUrl", "np")

    assert created.status == 500
    assert created.json()["error"]["code"] == "INTERNAL_ERROR"
    table_arn = (
        f"arn:aws:dynamodb:{emulator.region}:{emulator.account_id}:table/"
        f"{weak.outputs['OrdersTableName']}"
    )
    [denial] = _denials(read_permissions_report(emulator, weak), "ApiFunctionExecutionRole")
    assert (denial["action"], denial["resource"]) == ("dynamodb:PutItem", table_arn)
    role = _physical(weak, "AWS::IAM::Role", "ApiFunctionExecutionRole")
    function = _physical(weak, "AWS::Lambda::Function", "ApiFunction")
    assert denial["message"] == (
        f"User: arn:aws:sts::{emulator.account_id}:assumed-role/{role}/{function} is not "
        f"authorized to perform: dynamodb:PutItem on resource: {table_arn} because no "
        "identity-based policy allows the dynamodb:PutItem action"
    )
    failures = structured_log_records(
        emulator, weak.physical_id("ApiFunctionLogGroup"), "Request failed"
    )
    assert any("AccessDeniedException" in str(r.get("exception")) for r in failures), failures


def test_without_the_topic_key_grant_the_workflow_catches_the_kms_denial_and_records_it(
    emulator: Emulator, deploy_weakened: Deploy
) -> None:
    weak = deploy_weakened("OrdersSampleNoTopicKey", without_workflow_topic_key_grant)
    created = _post_order(emulator, weak, "HttpApiUrl", "nk")
    order_id = created.json()["order_id"]

    execution = wait_for_execution(
        emulator, weak.outputs["StateMachineArn"], order_id, FLOW_TIMEOUT_SECONDS
    )
    assert (execution["status"], execution.get("error")) == ("FAILED", "NotificationFailed")
    # The order did ship: the failed notification is recorded beside its status.
    wait_for_item(
        emulator,
        weak.outputs["OrdersTableName"],
        {"order_id": {"S": order_id}},
        lambda item: (
            (item["status"]["S"], item.get("notification", {}).get("S")) == ("SHIPPED", "FAILED")
        ),
    )
    history = emulator.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"]
    )["events"]
    failed = [e["taskFailedEventDetails"] for e in history if "taskFailedEventDetails" in e]
    assert [f["resource"] for f in failed] == ["publish"] * 3, failed  # tried, retried twice
    assert "KMSAccessDenied" in failed[0]["error"]
    assert "is not authorized to perform: kms:GenerateDataKey" in failed[0]["cause"]
    [denial] = _denials(read_permissions_report(emulator, weak), "OrderWorkflowExecutionRole")
    assert denial["action"] == "kms:GenerateDataKey"
    assert denial["resource"].startswith(f"arn:aws:kms:{emulator.region}:")


def test_without_its_lambda_permission_the_route_answers_500_without_invoking_the_function(
    emulator: Emulator, deploy_weakened: Deploy
) -> None:
    weak = deploy_weakened("OrdersSampleNoPostPermission", without_http_post_permission)
    refused = _post_order(emulator, weak, "HttpApiUrl", "nl")
    allowed = _post_order(emulator, weak, "RestApiUrl", "ok")

    assert (refused.status, refused.json()) == (500, {"message": "Internal Server Error"})
    assert allowed.status == 201
    customers = {
        item["customer_id"]["S"]
        for item in emulator.client("dynamodb").scan(TableName=weak.outputs["OrdersTableName"])[
            "Items"
        ]
    }
    assert customers == {"ok"}
    report = read_permissions_report(emulator, weak)
    [refusal] = report["resource_policy_denied"]
    assert refusal["principal"] == "apigateway.amazonaws.com"
    # The route invokes the function's live alias, and the permission it lacks is the alias's.
    assert refusal["resource"].endswith(
        f":function:{_physical(weak, 'AWS::Lambda::Function', 'ApiFunction')}:live"
    )
    assert refusal["source"].endswith("/$default/POST/orders")


def test_without_its_send_grant_the_stream_mapping_loses_the_failed_record_as_lambda_would(
    emulator: Emulator, deploy_weakened: Deploy
) -> None:
    weak = deploy_weakened("OrdersSampleNoOnFailureSend", without_stream_on_failure_send)
    emulator.client("dynamodb").put_item(
        TableName=weak.outputs["OrdersTableName"], Item={"order_id": {"S": "poison"}}
    )

    def denied() -> list[dict[str, Any]] | None:
        report = read_permissions_report(emulator, weak)
        return _denials(report, "StreamFunctionExecutionRole") or None

    [denial] = wait_for(denied, "the on-failure send to be denied", FLOW_TIMEOUT_SECONDS, emulator)
    queue_url = _physical(weak, "AWS::SQS::Queue", "NewOrdersOnFailureQueue")
    queue_arn = emulator.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert (denial["action"], denial["resource"]) == ("sqs:SendMessage", queue_arn)
    messages = emulator.client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)
    assert "Messages" not in messages
