"""Every order exactly once: OrdersSample's data path under concurrency, duplicates, poison
input, a large file, a failing notification and a workflow for a missing order.

Each test asserts the invariant end to end, in the deployed stack: each valid order is stored
once, with exactly one completed workflow and a status that tells the truth; each rejected
input is reported and kept where it can be replayed. Uses the shared OrdersSample deployment
(``conftest.py``); every test uses its own customers, so it reads only what it wrote. The
inputs of all cases but the failing notification are sent at once (``inputs``), so that their
flows run side by side, as traffic does; each test then waits for its own outcome.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from emulator import (
    DeployedStack,
    Emulator,
    http_request,
    structured_log_records,
    wait_for,
    wait_for_execution,
)
from tests.e2e.test_orders_sample_e2e import FLOW_TIMEOUT_SECONDS, order


def scan_customers(emulator: Emulator, stack: DeployedStack, prefix: str) -> list[dict[str, Any]]:
    """The stored items whose customer id starts with ``prefix``."""
    pages = emulator.client("dynamodb").get_paginator("scan")
    return [
        item
        for page in pages.paginate(TableName=stack.outputs["OrdersTableName"], ConsistentRead=True)
        for item in page["Items"]
        if item.get("customer_id", {}).get("S", "").startswith(prefix)
    ]


def finished_executions(emulator: Emulator, stack: DeployedStack, order_ids: set[str]) -> Any:
    """Wait until every order in ``order_ids`` has a finished execution; all executions of
    those orders (by order id in their input), finished or not, as (name, status) pairs."""
    stepfunctions = emulator.client("stepfunctions")
    arn = stack.outputs["StateMachineArn"]

    def ours() -> list[tuple[str, str]] | None:
        found = []
        pages = stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=arn)
        for execution in (e for page in pages for e in page["executions"]):
            if execution["name"].split("--")[0] in order_ids:
                found.append((execution["name"], execution["status"]))
        done = {name for name, status in found if status != "RUNNING"}
        return found if {name.split("--")[0] for name in done} >= order_ids else None

    return wait_for(ours, f"workflows of {len(order_ids)} orders", FLOW_TIMEOUT_SECONDS, emulator)


def wait_for_orders(
    emulator: Emulator,
    stack: DeployedStack,
    prefix: str,
    done: Callable[[list[dict[str, Any]]], bool],
    what: str,
) -> list[dict[str, Any]]:
    """Wait until the items of ``prefix``'s customers satisfy ``done``; those items."""

    def ready() -> list[dict[str, Any]] | None:
        items = scan_customers(emulator, stack, prefix)
        return items if done(items) else None

    return wait_for(ready, f"{what} of {prefix}*", FLOW_TIMEOUT_SECONDS, emulator)


def assert_each_order_once_with_one_completed_workflow(
    emulator: Emulator, stack: DeployedStack, prefix: str, expected_customers: set[str]
) -> None:
    items = wait_for_orders(
        emulator,
        stack,
        prefix,
        lambda items: {i["customer_id"]["S"] for i in items} >= expected_customers,
        "the orders",
    )
    assert sorted(i["customer_id"]["S"] for i in items) == sorted(expected_customers)
    order_ids = {item["order_id"]["S"] for item in items}
    executions = finished_executions(emulator, stack, order_ids)
    assert sorted(name for name, _ in executions) == sorted(order_ids)  # one each, no retry
    assert {status for _, status in executions} == {"SUCCEEDED"}
    final = wait_for_orders(
        emulator,
        stack,
        prefix,
        lambda items: all("notification" in i for i in items),
        "the notifications",
    )
    assert {(i["status"]["S"], i["notification"]["S"]) for i in final} == {("SHIPPED", "SENT")}


def upload(emulator: Emulator, stack: DeployedStack, key: str, body: bytes) -> None:
    emulator.client("s3").put_object(Bucket=stack.outputs["UploadsBucketName"], Key=key, Body=body)


def quarantined(emulator: Emulator, stack: DeployedStack, source_key: str) -> list[str]:
    """Keys of the quarantine objects kept for ``source_key``."""
    listed = emulator.client("s3").list_objects_v2(
        Bucket=stack.outputs["UploadsBucketName"], Prefix=f"quarantine/{source_key}/"
    )
    return [entry["Key"] for entry in listed.get("Contents", [])]


# --- the inputs, sent at once ---------------------------------------------------------------

