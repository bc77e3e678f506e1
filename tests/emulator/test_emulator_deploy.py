"""A CDK cloud assembly deploys unchanged, and its functions, stream and HTTP API really run."""

from __future__ import annotations

import json
from typing import Any

from emulator import (
    DeployedStack,
    Emulator,
    http_request,
    invoke_function,
    wait_for,
    wait_for_item,
)


def test_tiny_stack_reaches_create_complete_with_every_resource_emulated_once(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    assert set(tiny_stack.outputs) == {
        "TableName",
        "WriterName",
        "ApiUrl",
        "FailedRecordsUrl",
        "UploadsBucket",
        "WriterAliasArn",
        "WriterVersion",
    }
    assert tiny_stack.outputs["ApiUrl"].startswith("https://")
    assert len(tiny_stack.physical_ids_of_type("AWS::DynamoDB::GlobalTable")) == 1
    assert len(emulator.client("apigatewayv2").get_apis()["Items"]) == 1
    assert tiny_stack.not_emulated == {}


def test_function_runs_its_asset_handler_with_the_stack_environment(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    result = invoke_function(emulator, tiny_stack.outputs["WriterName"], {"id": "direct#1"})

    assert result.function_error is None
    assert result.payload == {"written": "direct#1", "region": emulator.region}
    assert "START RequestId" in result.logs
    item = emulator.client("dynamodb").get_item(
        TableName=tiny_stack.outputs["TableName"], Key={"pk": {"S": "direct#1"}}
    )["Item"]
    assert item["via"]["S"] == tiny_stack.outputs["WriterName"]


def test_a_second_invocation_reuses_the_warm_sandbox(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    invoke_function(emulator, tiny_stack.outputs["WriterName"], {"id": "warm#1"})
    warm = invoke_function(emulator, tiny_stack.outputs["WriterName"], {"id": "warm#2"})

    assert warm.payload["written"] == "warm#2"
    assert "Init Duration" not in warm.logs


def test_handler_exception_is_a_function_error_named_after_its_class(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    result = invoke_function(
        emulator, tiny_stack.outputs["WriterName"], {"id": "direct#2", "reject": True}
    )

    assert result.function_error == "Unhandled"
    assert result.error_type == "OrderRejected"
    assert result.payload["errorMessage"] == "order direct#2 rejected"
    assert "OrderRejected" in result.logs


def test_stream_delivers_only_records_matching_the_mapping_filter_in_order(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    table = tiny_stack.outputs["TableName"]
    dynamodb = emulator.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#1"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#1"}, "note": {"S": "changed"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#2"}})

    # Records reach the function in order: once order#2 is seen, order#1's MODIFY was
    # filtered out, not merely late.
    wait_for_item(emulator, table, {"pk": {"S": "seen#order#2"}}, timeout_seconds=20)
    seen = dynamodb.get_item(TableName=table, Key={"pk": {"S": "seen#order#1"}})["Item"]
    assert [event["S"] for event in seen["events"]["L"]] == ["INSERT"]


def test_a_record_that_keeps_failing_goes_to_the_on_failure_queue_after_bisection(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    table = tiny_stack.outputs["TableName"]
    dynamodb, queue = emulator.client("dynamodb"), emulator.client("sqs")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#poison"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#after-poison"}})

    def failure_record() -> dict[str, Any] | None:
        messages = queue.receive_message(
            QueueUrl=tiny_stack.outputs["FailedRecordsUrl"], WaitTimeSeconds=1
        ).get("Messages", [])
        return json.loads(messages[0]["Body"]) if messages else None

    record = wait_for(failure_record, "the on-failure queue", 20, emulator)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    wait_for_item(emulator, table, {"pk": {"S": "seen#order#after-poison"}})


def test_an_uploaded_object_reaches_the_rule_target_through_eventbridge(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    emulator.client("s3").put_object(
        Bucket=tiny_stack.outputs["UploadsBucket"], Key="in/order.json", Body=b"{}"
    )

    item = wait_for_item(
        emulator, tiny_stack.outputs["TableName"], {"pk": {"S": "upload#in/order.json"}}
    )
    assert item["time"]["S"].endswith("Z")  # delivered with EventBridge's ISO-8601 time


def test_http_api_route_invokes_its_function_through_the_front_door(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    response = http_request(
        emulator, "POST", tiny_stack.outputs["ApiUrl"] + "/orders", {"id": "http#1"}
    )
    missing = http_request(emulator, "GET", tiny_stack.outputs["ApiUrl"] + "/nowhere")

    assert (response.status, response.json()) == (201, {"id": "http#1"})
    assert (missing.status, missing.json()) == (404, {"message": "Not Found"})
    wait_for_item(emulator, tiny_stack.outputs["TableName"], {"pk": {"S": "http#1"}})
