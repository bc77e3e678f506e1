"""OrdersSample end to end: the synthesized template deployed into the local emulator.

One synthesis and one deployment, shared with the other e2e modules (``conftest.py``); each
test drives one flow as a user would, signed in to the stack's user pool, and checks its
outcome in the deployed resources.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator import (
    DeployedStack,
    Emulator,
    http_request,
    structured_log_records,
    wait_for,
    wait_for_execution,
    wait_for_item,
)

FLOW_TIMEOUT_SECONDS = 60.0


def order(customer: str, quantity: int) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "email": f"{customer}@example.com",
        "items": [{"sku": "BOOK-42", "quantity": quantity}],
    }


def stored(emulator: Emulator, stack: DeployedStack, order_id: str) -> dict[str, Any] | None:
    item = (
        emulator.client("dynamodb")
        .get_item(TableName=stack.outputs["OrdersTableName"], Key={"order_id": {"S": order_id}})
        .get("Item")
    )
    return item


def test_stack_deploys_with_the_template_unchanged(stack: DeployedStack) -> None:
    assert {
        "RestApiUrl",
        "HttpApiUrl",
        "UploadsBucketName",
        "OrdersTableName",
        "StateMachineArn",
        "UserPoolId",
    } <= set(stack.outputs)


@pytest.mark.parametrize("api", ["HttpApiUrl", "RestApiUrl"])
def test_api_creates_an_order_and_reads_it_back(
    emulator: Emulator, stack: DeployedStack, signed_in: dict[str, dict[str, str]], api: str
) -> None:
    base = stack.outputs[api]
    created = http_request(
        emulator, "POST", base + "orders", order(f"reader-{api}", 2), signed_in[api]
    )
    assert created.status == 201, created
    body = created.json()
    assert body["status"] == "PENDING"
    assert stored(emulator, stack, body["order_id"]) is not None

    read = http_request(emulator, "GET", f"{base}orders/{body['order_id']}", None, signed_in[api])
    assert read.status == 200
    assert read.json()["order_id"] == body["order_id"]


@pytest.mark.parametrize("api", ["HttpApiUrl", "RestApiUrl"])
def test_api_answers_a_bad_request_with_a_json_4xx(
    emulator: Emulator, stack: DeployedStack, signed_in: dict[str, dict[str, str]], api: str
) -> None:
    bad = http_request(
        emulator, "POST", stack.outputs[api] + "orders", {"customer_id": "x"}, signed_in[api]
    )
    assert 400 <= bad.status < 500
    assert set(bad.json()) == {"error", "request_id"}
    assert set(bad.json()["error"]) == {"code", "message"}

    missing = http_request(
        emulator, "GET", stack.outputs[api] + "orders/no-such-order", None, signed_in[api]
    )
    assert missing.status == 404


def test_uploaded_file_stores_valid_orders_and_skips_invalid_ones(
    emulator: Emulator, stack: DeployedStack
) -> None:
    table = stack.outputs["OrdersTableName"]
    dynamodb = emulator.client("dynamodb")
    customers = {"ingest-alan", "ingest-barbara"}
    file_orders = [order("ingest-alan", 1), {"customer_id": "no items"}, order("ingest-barbara", 3)]
    emulator.client("s3").put_object(
        Bucket=stack.outputs["UploadsBucketName"],
        Key="uploads/e2e-orders.json",
        Body=json.dumps(file_orders).encode(),
    )

    def ingested() -> list[dict[str, Any]] | None:
        items = [
            item
            for item in dynamodb.scan(TableName=table)["Items"]
            if item["customer_id"]["S"].startswith("ingest-")
            or item["customer_id"]["S"] == "no items"
        ]
        return items if len(items) >= len(customers) else None

    items = wait_for(
        ingested, "the ingest function to store the file's orders", FLOW_TIMEOUT_SECONDS, emulator
    )
    assert {item["customer_id"]["S"] for item in items} == customers
    skipped = structured_log_records(
        emulator, stack.physical_id("IngestFunctionLogGroup"), "Invalid order skipped"
    )
    # Other modules upload files to the same function: look at this file's records only.
    assert [r["index"] for r in skipped if r["key"] == "uploads/e2e-orders.json"] == [1]


def test_a_file_outside_the_prefix_triggers_nothing(
    emulator: Emulator, stack: DeployedStack
) -> None:
    emulator.client("s3").put_object(
        Bucket=stack.outputs["UploadsBucketName"],
        Key="elsewhere/ignored.json",
        Body=json.dumps([order("ignored-outside-prefix", 1)]).encode(),
    )
    # A matching upload sent afterwards is ingested; the ignored one must still be absent.
    emulator.client("s3").put_object(
        Bucket=stack.outputs["UploadsBucketName"],
        Key="uploads/after-ignored.json",
        Body=json.dumps([order("after-ignored", 1)]).encode(),
    )
    table = stack.outputs["OrdersTableName"]
    dynamodb = emulator.client("dynamodb")

    def customers() -> set[str]:
        return {item["customer_id"]["S"] for item in dynamodb.scan(TableName=table)["Items"]}

    wait_for(
        lambda: "after-ignored" in customers() or None,
        "the matching upload",
        FLOW_TIMEOUT_SECONDS,
        emulator,
    )
    assert "ignored-outside-prefix" not in customers()


@pytest.mark.parametrize(("quantity", "final_status"), [(2, "SHIPPED"), (11, "BACKORDERED")])
def test_a_new_order_runs_its_workflow_updates_its_status_and_notifies(
    emulator: Emulator,
    stack: DeployedStack,
    signed_in: dict[str, dict[str, str]],
    quantity: int,
    final_status: str,
) -> None:
    topic_queue = _subscribe_queue(emulator, stack, f"e2e-{final_status.lower()}")
    created = http_request(
        emulator,
        "POST",
        stack.outputs["HttpApiUrl"] + "orders",
        order(f"wf-{quantity}", quantity),
        signed_in["HttpApiUrl"],
    )
    order_id = created.json()["order_id"]

    execution = wait_for_execution(
        emulator, stack.outputs["StateMachineArn"], order_id, FLOW_TIMEOUT_SECONDS
    )
    assert execution["status"] == "SUCCEEDED", execution
    item = wait_for_item(
        emulator,
        stack.outputs["OrdersTableName"],
        {"order_id": {"S": order_id}},
        lambda item: item["status"]["S"] == final_status,
    )
    assert item["status"]["S"] == final_status

    def notified() -> dict[str, Any] | None:
        messages = (
            emulator.client("sqs")
            .receive_message(QueueUrl=topic_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            .get("Messages", [])
        )
        for message in messages:
            body = json.loads(message["Body"])
            if body["order_id"] == order_id:
                return dict(body)
        return None

    notification = wait_for(
        notified, "the order's SNS notification", FLOW_TIMEOUT_SECONDS, emulator
    )
    assert notification["status"] == final_status


def test_one_execution_per_order_named_after_it(
    emulator: Emulator, stack: DeployedStack, signed_in: dict[str, dict[str, str]]
) -> None:
    created = http_request(
        emulator,
        "POST",
        stack.outputs["HttpApiUrl"] + "orders",
        order("once", 1),
        signed_in["HttpApiUrl"],
    )
    order_id = created.json()["order_id"]
    wait_for_execution(emulator, stack.outputs["StateMachineArn"], order_id, FLOW_TIMEOUT_SECONDS)
    executions = emulator.client("stepfunctions").list_executions(
        stateMachineArn=stack.outputs["StateMachineArn"]
    )["executions"]
    assert [e["name"] for e in executions].count(order_id) == 1


def _subscribe_queue(emulator: Emulator, stack: DeployedStack, name: str) -> str:
    """A queue subscribed to the notification topic, to observe what customers would get."""
    sqs = emulator.client("sqs")
    queue_url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    emulator.client("sns").subscribe(
        TopicArn=stack.outputs["NotificationTopicArn"],
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return queue_url
