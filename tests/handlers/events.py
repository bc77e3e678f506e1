"""Realistic Lambda events and answers' accessors, for the handler tests."""

from __future__ import annotations

import base64
import json
from typing import Any

from boto3.dynamodb.types import TypeSerializer

ACCOUNT = "123456789012"
VALID_ORDER: dict[str, Any] = {
    "customer_id": "customer-42",
    "email": "ada@example.com",
    "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
}


def rest_event(
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    is_base64: bool = False,
    request_id: str = "rest-request-0001",
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST API Lambda-proxy event (payload format 1.0)."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in (headers or {}).items()} or None,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": "Ext-0001",
            "requestTime": "23/Nov/2026:18:00:00 +0000",
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1795456800000,
            "requestId": request_id,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abc123",
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def http_event(
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    is_base64: bool = False,
    request_id: str = "http-request-0001",
    stage: str = "$default",
) -> dict[str, Any]:
    """An API Gateway HTTP API Lambda-proxy event (payload format 2.0)."""
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in (headers or {}).items()},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "def456",
            "domainName": "def456.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "def456",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": stage,
            "time": "23/Nov/2026:18:00:00 +0000",
            "timeEpoch": 1795456800000,
        },
        "isBase64Encoded": is_base64,
    }
    if body is not None:  # HTTP APIs leave the key out when there is no body
        event["body"] = body
    return event


API_EVENTS = {"rest": rest_event, "http": http_event}


_VALID = object()


def post_order(make_event: Any, order: Any = _VALID, **kwargs: Any) -> dict[str, Any]:
    """A ``POST /orders`` event whose JSON body is ``order`` (default :data:`VALID_ORDER`)."""
    headers = kwargs.pop("headers", {"Content-Type": "application/json"})
    body = json.dumps(VALID_ORDER if order is _VALID else order)
    return make_event("POST", "/orders", body=body, headers=headers, **kwargs)


def as_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def header(response: dict[str, Any], name: str) -> str | None:
    """A response header, from ``headers`` or (payload 1.0) ``multiValueHeaders``."""
    for field in ("headers", "multiValueHeaders"):
        for key, value in (response.get(field) or {}).items():
            if key.lower() == name.lower():
                return ", ".join(value) if isinstance(value, list) else value
    return None


def body_of(response: dict[str, Any]) -> Any:
    assert not response.get("isBase64Encoded")
    return json.loads(response["body"])


def s3_object_created(
    bucket: str,
    key: str,
    size: int,
    etag: str,
    version_id: str | None = None,
) -> dict[str, Any]:
    """An EventBridge event for an S3 "Object Created" notification."""
    detail_object: dict[str, Any] = {
        "key": key,
        "size": size,
        "etag": etag.strip('"'),
        "sequencer": "00617F08299329D189",
    }
    if version_id:
        detail_object["version-id"] = version_id
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": "2026-11-23T18:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": detail_object,
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": ACCOUNT,
            "source-ip-address": "203.0.113.7",
            "reason": "PutObject",
        },
    }


_serializer = TypeSerializer()


def stream_record(
    new_image: dict[str, Any] | None,
    sequence_number: str,
    event_name: str = "INSERT",
) -> dict[str, Any]:
    """A DynamoDB Streams record (view type NEW_IMAGE) as Lambda delivers it."""
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1795456800,
        "SequenceNumber": sequence_number,
        "SizeBytes": 256,
        "StreamViewType": "NEW_IMAGE",
    }
    if new_image is not None:
        dynamodb["Keys"] = {"order_id": _serializer.serialize(new_image.get("order_id", "?"))}
        dynamodb["NewImage"] = {name: _serializer.serialize(v) for name, v in new_image.items()}
    return {
        "eventID": f"event-{sequence_number}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": (
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders-test/stream/2026-11-23T00:00:00.000"
        ),
    }


def stored_order(order_id: str, **changes: Any) -> dict[str, Any]:
    """An order as the table stores it."""
    return {
        **VALID_ORDER,
        "order_id": order_id,
        "status": "PENDING",
        "created_at": "2026-11-23T18:00:00.000Z",
        **changes,
    }


def emitted_metrics(stdout: str) -> dict[str, float]:
    """Sum each metric printed in CloudWatch embedded metric format."""
    totals: dict[str, float] = {}
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                values = value if isinstance(value, list) else [value]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
    return totals


#: Characters the order model refuses in text fields, by Unicode general category: control
#: characters (Cc) and format characters (Cf), each named after what it is.
INVISIBLE_CHARACTERS = {
    "Cc-nul": "\x00",
    "Cc-escape": "\x1b",
    "Cc-newline": "\n",
    "Cc-delete": "\x7f",
    "Cc-c1-next-line": "\x85",
    "Cf-soft-hyphen": "\u00ad",
    "Cf-zero-width-space": "\u200b",
    "Cf-right-to-left-override": "\u202e",
    "Cf-byte-order-mark": "\ufeff",
    "Cf-tag-character": "\U000e0041",
}


def with_character(field: str, character: str) -> dict[str, Any]:
    """:data:`VALID_ORDER` with ``character`` inside ``field`` (a text field or ``sku``)."""
    if field == "sku":
        return {**VALID_ORDER, "items": [{"sku": f"SKU{character}1", "quantity": 1}]}
    if field == "email":
        return {**VALID_ORDER, "email": f"ada@example.com{character}"}
    return {**VALID_ORDER, field: f"{character}{VALID_ORDER[field]}"}
