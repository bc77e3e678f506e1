"""orders.ingest.handler: EventBridge S3 "Object Created" events, moto S3 and DynamoDB."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from orders import config, ingest, models, store
from orders.errors import ConfigurationError, InvalidEventError

from tests.handlers.events import (
    INVISIBLE_CHARACTERS,
    VALID_ORDER,
    emitted_metrics,
    s3_object_created,
    with_character,
)

KEY = "uploads/batch-1.json"


def upload(bucket: str, key: str, content: bytes) -> dict[str, Any]:
    """Put ``content`` at ``key`` and return the event S3 sends EventBridge for it."""
    put = boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=content)
    return s3_object_created(bucket, key, len(content), put["ETag"], put.get("VersionId"))


def upload_orders(bucket: str, orders: Any, key: str = KEY) -> dict[str, Any]:
    return upload(bucket, key, json.dumps(orders).encode("utf-8"))


def stored(table: Any) -> list[dict[str, Any]]:
    return table.scan()["Items"]


def order(customer_id: str, quantity: int = 1) -> dict[str, Any]:
    return {
        **VALID_ORDER,
        "customer_id": customer_id,
        "items": [{"sku": "S", "quantity": quantity}],
    }


MIXED_FILE = [
    order("first"),
    {**order("extra-field"), "status": "SHIPPED"},
    order("second", quantity=1000),
    order("zero-quantity", quantity=0),
    "not an object",
    order("third"),
]


def test_mixed_file_stores_valid_orders_as_pending_and_reports_invalid_ones(
    bucket: str, table: Any, context: Any
) -> None:
    summary = ingest.handler(upload_orders(bucket, MIXED_FILE), context)

    assert sorted(item["customer_id"] for item in stored(table)) == ["first", "second", "third"]
    assert {item["status"] for item in stored(table)} == {"PENDING"}
    assert summary["bucket"] == bucket and summary["key"] == KEY
    assert summary["written"] == 3 and summary["duplicates"] == 0
    assert [rejection["index"] for rejection in summary["rejected"]] == [1, 3, 4]
    assert summary["rejected_count"] == 3
    reasons = [rejection["reason"] for rejection in summary["rejected"]]
    assert "status: is not allowed (unknown field)" in reasons[0]
    assert "items.0.quantity" in reasons[1]
    assert "JSON object" in reasons[2]


@pytest.mark.parametrize(
    "character", INVISIBLE_CHARACTERS.values(), ids=INVISIBLE_CHARACTERS.keys()
)
def test_orders_with_control_or_format_characters_are_rejected_and_the_valid_ones_stored(
    bucket: str, table: Any, context: Any, character: str
) -> None:
    orders = [
        order("first"),
        with_character("customer_id", character),
        with_character("email", character),
        with_character("sku", character),
        order("second"),
    ]

    summary = ingest.handler(upload_orders(bucket, orders), context)

    assert sorted(item["customer_id"] for item in stored(table)) == ["first", "second"]
    assert summary["written"] == 2 and summary["rejected_count"] == 3
    assert [rejection["index"] for rejection in summary["rejected"]] == [1, 2, 3]
    for rejection, field in zip(summary["rejected"], ["customer_id", "email", "sku"], strict=True):
        assert field in rejection["reason"]
        assert f"U+{ord(character):04X}" in rejection["reason"]


def test_invalid_orders_are_logged_with_index_and_reason_and_counted(
    bucket: str, table: Any, context: Any, logs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest.handler(upload_orders(bucket, MIXED_FILE), context)

    skipped = logs.entries("Invalid order skipped")
    assert [(entry["index"], entry["key"]) for entry in skipped] == [(1, KEY), (3, KEY), (4, KEY)]
    assert all(entry["reason"] for entry in skipped)
    metrics = emitted_metrics(capsys.readouterr().out)
    assert (metrics["OrdersIngested"], metrics["InvalidOrders"]) == (3, 3)


def test_redelivered_event_creates_no_duplicates(bucket: str, table: Any, context: Any) -> None:
    event = upload_orders(bucket, MIXED_FILE)
    first = ingest.handler(event, context)

    again = ingest.handler(event, context)

    assert len(stored(table)) == 3
    assert (first["written"], again["written"], again["duplicates"]) == (3, 0, 3)


def test_order_ids_derive_from_the_order_content(bucket: str, table: Any, context: Any) -> None:
    ingest.handler(upload_orders(bucket, [order("a"), order("b")]), context)

    expected = {ingest.file_order_id(models.parse_file_order(order(c))) for c in ("a", "b")}
    assert {item["order_id"] for item in stored(table)} == expected


def test_file_of_many_orders_stores_each_once(bucket: str, table: Any, context: Any) -> None:
    event = upload_orders(bucket, [order(f"customer-{n}") for n in range(150)])

    first = ingest.handler(event, context)
    again = ingest.handler(event, context)

    assert (first["written"], again["written"], again["duplicates"]) == (150, 0, 150)
    assert len(stored(table)) == 150


def test_redelivery_does_not_reset_an_order_the_workflow_moved_on(
    bucket: str, table: Any, context: Any
) -> None:
    event = upload_orders(bucket, [order("a")])
    ingest.handler(event, context)
    [item] = stored(table)
    table.update_item(
        Key={"order_id": item["order_id"]},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "SHIPPED"},
    )

    ingest.handler(event, context)

    assert stored(table)[0]["status"] == "SHIPPED"


UNUSABLE_FILES = {
    "not_json": (b"customer_id,email\n42,ada@example.com\n", "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "json_object_not_list": (json.dumps(VALID_ORDER).encode(), "JSON list"),
    "json_number": (b"42", "JSON list"),
    "not_utf8": (b'[{"customer_id": "\xff"}]', "not UTF-8"),
    "unterminated_list": (b'[{"customer_id": "a"}', "never ends"),
    "unterminated_string": (b'[{"customer_id": "a}]', "never ends"),
}


@pytest.mark.parametrize(("content", "reason"), UNUSABLE_FILES.values(), ids=UNUSABLE_FILES.keys())
def test_unusable_file_is_reported_without_raising_and_writes_nothing(
    bucket: str, table: Any, context: Any, content: bytes, reason: str
) -> None:
    summary = ingest.handler(upload(bucket, KEY, content), context)

    assert stored(table) == []
    assert summary["written"] == 0 and summary["rejected"] == []
    assert reason in summary["file_error"]


def test_empty_list_writes_nothing_and_is_not_an_error(
    bucket: str, table: Any, context: Any
) -> None:
    summary = ingest.handler(upload_orders(bucket, []), context)

    assert (summary["written"], summary["rejected_count"], "file_error" in summary) == (0, 0, False)


def test_file_over_the_size_limit_is_refused_without_being_read(
    bucket: str, table: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = upload_orders(bucket, [order("a")])
    boto3.client("s3").delete_object(Bucket=bucket, Key=KEY)  # a read would now fail
    event["detail"]["object"]["size"] = config.MAX_UPLOAD_BYTES + 1

    summary = ingest.handler(event, context)

    assert "limit" in summary["file_error"]
    assert stored(table) == []


def test_file_larger_than_its_event_says_is_refused_by_its_content_length(
    bucket: str, table: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = upload_orders(bucket, [order(f"c{n}") for n in range(20)])
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", 100)
    event["detail"]["object"]["size"] = 50

    summary = ingest.handler(event, context)

    assert "limit is 100" in summary["file_error"]
    assert stored(table) == []


def test_file_exactly_at_the_size_limit_is_read(
    bucket: str, table: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = upload_orders(bucket, [order("a")])
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", event["detail"]["object"]["size"])

    assert ingest.handler(event, context)["written"] == 1


def test_key_sent_url_encoded_still_finds_the_object(bucket: str, table: Any, context: Any) -> None:
    event = upload_orders(bucket, [order("a")], key="uploads/my orders+1.json")
    event["detail"]["object"]["key"] = "uploads/my+orders%2B1.json"

    assert ingest.handler(event, context)["written"] == 1


def test_key_with_a_literal_plus_is_read_as_sent(bucket: str, table: Any, context: Any) -> None:
    event = upload_orders(bucket, [order("a")], key="uploads/a+b.json")

    assert ingest.handler(event, context)["written"] == 1


def test_object_deleted_before_ingest_is_reported_without_raising(
    bucket: str, table: Any, context: Any
) -> None:
    event = upload_orders(bucket, [order("a")])
    boto3.client("s3").delete_object(Bucket=bucket, Key=KEY)

    summary = ingest.handler(event, context)

    assert summary["file_error"] == "the object no longer exists"


def test_dynamodb_failure_on_a_valid_order_raises_for_a_retry(
    bucket: str, table: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = upload_orders(bucket, [order("a")])
    monkeypatch.setenv("TABLE_NAME", "no-such-table")

    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        ingest.handler(event, context)


def test_failure_on_one_order_raises_and_the_retry_stores_what_is_missing(
    bucket: str, table: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = upload_orders(bucket, [order(f"customer-{n}") for n in range(20)])
    add_order = store.add_order

    def throttled_once(new_order: Any) -> bool:
        if new_order.customer_id == "customer-7":
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "PutItem",
            )
        return add_order(new_order)

    monkeypatch.setattr(store, "add_order", throttled_once)
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        ingest.handler(event, context)
    monkeypatch.setattr(store, "add_order", add_order)

    retried = ingest.handler(event, context)

    assert retried["written"] >= 1 and retried["written"] + retried["duplicates"] == 20
    assert "customer-7" in {item["customer_id"] for item in stored(table)}
    assert len(stored(table)) == 20


def test_s3_failure_other_than_a_missing_object_raises_for_a_retry(
    table: Any, context: Any
) -> None:
    event = s3_object_created("no-such-bucket-for-orders", KEY, 10, "abc")

    with pytest.raises(ClientError, match="NoSuchBucket"):
        ingest.handler(event, context)


def test_missing_table_name_raises_naming_the_variable(
    bucket: str, table: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = upload_orders(bucket, [order("a")])
    monkeypatch.delenv("TABLE_NAME")

    with pytest.raises(ConfigurationError, match="Environment variable TABLE_NAME is not set"):
        ingest.handler(event, context)


@pytest.mark.parametrize(
    "event",
    [{}, {"detail": {"bucket": {"name": "b"}}}, {"detail": {"bucket": {}, "object": {"key": "k"}}}],
)
def test_event_without_bucket_or_key_raises_invalid_event(
    aws: Any, context: Any, event: dict[str, Any]
) -> None:
    with pytest.raises(InvalidEventError, match="not an S3 Object Created event"):
        ingest.handler(event, context)


def test_versioned_object_is_read_at_the_version_in_the_event(
    bucket: str, table: Any, context: Any
) -> None:
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = upload_orders(bucket, [order("first")])
    upload_orders(bucket, [order("second")])

    ingest.handler(first, context)

    assert [item["customer_id"] for item in stored(table)] == ["first"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
