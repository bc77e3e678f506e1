"""orders.store's own DynamoDB serialization agrees with boto3's for every value an order holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from orders.models import Order
from orders.store import Outcome, add_order, from_dynamodb, to_dynamodb

from tests.handlers.events import stored_order

VALUES: dict[str, Any] = {
    "order": stored_order("a" * 32),
    "text": "ümlaut ✓",
    "empty_text": "",
    "integer": 1000,
    "negative": -3,
    "big_integer": 10**30,
    "decimal": Decimal("2.5"),
    "true": True,
    "false": False,
    "null": None,
    "empty_list": [],
    "nested": {"a": [{"b": 1}, "c", None]},
}


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_to_dynamodb_writes_what_boto3s_serializer_writes(value: Any) -> None:
    assert to_dynamodb(value) == TypeSerializer().serialize(value)


def test_an_order_reads_back_as_it_was_written() -> None:
    order = stored_order("b" * 32)

    assert from_dynamodb(to_dynamodb(order)["M"]) == order


@pytest.mark.parametrize("value", [1.5, b"bytes", {1, 2}], ids=["float", "bytes", "set"])
def test_to_dynamodb_refuses_what_orders_never_hold(value: Any) -> None:
    with pytest.raises(TypeError, match="cannot store a"):
        to_dynamodb(value)


def new_order(order_id: str, **changes: Any) -> Order:
    return Order.from_item(stored_order(order_id, **changes))


def test_a_new_id_is_created(table: Any) -> None:
    order = new_order("c" * 32)

    assert add_order(order) == (Outcome.CREATED, order)
    assert len(table.scan()["Items"]) == 1


def test_the_same_order_again_is_already_stored_and_answers_the_stored_order(table: Any) -> None:
    add_order(new_order("d" * 32))
    table.update_item(
        Key={"order_id": "d" * 32},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "SHIPPED"},
    )

    outcome, stored = add_order(new_order("d" * 32, created_at="2030-01-01T00:00:00.000Z"))

    assert outcome is Outcome.ALREADY_STORED
    assert (stored.status, stored.created_at) == ("SHIPPED", "2026-11-23T18:00:00.000Z")
    assert table.scan()["Items"][0]["status"] == "SHIPPED"  # not reset


def test_another_order_under_a_taken_id_is_id_taken_and_changes_nothing(table: Any) -> None:
    add_order(new_order("e" * 32))

    outcome, stored = add_order(new_order("e" * 32, customer_id="someone-else"))

    assert outcome is Outcome.ID_TAKEN
    assert stored.customer_id == table.scan()["Items"][0]["customer_id"] != "someone-else"


def test_a_retried_put_that_had_succeeded_is_already_stored(
    table: Any, lost_put_responses: Any
) -> None:
    outcome, _ = add_order(new_order("f" * 32))

    assert outcome is Outcome.ALREADY_STORED
    assert lost_put_responses.puts == 2 and len(table.scan()["Items"]) == 1
