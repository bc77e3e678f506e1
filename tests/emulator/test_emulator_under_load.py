"""The emulator under concurrent load: DynamoDB writes and their stream records, Step
Functions' DynamoDB errors, Lambda sandboxes and payload limits.

Everything is created through the AWS APIs on one emulator of this module's own (no
synthesis), whose sandboxes expire after ``IDLE_SECONDS``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.config
import botocore.exceptions
import pytest

from emulator import Emulator, http_request, start_emulator, wait_for, wait_for_execution
from tests.emulator.load_support import (
    create_function,
    create_role,
    create_table,
    sandbox_processes,
    stream_records,
)
from tests.emulator_support import ready_or_skip

CONCURRENT_WRITES = 100
#: One client connection per writer thread, and no SDK retry hiding a failed request.
_NO_RETRIES = botocore.config.Config(
    max_pool_connections=50, retries={"max_attempts": 1, "mode": "standard"}
)


#: The sandbox bounds of this module's emulator (``lambda_sandboxes``), small to be seen.
SANDBOX_SETTINGS = {
    "EMULATOR_LAMBDA_IDLE_SECONDS": "1",
    "EMULATOR_LAMBDA_MAX_SANDBOXES": "4",
    "EMULATOR_LAMBDA_MAX_SANDBOXES_PER_FUNCTION": "2",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    # The server reads its settings from the environment it is started with.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SANDBOX_SETTINGS.items():
            patch.setenv(name, value)
        with start_emulator() as started:
            patch.undo()
            yield ready_or_skip(started)


@pytest.fixture(scope="module")
def responding(emulator: Emulator, role_arn: str) -> str:
    """A function that answers with as many bytes as its event's ``size`` asks for."""
    create_function(emulator, "responding", "respond", role_arn)
    return "responding"


@pytest.fixture(scope="module")
def role_arn(emulator: Emulator) -> str:
    return create_role(emulator, "load-functions")


@pytest.fixture(scope="module")
def streamed_table(emulator: Emulator, role_arn: str) -> dict[str, Any]:
    """A table whose stream is mapped to a function counting each record's deliveries."""
    table = create_table(emulator, "loaded", "pk", stream=True)
    create_table(emulator, "deliveries", "invocation", stream=False)
    create_function(
        emulator,
        "recorder",
        "record",
        role_arn,
        Environment={"Variables": {"DELIVERIES_TABLE": "deliveries"}},
    )
    emulator.client("lambda").create_event_source_mapping(
        FunctionName="recorder",
        EventSourceArn=table["LatestStreamArn"],
        StartingPosition="LATEST",
        BatchSize=100,
    )
    return table


def _delivered_records(emulator: Emulator) -> dict[str, list[dict[str, Any]]]:
    """Every stream record the mapped function received, by sequence number (a record
    delivered twice is listed twice)."""
    pages = emulator.client("dynamodb").get_paginator("scan").paginate(TableName="deliveries")
    delivered: dict[str, list[dict[str, Any]]] = {}
    for page in pages:
        for item in page["Items"]:
            for record in json.loads(item["records"]["S"]):
                delivered.setdefault(record["SequenceNumber"], []).append(record)
    return delivered


def _put(client: Any, item: dict[str, Any]) -> str:
    try:
        client.put_item(TableName="loaded", Item=item)
        return "ok"
    except Exception as error:  # the figure under test is how many fail, and how
        return f"{type(error).__name__}: {error}"[:200]


