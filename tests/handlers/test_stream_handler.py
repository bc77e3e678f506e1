"""orders.stream.handler: DynamoDB Streams batches, moto Step Functions."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from orders import stream
from orders.executions import execution_name

from tests.handlers.events import emitted_metrics, stored_order, stream_record

ORDER_A = "a" * 32
ORDER_B = "b" * 32


def executions(state_machine: str) -> dict[str, dict[str, Any]]:
    """Each execution of the state machine by name, with its parsed input."""
    client = boto3.client("stepfunctions")
    listed = client.list_executions(stateMachineArn=state_machine)["executions"]
    return {
        execution["name"]: json.loads(
            client.describe_execution(executionArn=execution["executionArn"])["input"]
        )
        for execution in listed
    }


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def test_each_insert_starts_one_execution_named_after_the_order(
    state_machine: str, context: Any
) -> None:
    event = batch(
        stream_record(stored_order(ORDER_A), "100"), stream_record(stored_order(ORDER_B), "200")
    )

    result = stream.handler(event, context)

    assert result == {"batchItemFailures": []}
    started = executions(state_machine)
    assert set(started) == {ORDER_A, ORDER_B}
    assert started[ORDER_A] == {
        "order_id": ORDER_A,
        "customer_id": "customer-42",
        "email": "ada@example.com",
        "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
        "status": "PENDING",
    }


def test_redelivered_record_starts_no_second_execution_and_is_no_failure(
    state_machine: str, context: Any
) -> None:
    event = batch(stream_record(stored_order(ORDER_A), "100"))
    stream.handler(event, context)

    again = stream.handler(event, context)

    assert again == {"batchItemFailures": []}
    assert list(executions(state_machine)) == [ORDER_A]


def test_execution_already_exists_counts_as_started(
    state_machine: str, context: Any, logs: Any
) -> None:
    # Step Functions answers ExecutionAlreadyExists once the first execution has closed or
    # when the input differs; either way that order's workflow has been started.
    boto3.client("stepfunctions").start_execution(
        stateMachineArn=state_machine, name=ORDER_A, input="{}"
    )

    result = stream.handler(batch(stream_record(stored_order(ORDER_A), "100")), context)

    assert result == {"batchItemFailures": []}
    assert len(executions(state_machine)) == 1
    assert logs.entries("Workflow already started")


MALFORMED_IMAGES = {
    "no_new_image": None,
    "missing_email": {key: v for key, v in stored_order(ORDER_B).items() if key != "email"},
    "no_items": stored_order(ORDER_B, items=[]),
    "unknown_status": stored_order(ORDER_B, status="LOST"),
    "order_id_with_spaces": stored_order("not an id"),
}


@pytest.mark.parametrize("image", MALFORMED_IMAGES.values(), ids=MALFORMED_IMAGES.keys())
def test_malformed_record_is_a_batch_item_failure_and_the_others_are_processed(
    state_machine: str, context: Any, image: dict[str, Any] | None
) -> None:
    event = batch(
        stream_record(stored_order(ORDER_A), "100"),
        stream_record(image, "200"),
        stream_record(stored_order("c" * 32), "300"),
    )

    result = stream.handler(event, context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert set(executions(state_machine)) == {ORDER_A, "c" * 32}


def test_failed_record_is_logged_with_its_sequence_number_and_reason(
    state_machine: str, context: Any, logs: Any
) -> None:
    stream.handler(batch(stream_record(stored_order(ORDER_A, items=[]), "200")), context)

    [failure] = logs.entries("Stream record failed; Lambda retries it")
    assert failure["sequence_number"] == "200"
    assert "InvalidOrderError" in failure["exception_name"]
    assert "items" in failure["exception"]


def test_batch_of_only_malformed_records_reports_them_instead_of_raising(
    state_machine: str, context: Any
) -> None:
    event = batch(stream_record(None, "100"), stream_record(stored_order(ORDER_A, items=[]), "200"))

    result = stream.handler(event, context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "100"}, {"itemIdentifier": "200"}]}
    assert executions(state_machine) == {}


def test_records_other_than_insert_start_nothing(state_machine: str, context: Any) -> None:
    event = batch(
        stream_record(stored_order(ORDER_A, status="SHIPPED"), "100", event_name="MODIFY"),
        stream_record(stored_order(ORDER_B), "200", event_name="REMOVE"),
    )

    assert stream.handler(event, context) == {"batchItemFailures": []}
    assert executions(state_machine) == {}


def test_step_functions_failure_is_a_batch_item_failure(
    state_machine: str, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_MACHINE_ARN", state_machine.replace("orders-workflow", "missing"))

    result = stream.handler(batch(stream_record(stored_order(ORDER_A), "100")), context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "100"}]}


def test_missing_state_machine_arn_fails_records_and_logs_the_variable(
    aws: Any, context: Any, monkeypatch: pytest.MonkeyPatch, logs: Any
) -> None:
    monkeypatch.delenv("STATE_MACHINE_ARN", raising=False)

    result = stream.handler(batch(stream_record(stored_order(ORDER_A), "100")), context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert "Environment variable STATE_MACHINE_ARN is not set" in logs.text()


def test_started_workflows_are_counted(
    state_machine: str, context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stream.handler(batch(stream_record(stored_order(ORDER_A), "100")), context)

    assert emitted_metrics(capsys.readouterr().out)["WorkflowsStarted"] == 1


@pytest.mark.parametrize("order_id", [ORDER_A, "order_1-x", "-a-b_c-", "x" * 64])
def test_the_first_execution_is_named_after_the_order_id(order_id: str) -> None:
    assert execution_name(order_id) == order_id


def test_a_retry_is_named_after_the_order_id_and_the_attempt() -> None:
    assert execution_name(ORDER_A, 2) == f"{ORDER_A}--retry-2"
    assert len(execution_name("x" * 64, 10**7)) <= 80


@pytest.mark.parametrize("order_id", ["x" * 65, "a--b", "a b", "ünïcode", ""])
def test_what_is_not_an_order_id_has_no_execution_name(order_id: str) -> None:
    with pytest.raises(ValueError, match="no execution name"):
        execution_name(order_id)


def test_execution_names_never_collide_for_distinct_ids_or_attempts() -> None:
    # Ids that old truncation + hashing schemes confuse: long common prefixes, and ids that
    # look like another id's retry.
    ids = ["x" * 63 + "1", "x" * 63 + "2", "a-retry-1", "a", "a-", "a-retry-1-"]
    names = [execution_name(i, n) for i in ids for n in range(3)]
    assert len(set(names)) == len(names)