POISON_NUMBER = "9" * 5000
KEYED_REQUESTS = 4  # one keyed order sent four times at once, twice through each API
LARGE_FILE_ORDERS = 6


@contextmanager
def chunked_ingest(emulator: Emulator, stack: DeployedStack) -> Iterator[None]:
    """The ingest function storing 3 orders per chunk and stopping after each, as a function
    that runs out of time on a large file does; restored afterwards."""
    lambda_client = emulator.client("lambda")
    [name] = [
        name
        for lid, name in stack.physical_ids_of_type("AWS::Lambda::Function").items()
        if lid[:-8] == "IngestFunction"  # the logical id without its hash
    ]
    before = lambda_client.get_function_configuration(FunctionName=name)["Environment"]
    short = {"INGEST_CHUNK_SIZE": "3", "INGEST_TIME_MARGIN_MILLIS": str(10**9)}
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**before["Variables"], **short}}
    )
    try:
        yield
    finally:
        lambda_client.update_function_configuration(FunctionName=name, Environment=before)


def post_concurrently(
    emulator: Emulator, stack: DeployedStack, signed_in: dict[str, dict[str, str]]
) -> list[Any]:
    """Six POST /orders at once, alternating the APIs: four of one keyed order, two others."""
    key = f"reliability-{uuid.uuid4().hex}"

    def post(n: int) -> Any:
        api = ("RestApiUrl", "HttpApiUrl")[n % 2]
        keyed = n < KEYED_REQUESTS
        customer = "rel-concurrent-keyed" if keyed else f"rel-concurrent-{n}"
        headers = {**signed_in[api], **({"Idempotency-Key": key} if keyed else {})}
        return http_request(
            emulator, "POST", stack.outputs[api] + "orders", order(customer, 1), headers
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(post, range(KEYED_REQUESTS + 2)))


@pytest.fixture(scope="module")
def inputs(
    emulator: Emulator, stack: DeployedStack, signed_in: dict[str, dict[str, str]]
) -> Iterator[dict[str, Any]]:
    """Every input of the cases below, sent before any test waits for an outcome."""
    with chunked_ingest(emulator, stack):
        twice = json.dumps([order("rel-file-a", 1), order("rel-file-b", 2), order("rel-file-a", 1)])
        for key in ("uploads/rel-twice.json", "uploads/rel-twice.json", "uploads/rel-again.json"):
            upload(emulator, stack, key, twice.encode())
        valid = [json.dumps(order(customer, 1)) for customer in ("rel-poison-a", "rel-poison-b")]
        upload(
            emulator,
            stack,
            "uploads/rel-poison.json",
            f"[{valid[0]}, {POISON_NUMBER}, {valid[1]}]".encode(),
        )
        large = [order(f"rel-large-{n}", 1) for n in range(LARGE_FILE_ORDERS)]
        upload(emulator, stack, "uploads/rel-large.json", json.dumps(large).encode())
        poison_record = f"rel-poison-record-{uuid.uuid4().hex[:8]}"
        emulator.client("dynamodb").put_item(
            TableName=stack.outputs["OrdersTableName"],
            Item={"order_id": {"S": poison_record}, "customer_id": {"S": "rel-stream-poison"}},
        )
        ghost = uuid.uuid4().hex
        emulator.client("stepfunctions").start_execution(
            stateMachineArn=stack.outputs["StateMachineArn"],
            name=ghost,
            input=json.dumps({**order("rel-ghost", 1), "order_id": ghost, "status": "PENDING"}),
        )
        answers = post_concurrently(emulator, stack, signed_in)
        yield {"answers": answers, "poison_record": poison_record, "ghost": ghost}
        # The large file's flow must be over before the ingest function is restored.
        wait_for_orders(
            emulator,
            stack,
            "rel-large-",
            lambda items: len(items) == LARGE_FILE_ORDERS,
            "the large file's orders",
        )


# --- exactly once from every door -----------------------------------------------------------


