"""orders.store's own DynamoDB serialization agrees with boto3's for every value an order holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from orders.store import from_dynamodb, to_dynamodb

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
