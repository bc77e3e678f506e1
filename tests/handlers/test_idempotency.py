"""POST /orders with an Idempotency-Key header: Powertools' idempotency utility on moto."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import pytest
from orders import api, idempotency

from tests.handlers.conftest import new_table
from tests.handlers.events import API_EVENTS, VALID_ORDER, body_of, post_order

IDEMPOTENCY_TABLE = "orders-idempotency-test"
KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


@pytest.fixture(params=sorted(API_EVENTS))
def make_event(request: pytest.FixtureRequest) -> Any:
    """Each test runs once per payload format: ``rest`` (1.0) and ``http`` (2.0)."""
    return API_EVENTS[request.param]


@pytest.fixture(scope="module")
def _records_table(aws_session: Any) -> Any:
    # What constructs_lib's IdempotencyStore creates: partition key ``id``, TTL ``expiration``.
    return new_table(aws_session, IDEMPOTENCY_TABLE, "id")


@pytest.fixture
def records(_records_table: Any, table: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The idempotency table, emptied, with ``IDEMPOTENCY_TABLE_NAME`` pointing at it."""
    with _records_table.batch_writer() as batch:
        for item in _records_table.scan(ProjectionExpression="id")["Items"]:
            batch.delete_item(Key=item)
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", IDEMPOTENCY_TABLE)
    return _records_table


def keyed(
    make_event: Callable[..., dict[str, Any]],
    order: Any = VALID_ORDER,
    key: str = KEY,
    caller: str | None = None,
) -> dict[str, Any]:
    """A POST /orders event with ``Idempotency-Key: key``, authorized as ``caller``."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    event = post_order(make_event, order, headers=headers)
    if caller is not None:
        claims = {"sub": caller}
        event["requestContext"]["authorizer"] = (
            {"jwt": {"claims": claims}} if event.get("version") == "2.0" else {"claims": claims}
        )
    return event


def orders_in(table: Any) -> list[dict[str, Any]]:
    return table.scan()["Items"]


def the_record(records: Any) -> dict[str, Any]:
    [record] = records.scan()["Items"]
    return record


def error_code(response: dict[str, Any]) -> str:
    return str(body_of(response)["error"]["code"])


def test_retry_with_the_same_key_and_order_answers_the_same_and_creates_one_order(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    first = api.handler(keyed(make_event), context)
    retry = api.handler(keyed(make_event), context)

    assert first["statusCode"] == retry["statusCode"] == 201
    assert body_of(retry) == body_of(first)
    [stored] = orders_in(table)
    assert stored["order_id"] == body_of(first)["order_id"]
    assert the_record(records)["status"] == "COMPLETED"


def test_a_retry_spaced_differently_is_the_same_order(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    spaced = {**VALID_ORDER, "customer_id": f"  {VALID_ORDER['customer_id']} "}

    first = api.handler(keyed(make_event), context)
    retry = api.handler(keyed(make_event, spaced), context)

    assert body_of(retry) == body_of(first)
    assert len(orders_in(table)) == 1


def test_the_same_key_with_another_order_is_422_and_creates_nothing(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    other = {**VALID_ORDER, "items": [{"sku": "SKU-9", "quantity": 3}]}
    first = api.handler(keyed(make_event), context)

    refused = api.handler(keyed(make_event, other), context)

    assert refused["statusCode"] == 422
    assert error_code(refused) == "IDEMPOTENCY_KEY_REUSED"
    assert "Idempotency-Key" in body_of(refused)["error"]["message"]
    assert [item["order_id"] for item in orders_in(table)] == [body_of(first)["order_id"]]


def test_without_the_header_every_request_creates_an_order(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    answers = [api.handler(post_order(make_event), context) for _ in range(2)]

    assert [answer["statusCode"] for answer in answers] == [201, 201]
    assert len({body_of(answer)["order_id"] for answer in answers}) == 2
    assert len(orders_in(table)) == 2
    assert records.scan()["Items"] == []


def test_the_key_expires_after_24_hours(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    first = api.handler(keyed(make_event), context)
    record = the_record(records)
    assert idempotency.EXPIRY_SECONDS == 24 * 60 * 60
    assert abs(int(record["expiration"]) - (time.time() + idempotency.EXPIRY_SECONDS)) < 60

    # What 24 hours do to the record: its expiration passes (DynamoDB's TTL deletes it
    # later, and the utility treats an expired record as absent meanwhile).
    records.update_item(
        Key={"id": record["id"]},
        UpdateExpression="SET expiration = :past",
        ExpressionAttributeValues={":past": int(time.time()) - 1},
    )
    after_expiry = api.handler(keyed(make_event), context)

    # The order's id derives from the key: the late retry finds the order it created.
    assert after_expiry["statusCode"] == 201
    assert body_of(after_expiry) == body_of(first)
    assert len(orders_in(table)) == 1


def expire(records: Any) -> None:
    """Make the key's record expired, as 24 hours would."""
    records.update_item(
        Key={"id": the_record(records)["id"]},
        UpdateExpression="SET expiration = :past",
        ExpressionAttributeValues={":past": int(time.time()) - 1},
    )