def test_concurrent_writes_each_give_one_stream_record_delivered_once(
    emulator: Emulator, streamed_table: dict[str, Any]
) -> None:
    client = emulator.client("dynamodb", config=_NO_RETRIES)
    items = [
        {
            "pk": {"S": f"load#{i}"},
            "payload": {"B": bytes([i % 256])} if i % 10 == 0 else {"S": "x"},
        }
        for i in range(CONCURRENT_WRITES)
    ]

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(lambda item: _put(client, item), items))

    assert [o for o in outcomes if o != "ok"] == []
    records = [
        r
        for r in stream_records(emulator, streamed_table["LatestStreamArn"])
        if r["dynamodb"]["Keys"]["pk"]["S"].startswith("load#")
    ]
    assert len(records) == CONCURRENT_WRITES
    assert len({r["dynamodb"]["Keys"]["pk"]["S"] for r in records}) == CONCURRENT_WRITES
    sequences = {r["dynamodb"]["SequenceNumber"] for r in records}

    def all_delivered() -> dict[str, list[dict[str, Any]]] | None:
        found = _delivered_records(emulator)
        return found if sequences <= found.keys() else None

    delivered = wait_for(all_delivered, f"{CONCURRENT_WRITES} records delivered", emulator=emulator)
    assert {s: len(delivered[s]) for s in sequences} == dict.fromkeys(sequences, 1)


def test_binary_attributes_are_stored_and_delivered_base64_encoded(
    emulator: Emulator, streamed_table: dict[str, Any]
) -> None:
    item = {
        "pk": {"S": "binary#1"},
        "blob": {"B": b"\x00\xff"},
        "blobs": {"BS": [b"\x01", b"\x02"]},
        "nested": {"M": {"inner": {"B": b"\x03"}}},
    }

    emulator.client("dynamodb", config=_NO_RETRIES).put_item(TableName="loaded", Item=item)

    record = next(
        r
        for r in stream_records(emulator, streamed_table["LatestStreamArn"])
        if r["dynamodb"]["Keys"]["pk"]["S"] == "binary#1"
    )
    delivered = wait_for(
        lambda: _delivered_records(emulator).get(record["dynamodb"]["SequenceNumber"]),
        "the binary item's stream record delivered",
        emulator=emulator,
    )
    # Lambda sends binary values as base64 strings (boto3 decoded GetRecords' to bytes).
    image = delivered[0]["NewImage"]
    assert image["blob"] == {"B": base64.b64encode(b"\x00\xff").decode()}
    assert sorted(image["blobs"]["BS"]) == ["AQ==", "Ag=="]
    assert image["nested"]["M"]["inner"] == {"B": base64.b64encode(b"\x03").decode()}
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": b"\x00\xff"}


def test_update_item_records_one_insert_when_it_creates_and_one_modify_after(
    emulator: Emulator, streamed_table: dict[str, Any]
) -> None:
    client = emulator.client("dynamodb")
    for status in ("NEW", "SHIPPED"):
        client.update_item(
            TableName="loaded",
            Key={"pk": {"S": "updated#1"}},
            UpdateExpression="SET #status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": status}},
        )

    records = [
        (r["eventName"], r["dynamodb"]["NewImage"]["status"]["S"])
        for r in stream_records(emulator, streamed_table["LatestStreamArn"])
        if r["dynamodb"]["Keys"]["pk"]["S"] == "updated#1"
    ]
    assert records == [("INSERT", "NEW"), ("MODIFY", "SHIPPED")]


def test_a_dynamodb_task_that_gets_a_500_fails_with_the_service_error_and_is_caught(
    emulator: Emulator, role_arn: str
) -> None:
    create_table(emulator, "counters", "pk", stream=False)
    # moto 5.2.5 fails inside this update (ADD of a non-number; DynamoDB answers a
    # ValidationException): the emulator answers it with DynamoDB's 500.
    update = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:updateItem",
        "Parameters": {
            "TableName": "counters",
            "Key": {"pk": {"S": "broken"}},
            "UpdateExpression": "ADD hits :hits",
            "ExpressionAttributeValues": {":hits": {"N": "not-a-number"}},
        },
        "Catch": [
            {"ErrorEquals": ["DynamoDB.InternalServerError"], "Next": "Caught"},
        ],
        "End": True,
    }
    definition = {
        "StartAt": "Update",
        "States": {"Update": update, "Caught": {"Type": "Pass", "End": True}},
    }
    stepfunctions = emulator.client("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name="caught-500", definition=json.dumps(definition), roleArn=role_arn
    )["stateMachineArn"]

    stepfunctions.start_execution(stateMachineArn=machine)
    execution = wait_for_execution(emulator, machine)

    history = stepfunctions.get_execution_history(executionArn=execution["executionArn"])
    failure = next(e for e in history["events"] if e["type"] == "TaskFailed")
    assert failure["taskFailedEventDetails"]["error"] == "DynamoDB.InternalServerError"
    assert "Status Code: 500" in failure["taskFailedEventDetails"]["cause"]
    assert execution["status"] == "SUCCEEDED"


