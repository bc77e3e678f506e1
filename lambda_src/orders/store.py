"""DynamoDB access for orders: one table, partition key ``order_id`` (string)."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from orders import config
from orders.models import Order

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@functools.cache
def dynamodb() -> Any:
    """The DynamoDB client, created on first use and reused by warm invocations."""
    return boto3.client("dynamodb")


def to_plain(value: Any) -> Any:
    """Turn DynamoDB's ``Decimal`` numbers back into ``int`` (or ``float``), recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [to_plain(item) for item in value]
    return value


def from_dynamodb(image: dict[str, Any]) -> dict[str, Any]:
    """Deserialize an item in DynamoDB JSON (``{"S": ...}``) into plain Python values."""
    return {name: to_plain(_deserializer.deserialize(value)) for name, value in image.items()}


def add_order(order: Order) -> bool:
    """Store a new order unless one with the same id exists.

    Never overwriting keeps a redelivered upload from resetting an order the workflow has
    already moved on, and emits no second stream ``INSERT``.

    Parameters
    ----------
    order : Order
        The order to store.

    Returns
    -------
    bool
        ``True`` if stored, ``False`` if the id was already taken.

    Raises
    ------
    botocore.exceptions.ClientError
        On any other DynamoDB failure; callers must not drop the order silently.
    """
    item = {
        name: _serializer.serialize(value) for name, value in order.model_dump(mode="json").items()
    }
    try:
        dynamodb().put_item(
            TableName=config.table_name(),
            Item=item,
            ConditionExpression="attribute_not_exists(order_id)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_order(order_id: str) -> Order | None:
    """Read one order by id (strongly consistent, so a just-created order is found).

    Returns
    -------
    Order or None
        The order, or ``None`` if no item has that id.

    Raises
    ------
    pydantic.ValidationError
        If the stored item is not an order: a server fault, not the client's.
    """
    response = dynamodb().get_item(
        TableName=config.table_name(),
        Key={"order_id": {"S": order_id}},
        ConsistentRead=True,
    )
    item = response.get("Item")
    return None if item is None else Order.model_validate(from_dynamodb(item))