def test_concurrent_creation_through_both_apis_stores_each_order_once(
    emulator: Emulator, stack: DeployedStack, inputs: dict[str, Any]
) -> None:
    answers = inputs["answers"]
    keyed = [answer for answer in answers[:KEYED_REQUESTS] if answer.status == 201]
    # A retry that overlaps the first request may be told to come back later (409): the
    # rule is that none creates a second order and none answers 5xx.
    assert {answer.status for answer in answers[:KEYED_REQUESTS]} <= {201, 409}, answers
    assert keyed and len({answer.json()["order_id"] for answer in keyed}) == 1
    assert [answer.status for answer in answers[KEYED_REQUESTS:]] == [201, 201], answers
    expected = {"rel-concurrent-keyed", "rel-concurrent-4", "rel-concurrent-5"}
    assert_each_order_once_with_one_completed_workflow(emulator, stack, "rel-concurrent-", expected)


def test_a_file_uploaded_twice_and_under_another_key_stores_each_order_once(
    emulator: Emulator, stack: DeployedStack, inputs: dict[str, Any]
) -> None:
    assert_each_order_once_with_one_completed_workflow(
        emulator, stack, "rel-file-", {"rel-file-a", "rel-file-b"}
    )
    repeats = [
        (r["repeated_count"], r["written"] + r["duplicates"])
        for r in ingested(emulator, stack, ("uploads/rel-twice.json", "uploads/rel-again.json"), 3)
    ]
    assert repeats == [(1, 2)] * 3  # each upload: one repeat in the file, two orders


# --- nothing valid lost ----------------------------------------------------------------------


def test_a_poison_element_is_quarantined_and_the_valid_orders_stored(
    emulator: Emulator, stack: DeployedStack, inputs: dict[str, Any]
) -> None:
    assert_each_order_once_with_one_completed_workflow(
        emulator, stack, "rel-poison-", {"rel-poison-a", "rel-poison-b"}
    )
    [kept] = wait_for(
        lambda: quarantined(emulator, stack, "uploads/rel-poison.json"),
        "the quarantined element",
        FLOW_TIMEOUT_SECONDS,
        emulator,
    )
    record = json.loads(
        emulator.client("s3")
        .get_object(Bucket=stack.outputs["UploadsBucketName"], Key=kept)["Body"]
        .read()
    )
    [rejected] = record["rejected"]
    assert (rejected["index"], rejected["element"].strip()) == (1, POISON_NUMBER)
    assert "digit" in rejected["reason"]


