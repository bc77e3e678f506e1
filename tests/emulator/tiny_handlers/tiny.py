"""Handlers of the tiny stack that the emulator's tests deploy and invoke."""

import json
import os

import boto3

_table = None


class OrderRejected(Exception):
    """Raised on request, so that tests can see the class name come back as errorType."""


def _orders():  # type: ignore[no-untyped-def]
    global _table
    if _table is None:
        _table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    return _table


def handle(event, context):  # type: ignore[no-untyped-def]
    """Store an order; a direct invocation gets a dict back, an HTTP API call a 201, and
    an S3 "Object Created" event from EventBridge stores the object's key."""
    if event.get("detail-type") == "Object Created":
        key = event["detail"]["object"]["key"]
        _orders().put_item(Item={"pk": f"upload#{key}", "time": event["time"]})
        return {"stored": key}
    if "requestContext" in event:
        order_id = json.loads(event["body"])["id"]
        _orders().put_item(
            Item={"pk": order_id, "via": event["routeKey"], "version": context.function_version}
        )
        return {"statusCode": 201, "body": json.dumps({"id": order_id})}
    if event.get("reject"):
        raise OrderRejected(f"order {event.get('id')} rejected")
    _orders().put_item(Item={"pk": event["id"], "via": context.function_name})
    return {"written": event["id"], "region": os.environ["AWS_REGION"]}


def record(event, context):  # type: ignore[no-untyped-def]
    """Append each stream record's event name to a ``seen#<pk>`` item; fail on poison."""
    for record in event["Records"]:
        order_id = record["dynamodb"]["Keys"]["pk"]["S"]
        if order_id.startswith("order#poison"):
            raise OrderRejected(f"cannot record {order_id}")
        _orders().update_item(
            Key={"pk": f"seen#{order_id}"},
            UpdateExpression="SET events = list_append(if_not_exists(events, :none), :event)",
            ExpressionAttributeValues={":none": [], ":event": [record["eventName"]]},
        )
    return {"batchItemFailures": []}
