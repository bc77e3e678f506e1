"""DynamoDB access for orders: one table, partition key ``order_id`` (string)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer
from botocore.exceptions import ClientError

from orders import aws, config
from orders.errors import OrderNotRetryableError
from orders.models import Order

_deserializer = TypeDeserializer()


def dynamodb() -> Any:
    """The DynamoDB client (see :mod:`orders.aws`)."""
    return aws.client("dynamodb")


def to_dynamodb(value: Any) -> dict[str, Any]:
    """Serialize a JSON value (str, int, bool, None, list, dict) as a DynamoDB attribute.

    Orders hold nothing else, so this is all of boto3's ``TypeSerializer`` they need.

    Raises
    ------
    TypeError
        For any other type (floats included: they would lose precision).
    """
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list):
        return {"L": [to_dynamodb(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {str(key): to_dynamodb(item) for key, item in value.items()}}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


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


class Outcome(StrEnum):
    """What a conditional write of a new order found."""

    CREATED = "CREATED"
    """The order was stored now."""
    ALREADY_STORED = "ALREADY_STORED"
    """An order with this id and the same content was stored before (a retry or a duplicate)."""
    ID_TAKEN = "ID_TAKEN"
    """Another order (different content) holds this id."""


#: The fields that make two orders the same order; status and ``created_at`` move on.
SAME_ORDER_FIELDS = ("customer_id", "email", "items")


def add_order(order: Order) -> tuple[Outcome, Order]:
    """Store a new order unless its id is taken, and say which case it was.

    The write is conditional (``attribute_not_exists``) and asks DynamoDB for the item that
    made the condition fail, so one call tells a new order from a repeat: an SDK retry of a
    write that had in fact succeeded, a redelivered upload or a retried request finds its
    own order and is :attr:`Outcome.ALREADY_STORED`, never an error and never a second order.
    Never overwriting keeps a repeat from resetting an order the workflow has moved on, and
    emits no second stream ``INSERT``.

    Returns
    -------
    tuple of (Outcome, Order)
        The outcome and the order as stored: ``order`` itself when created, else the
        stored one (its status and ``created_at`` may differ from ``order``'s).

    Raises
    ------
    botocore.exceptions.ClientError
        On any other DynamoDB failure; callers must not drop the order silently.
    """
    item = to_dynamodb(order.as_json())["M"]
    try:
        dynamodb().put_item(
            TableName=config.table_name(),
            Item=item,
            ConditionExpression="attribute_not_exists(order_id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        stored = error.response.get("Item")
        existing = (
            Order.from_item(from_dynamodb(stored))
            if stored
            else get_order(order.order_id)  # a DynamoDB that returns no item: read it
        )
        if existing is None:
            raise  # deleted between the write and the read: let the caller retry
        return (
            Outcome.ALREADY_STORED if same_order(existing, order) else Outcome.ID_TAKEN
        ), existing
    return Outcome.CREATED, order


def same_order(first: Order, second: Order) -> bool:
    """Whether two orders carry the same content (:data:`SAME_ORDER_FIELDS`)."""
    return all(getattr(first, name) == getattr(second, name) for name in SAME_ORDER_FIELDS)


def get_order(order_id: str) -> Order | None:
    """Read one order by id (strongly consistent, so a just-created order is found).

    Returns
    -------
    Order or None
        The order, or ``None`` if no item has that id.

    Raises
    ------
    StoredOrderError
        If the stored item is not an order: a server fault, not the client's.
    """
    response = dynamodb().get_item(
        TableName=config.table_name(),
        Key={"order_id": {"S": order_id}},
        ConsistentRead=True,
    )
    item = response.get("Item")
    return None if item is None else Order.from_item(from_dynamodb(item))


def claim_retry(order_id: str) -> tuple[int, Order] | None:
    """Count one more attempt of a ``FAILED`` order, or of one whose notification failed.

    The check and the count are one conditional ``UpdateItem``, so two concurrent retries
    get distinct attempt numbers (and distinct execution names).

    Returns
    -------
    tuple of (int, Order) or None
        The attempt number (1 for the first retry) and the order; ``None`` if no order has
        this id.

    Raises
    ------
    OrderNotRetryableError
        If the order is neither ``FAILED`` nor waiting for a failed notification.
    """
    try:
        response = dynamodb().update_item(
            TableName=config.table_name(),
            Key={"order_id": {"S": order_id}},
            UpdateExpression="ADD attempts :one",
            ConditionExpression=(
                "attribute_exists(order_id) AND (#status = :failed OR notification = :failed)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":failed": {"S": "FAILED"}},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        if not error.response.get("Item"):
            return None
        raise OrderNotRetryableError(
            "Only a FAILED order, or one whose notification failed, can be retried"
        ) from None
    item = from_dynamodb(response["Attributes"])
    return int(item["attempts"]), Order.from_item(item)