def test_a_poison_stream_record_is_reported_with_what_locates_it_in_the_stream(
    emulator: Emulator, stack: DeployedStack, inputs: dict[str, Any]
) -> None:
    order_id = inputs["poison_record"]
    queues = stack.physical_ids_of_type("AWS::SQS::Queue")
    [queue_url] = [url for lid, url in queues.items() if lid.startswith("NewOrdersOnFailureQueue")]
    sqs = emulator.client("sqs")
    sequence_number = stream_sequence_number(emulator, stack, order_id)

    def failure_record() -> dict[str, Any] | None:
        for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if body["DDBStreamBatchInfo"]["startSequenceNumber"] == sequence_number:
                return dict(body)
        return None

    reported = wait_for(
        failure_record, "the poison record's failure record", FLOW_TIMEOUT_SECONDS, emulator
    )
    assert reported["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert reported["DDBStreamBatchInfo"]["batchSize"] == 1  # bisected down to the record
    assert scan_customers(emulator, stack, "rel-stream-poison")[0]["order_id"]["S"] == order_id


def test_a_file_too_large_for_one_invocation_is_continued_from_its_checkpoint(
    emulator: Emulator, stack: DeployedStack, inputs: dict[str, Any]
) -> None:
    customers = {f"rel-large-{n}" for n in range(LARGE_FILE_ORDERS)}
    assert_each_order_once_with_one_completed_workflow(emulator, stack, "rel-large-", customers)
    log_group = stack.physical_id("IngestFunctionLogGroup")
    stops = [
        r
        for r in structured_log_records(
            emulator, log_group, "Order file stopped for lack of time; the retry continues"
        )
        if r["key"] == "uploads/rel-large.json"
    ]
    [done] = ingested(emulator, stack, ("uploads/rel-large.json",), 1)
    # Two invocations: 0-2 (stopped), then 3-5 from the checkpoint; none stored twice.
    assert [r["next_index"] for r in stops] == [3]
    assert (done["resumed_from"], done["written"], done["duplicates"]) == (3, 3, 0)


def test_a_workflow_for_a_missing_order_fails_and_creates_no_item(
    emulator: Emulator, stack: DeployedStack, inputs: dict[str, Any]
) -> None:
    arn = stack.outputs["StateMachineArn"]

    execution = wait_for_execution(emulator, arn, inputs["ghost"], FLOW_TIMEOUT_SECONDS)

    assert (execution["status"], execution["error"]) == ("FAILED", "OrderStatusRefused")
    assert scan_customers(emulator, stack, "rel-ghost") == []


def ingested(
    emulator: Emulator, stack: DeployedStack, keys: tuple[str, ...], count: int
) -> list[dict[str, Any]]:
    """The ingest function's summaries of the files ``keys`` (waiting for ``count``)."""
    log_group = stack.physical_id("IngestFunctionLogGroup")

    def summaries() -> list[dict[str, Any]] | None:
        records = structured_log_records(emulator, log_group, "Order file ingested")
        found = [r for r in records if r["key"] in keys]
        return found if len(found) >= count else None

    return wait_for(summaries, f"the summaries of {keys}", FLOW_TIMEOUT_SECONDS, emulator)


def stream_sequence_number(emulator: Emulator, stack: DeployedStack, order_id: str) -> str:
    """The sequence number of the stream record that inserted ``order_id``."""
    streams = emulator.client("dynamodbstreams")
    [stream] = streams.list_streams(TableName=stack.outputs["OrdersTableName"])["Streams"]
    shards = streams.describe_stream(StreamArn=stream["StreamArn"])["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream["StreamArn"],
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            if record["dynamodb"]["Keys"]["order_id"]["S"] == order_id:
                return str(record["dynamodb"]["SequenceNumber"])
    raise AssertionError(f"no stream record inserted {order_id}")


# --- status that tells the truth -------------------------------------------------------------


@pytest.fixture
def topic_outage(emulator: Emulator, stack: DeployedStack) -> Iterator[Callable[[], None]]:
    """The notification topic gone (an SNS outage, not a missing permission), once every
    execution under way has finished, so only the test's order fails to notify. Yields what
    brings the topic back, under the same ARN with its key and policy (back at the end in
    any case)."""
    stepfunctions = emulator.client("stepfunctions")
    arn = stack.outputs["StateMachineArn"]
    wait_for(
        lambda: (
            not stepfunctions.list_executions(stateMachineArn=arn, statusFilter="RUNNING")[
                "executions"
            ]
        ),
        "the executions under way to finish",
        FLOW_TIMEOUT_SECONDS,
        emulator,
    )
    sns = emulator.client("sns")
    topic_arn = stack.outputs["NotificationTopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    kept = {name: attributes[name] for name in ("KmsMasterKeyId", "Policy") if name in attributes}
    sns.delete_topic(TopicArn=topic_arn)
    gone = [True]

    def restore() -> None:
        if gone and gone.pop():
            restored = sns.create_topic(Name=topic_arn.rsplit(":", 1)[1], Attributes=kept)
            assert restored["TopicArn"] == topic_arn

    try:
        yield restore
    finally:
        restore()


def test_a_failed_notification_leaves_the_order_shipped_and_a_retry_sends_it(
    emulator: Emulator,
    stack: DeployedStack,
    signed_in: dict[str, dict[str, str]],
    topic_outage: Callable[[], None],
) -> None:
    api = stack.outputs["HttpApiUrl"]
    created = http_request(
        emulator, "POST", api + "orders", order("rel-notify", 1), signed_in["HttpApiUrl"]
    )
    order_id = created.json()["order_id"]
    arn = stack.outputs["StateMachineArn"]

    failed = wait_for_execution(emulator, arn, order_id, FLOW_TIMEOUT_SECONDS)
    assert (failed["status"], failed["error"]) == ("FAILED", "NotificationFailed")
    [item] = scan_customers(emulator, stack, "rel-notify")
    assert (item["status"]["S"], item["notification"]["S"]) == ("SHIPPED", "FAILED")

    topic_outage()  # the topic is back
    retried = http_request(
        emulator, "POST", f"{api}orders/{order_id}/retry", None, signed_in["HttpApiUrl"]
    )
    assert retried.status == 202, retried
    assert retried.json()["execution_name"] == f"{order_id}--retry-1"

    succeeded = wait_for_execution(emulator, arn, f"{order_id}--retry-1", FLOW_TIMEOUT_SECONDS)
    assert succeeded["status"] == "SUCCEEDED", succeeded
    [item] = scan_customers(emulator, stack, "rel-notify")
    assert (item["status"]["S"], item["notification"]["S"]) == ("SHIPPED", "SENT")