def test_the_order_id_derives_from_the_caller_and_the_key(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    created = api.handler(keyed(make_event, caller="user-1"), context)

    assert body_of(created)["order_id"] == idempotency.order_id_for("user-1", KEY)
    assert idempotency.order_id_for("user-1", KEY) != idempotency.order_id_for("user-2", KEY)
    assert idempotency.order_id_for("user-1", KEY) != idempotency.order_id_for("user-1", KEY + "x")


def test_after_expiry_the_same_key_with_another_order_is_409_and_creates_nothing(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    first = api.handler(keyed(make_event), context)
    expire(records)

    other = api.handler(keyed(make_event, {**VALID_ORDER, "customer_id": "someone-else"}), context)

    assert other["statusCode"] == 409
    assert error_code(other) == "ORDER_ID_CONFLICT"
    assert [item["order_id"] for item in orders_in(table)] == [body_of(first)["order_id"]]
    assert orders_in(table)[0]["customer_id"] == VALID_ORDER["customer_id"]


def test_a_retry_while_the_first_request_runs_is_409(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    api.handler(keyed(make_event), context)
    record = the_record(records)
    # The state the first request's record is in until it finishes.
    records.put_item(
        Item={
            **copy.deepcopy(record),
            "status": "INPROGRESS",
            "in_progress_expiration": int(time.time() * 1000) + 30_000,
        }
    )

    refused = api.handler(keyed(make_event), context)

    assert refused["statusCode"] == 409
    assert error_code(refused) == "IDEMPOTENCY_KEY_IN_USE"
    assert len(orders_in(table)) == 1


def test_keys_belong_to_the_caller(make_event: Any, context: Any, table: Any, records: Any) -> None:
    ada = api.handler(keyed(make_event, caller="user-ada"), context)
    bob = api.handler(keyed(make_event, caller="user-bob"), context)
    ada_again = api.handler(keyed(make_event, caller="user-ada"), context)

    assert body_of(ada)["order_id"] != body_of(bob)["order_id"]
    assert body_of(ada_again) == body_of(ada)
    assert len(orders_in(table)) == 2


def test_a_quoted_key_is_the_same_key_as_the_bare_token(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    bare = api.handler(keyed(make_event), context)
    quoted = api.handler(keyed(make_event, key=f'"{KEY}"'), context)

    assert body_of(quoted) == body_of(bare)
    assert len(orders_in(table)) == 1


BAD_KEYS = {
    "empty": "",
    "empty_quoted": '""',
    "256_characters": "k" * 256,
    "space": "my key",
    "nul": "key\x00",
    "tab": "key\t1",
    "delete": "key\x7f",
    "non_ascii": "clé",
    "zero_width_space": "key\u200b",
}


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_bad_key_is_400_with_json_error_and_creates_nothing(
    make_event: Any, context: Any, table: Any, records: Any, key: str
) -> None:
    response = api.handler(keyed(make_event, key=key), context)

    assert response["statusCode"] == 400
    assert error_code(response) == "INVALID_IDEMPOTENCY_KEY"
    assert "1-255 visible ASCII characters" in body_of(response)["error"]["message"]
    assert orders_in(table) == []


def test_a_255_character_key_is_accepted(
    make_event: Any, context: Any, table: Any, records: Any
) -> None:
    response = api.handler(keyed(make_event, key="k" * 255), context)

    assert response["statusCode"] == 201


def test_without_a_table_the_header_is_ignored(
    make_event: Any, context: Any, table: Any, records: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IDEMPOTENCY_TABLE_NAME")

    answers = [api.handler(keyed(make_event, key=key), context) for key in (KEY, KEY, "a b")]

    assert [answer["statusCode"] for answer in answers] == [201, 201, 201]
    assert len(orders_in(table)) == 3


def test_a_failed_creation_releases_the_key_for_the_retry(
    make_event: Any, context: Any, table: Any, records: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    failed = api.handler(keyed(make_event), context)
    monkeypatch.undo()
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", IDEMPOTENCY_TABLE)

    retry = api.handler(keyed(make_event), context)

    assert failed["statusCode"] == 500
    assert retry["statusCode"] == 201
    assert len(orders_in(table)) == 1
