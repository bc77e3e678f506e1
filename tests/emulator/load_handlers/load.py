"""Handlers the emulator's load tests create through the Lambda API."""

import json
import os
import time

import boto3

_dynamodb = None


def _client():  # type: ignore[no-untyped-def]
    global _dynamodb
    if _dynamodb is None:
        _dynamodb = boto3.client("dynamodb")
    return _dynamodb


def record(event, context):  # type: ignore[no-untyped-def]
    """Store each delivered batch, as Lambda sent it, under the invocation's request id."""
    _client().put_item(
        TableName=os.environ["DELIVERIES_TABLE"],
        Item={
            "invocation": {"S": context.aws_request_id},
            "records": {"S": json.dumps([r["dynamodb"] for r in event["Records"]])},
        },
    )
    return {}


def pause(event, context):  # type: ignore[no-untyped-def]
    """Sleep for ``event["seconds"]``; answer with the sandbox's process id."""
    time.sleep(float(event.get("seconds", 0)))
    return {"pid": os.getpid()}


def respond(event, context):  # type: ignore[no-untyped-def]
    """Answer with a string of ``event["size"]`` characters."""
    return "x" * int(event["size"])
