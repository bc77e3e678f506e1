"""DynamoDB access for orders: one table, partition key ``order_id`` (string)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer
from botocore.exceptions import ClientError

from orders import aws, config
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
    item = to_dynamodb(order.as_json())["M"]
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