def _invoke(emulator: Emulator, name: str, event: Any, **options: Any) -> dict[str, Any]:
    lambda_client = emulator.client("lambda", config=_NO_RETRIES)
    response = dict(lambda_client.invoke(FunctionName=name, Payload=json.dumps(event), **options))
    response["Payload"] = response["Payload"].read()
    return response


def test_concurrent_invocations_share_bounded_sandboxes_that_expire_when_idle(
    emulator: Emulator, role_arn: str
) -> None:
    create_function(emulator, "pausing", "pause", role_arn)

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(
            pool.map(lambda _: _invoke(emulator, "pausing", {"seconds": 0.3}), range(5))
        )

    assert [r["StatusCode"] for r in responses] == [200] * 5
    assert len({json.loads(r["Payload"])["pid"] for r in responses}) == 2  # the bound
    assert wait_for(lambda: not sandbox_processes(emulator) or None, "idle sandboxes to end")


def test_reserved_concurrency_throttles_a_synchronous_invocation_with_429(
    emulator: Emulator, role_arn: str
) -> None:
    create_function(emulator, "reserved", "pause", role_arn)
    emulator.client("lambda").put_function_concurrency(
        FunctionName="reserved", ReservedConcurrentExecutions=1
    )

    lambda_client = emulator.client("lambda", config=_NO_RETRIES)
    before = set(sandbox_processes(emulator))

    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(_invoke, emulator, "reserved", {"seconds": 1})
        # Its sandbox exists once the invocation holds the function's one unit of concurrency.
        wait_for(lambda: set(sandbox_processes(emulator)) - before, "the first invocation")
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            lambda_client.invoke(FunctionName="reserved", Payload=b'{"seconds": 0}')
        assert running.result()["StatusCode"] == 200

    throttled = refused.value.response
    assert throttled["Error"]["Code"] == "TooManyRequestsException"
    assert throttled["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert throttled["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


@pytest.mark.parametrize(
    ("invocation_type", "size", "message"),
    [
        ("RequestResponse", 6 * 1024 * 1024, "Request must be smaller than 6291456 bytes"),
        ("Event", 1024 * 1024, "payload is too large for the Event invocation type"),
    ],
)
def test_a_request_past_lambdas_payload_limit_is_refused_with_413(
    emulator: Emulator, responding: str, invocation_type: str, size: int, message: str
) -> None:
    lambda_client = emulator.client("lambda", config=_NO_RETRIES)
    payload = json.dumps({"size": 1, "padding": "x" * size})

    # The service answers RequestEntityTooLargeException, a code botocore's model does not
    # list (it names RequestTooLargeException), so boto3 raises a plain ClientError.
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lambda_client.invoke(
            FunctionName=responding, Payload=payload, InvocationType=invocation_type
        )

    assert refused.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert message in refused.value.response["Error"]["Message"]


def test_a_response_past_lambdas_payload_limit_is_a_function_error(
    emulator: Emulator, responding: str
) -> None:
    response = _invoke(emulator, responding, {"size": 6 * 1024 * 1024 + 200})

    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"])["errorType"] == "Function.ResponseSizeTooLarge"


def test_an_http_api_answers_500_when_lambda_throttles_its_function(
    emulator: Emulator, role_arn: str
) -> None:
    function_arn = create_function(emulator, "unavailable", "pause", role_arn)
    lambda_client = emulator.client("lambda")
    lambda_client.put_function_concurrency(
        FunctionName="unavailable", ReservedConcurrentExecutions=0
    )
    apis = emulator.client("apigatewayv2")
    api_id = apis.create_api(Name="throttled", ProtocolType="HTTP")["ApiId"]
    integration = apis.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=function_arn,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    apis.create_route(ApiId=api_id, RouteKey="POST /pause", Target=f"integrations/{integration}")
    apis.create_stage(ApiId=api_id, StageName="$default")
    lambda_client.add_permission(
        FunctionName="unavailable",
        StatementId="api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{emulator.region}:{emulator.account_id}:{api_id}/*",
    )

    url = f"https://{api_id}.execute-api.{emulator.region}.amazonaws.com/pause"
    response = http_request(emulator, "POST", url, {"seconds": 0})

    assert (response.status, response.json()) == (500, {"message": "Internal Server Error"})


def test_an_update_item_that_fails_creating_an_item_leaves_neither_item_nor_record(
    emulator: Emulator, streamed_table: dict[str, Any]
) -> None:
    client = emulator.client("dynamodb", config=_NO_RETRIES)

    with pytest.raises(botocore.exceptions.ClientError):
        client.update_item(
            TableName="loaded",
            Key={"pk": {"S": "half-written#1"}},
            UpdateExpression="ADD hits :hits",
            ExpressionAttributeValues={":hits": {"N": "not-a-number"}},
        )

    assert "Item" not in client.get_item(TableName="loaded", Key={"pk": {"S": "half-written#1"}})
    keys = [
        r["dynamodb"]["Keys"]["pk"]["S"]
        for r in stream_records(emulator, streamed_table["LatestStreamArn"])
    ]
    assert "half-written#1" not in keys


def test_a_throttled_asynchronous_invocation_is_retried_until_it_runs(
    emulator: Emulator, role_arn: str
) -> None:
    create_function(emulator, "queued", "pause", role_arn)
    lambda_client = emulator.client("lambda")
    lambda_client.put_function_concurrency(FunctionName="queued", ReservedConcurrentExecutions=1)

    for _ in range(2):  # the second arrives while the first holds the one unit of concurrency
        lambda_client.invoke(
            FunctionName="queued", InvocationType="Event", Payload=b'{"seconds": 0.6}'
        )

    logs = emulator.client("logs")

    def reports() -> bool | None:
        try:
            found = logs.filter_log_events(
                logGroupName="/aws/lambda/queued", filterPattern="REPORT"
            )
        except logs.exceptions.ResourceNotFoundException:
            return None  # no invocation has finished yet
        return len(found["events"]) == 2 or None

    wait_for(reports, "both invocations to run", emulator=emulator)
    assert (
        "queued throttled (ReservedFunctionConcurrentInvocationLimitExceeded)"
        in emulator.read_log()
    )


def test_a_throttled_stream_batch_is_retried_until_it_is_delivered(
    emulator: Emulator, role_arn: str
) -> None:
    table = create_table(emulator, "throttled-stream", "pk", stream=True)
    create_table(emulator, "throttled-deliveries", "invocation", stream=False)
    environment = {"Variables": {"DELIVERIES_TABLE": "throttled-deliveries"}}
    create_function(emulator, "paused-recorder", "record", role_arn, Environment=environment)
    lambda_client = emulator.client("lambda")
    lambda_client.put_function_concurrency(
        FunctionName="paused-recorder", ReservedConcurrentExecutions=0
    )
    lambda_client.create_event_source_mapping(
        FunctionName="paused-recorder",
        EventSourceArn=table["LatestStreamArn"],
        StartingPosition="LATEST",
        MaximumRetryAttempts=0,  # a throttle must not use up the attempts
    )
    emulator.client("dynamodb").put_item(TableName="throttled-stream", Item={"pk": {"S": "late"}})
    wait_for(
        lambda: "stream batch for paused-recorder throttled" in emulator.read_log() or None,
        "the batch to be throttled",
    )

    lambda_client.delete_function_concurrency(FunctionName="paused-recorder")

    scan = emulator.client("dynamodb").scan
    delivered = wait_for(
        lambda: scan(TableName="throttled-deliveries")["Items"] or None, "the throttled batch"
    )
    assert [r["Keys"]["pk"]["S"] for r in json.loads(delivered[0]["records"]["S"])] == ["late"]
