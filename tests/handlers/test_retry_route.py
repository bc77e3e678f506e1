"""POST /orders/{order_id}/retry: the documented way to run a FAILED order's workflow again."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from orders import api

from tests.handlers.events import API_EVENTS, body_of, stored_order

ORDER = "a" * 32


@pytest.fixture(params=sorted(API_EVENTS))
def make_event(request: pytest.FixtureRequest) -> Any:
    return API_EVENTS[request.param]


def retry(make_event: Any, context: Any, order_id: str = ORDER) -> dict[str, Any]:
    return api.handler(make_event("POST", f"/orders/{order_id}/retry"), context)


def started(state_machine: str) -> dict[str, Any]:
    client = boto3.client("stepfunctions")
    return {
        e["name"]: json.loads(client.describe_execution(executionArn=e["executionArn"])["input"])
        for e in client.list_executions(stateMachineArn=state_machine)["executions"]
    }


def test_a_failed_order_is_retried_under_a_new_execution_name(
    make_event: Any, context: Any, table: Any, state_machine: str
) -> None:
    table.put_item(Item=stored_order(ORDER, status="FAILED"))

    first, second = retry(make_event, context), retry(make_event, context)

    assert (first["statusCode"], second["statusCode"]) == (202, 202)
    assert body_of(first) == {
        "order_id": ORDER,
        "attempt": 1,
        "execution_name": f"{ORDER}--retry-1",
    }
    assert body_of(second)["execution_name"] == f"{ORDER}--retry-2"
    executions = started(state_machine)
    assert set(executions) == {f"{ORDER}--retry-1", f"{ORDER}--retry-2"}
    assert executions[f"{ORDER}--retry-1"]["order_id"] == ORDER
    assert table.get_item(Key={"order_id": ORDER})["Item"]["attempts"] == 2


def test_an_order_whose_notification_failed_is_retried(
    make_event: Any, context: Any, table: Any, state_machine: str
) -> None:
    table.put_item(Item=stored_order(ORDER, status="SHIPPED", notification="FAILED"))

    assert retry(make_event, context)["statusCode"] == 202
    assert list(started(state_machine)) == [f"{ORDER}--retry-1"]


@pytest.mark.parametrize("status", ["PENDING", "SHIPPED", "BACKORDERED"])
def test_an_order_that_did_not_fail_is_409_and_starts_nothing(
    make_event: Any, context: Any, table: Any, state_machine: str, status: str
) -> None:
    table.put_item(Item=stored_order(ORDER, status=status, notification="SENT"))

    answer = retry(make_event, context)

    assert answer["statusCode"] == 409
    assert body_of(answer)["error"]["code"] == "ORDER_NOT_RETRYABLE"
    assert started(state_machine) == {}
    assert "attempts" not in table.get_item(Key={"order_id": ORDER})["Item"]


@pytest.mark.parametrize("order_id", ["b" * 32, "not--an-id"])
def test_an_unknown_order_is_404_and_creates_no_item(
    make_event: Any, context: Any, table: Any, state_machine: str, order_id: str
) -> None:
    answer = retry(make_event, context, order_id)

    assert answer["statusCode"] == 404
    assert body_of(answer)["error"]["code"] == "ORDER_NOT_FOUND"
    assert table.scan()["Items"] == [] and started(state_machine) == {}
