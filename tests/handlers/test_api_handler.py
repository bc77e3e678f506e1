"""orders.api.handler: REST (payload 1.0) and HTTP API (payload 2.0) events, moto DynamoDB."""

from __future__ import annotations

import json
from typing import Any

import pytest
from orders import api

from tests.handlers.events import (
    API_EVENTS,
    INVISIBLE_CHARACTERS,
    VALID_ORDER,
    as_base64,
    body_of,
    emitted_metrics,
    header,
    post_order,
    stored_order,
    with_character,
)

pytestmark = pytest.mark.usefixtures("table")


@pytest.fixture(params=sorted(API_EVENTS))
def make_event(request: pytest.FixtureRequest) -> Any:
    """Each test runs once per payload format: ``rest`` (1.0) and ``http`` (2.0)."""
    return API_EVENTS[request.param]


def assert_error(response: dict[str, Any], status: int, code: str, request_id: str) -> None:
    assert response["statusCode"] == status
    assert header(response, "Content-Type") == "application/json"
    body = body_of(response)
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["request_id"] == request_id


def request_id_of(event: dict[str, Any]) -> str:
    return event["requestContext"]["requestId"]


def scan(table: Any) -> list[dict[str, Any]]:
    return table.scan()["Items"]


def test_post_order_answers_201_with_the_pending_order_and_stores_it(
    make_event: Any, context: Any, table: Any
) -> None:
    response = api.handler(post_order(make_event), context)

    assert response["statusCode"] == 201
    assert header(response, "Content-Type") == "application/json"
    order = body_of(response)
    assert order["status"] == "PENDING"
    assert {key: order[key] for key in VALID_ORDER} == VALID_ORDER
    assert len(order["order_id"]) == 32 and int(order["order_id"], 16) >= 0
    assert order["created_at"].endswith("Z")
    [item] = scan(table)
    assert item["order_id"] == order["order_id"]
    assert item["status"] == "PENDING"
    assert item["items"] == [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}]


def test_get_order_answers_200_with_the_order_created_before(make_event: Any, context: Any) -> None:
    created = body_of(api.handler(post_order(make_event), context))

    response = api.handler(make_event("GET", f"/orders/{created['order_id']}"), context)

    assert response["statusCode"] == 200
    assert body_of(response) == created


def test_get_order_shows_what_the_workflow_added(make_event: Any, context: Any, table: Any) -> None:
    table.put_item(Item=stored_order("a" * 32, status="SHIPPED", tracking_id="TRK1"))

    response = api.handler(make_event("GET", f"/orders/{'a' * 32}"), context)

    assert response["statusCode"] == 200
    assert body_of(response)["status"] == "SHIPPED"
    assert body_of(response)["tracking_id"] == "TRK1"


def test_get_unknown_order_is_404_with_json_error(make_event: Any, context: Any) -> None:
    event = make_event("GET", f"/orders/{'0' * 32}")

    assert_error(api.handler(event, context), 404, "ORDER_NOT_FOUND", request_id_of(event))


@pytest.mark.parametrize("order_id", ["x" * 3000, "not%20an%20id", "..", "ûñï"])
def test_get_order_with_an_impossible_id_is_404_without_reading_the_table(
    make_event: Any, context: Any, order_id: str
) -> None:
    event = make_event("GET", f"/orders/{order_id}")

    assert_error(api.handler(event, context), 404, "ORDER_NOT_FOUND", request_id_of(event))


def test_paths_with_a_trailing_slash_route_like_without(make_event: Any, context: Any) -> None:
    created = api.handler(make_event("POST", "/orders/", body=json.dumps(VALID_ORDER)), context)
    order_id = body_of(created)["order_id"]

    read = api.handler(make_event("GET", f"/orders/{order_id}/"), context)

    assert (created["statusCode"], read["statusCode"]) == (201, 200)


def test_http_api_on_a_named_stage_routes_without_the_stage_prefix(context: Any) -> None:
    event = API_EVENTS["http"]("POST", "/orders", body=json.dumps(VALID_ORDER), stage="prod")
    assert event["rawPath"] == "/prod/orders"

    assert api.handler(event, context)["statusCode"] == 201


def test_post_order_accepts_a_base64_encoded_json_body(make_event: Any, context: Any) -> None:
    body = as_base64(json.dumps(VALID_ORDER).encode("utf-8"))
    event = make_event("POST", "/orders", body=body, is_base64=True)

    assert api.handler(event, context)["statusCode"] == 201


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "APPLICATION/JSON", "application/ld+json"]
)
def test_post_order_accepts_json_media_types(
    make_event: Any, context: Any, content_type: str
) -> None:
    event = post_order(make_event, headers={"Content-Type": content_type})

    assert api.handler(event, context)["statusCode"] == 201


def test_post_order_trims_whitespace_around_text_fields(make_event: Any, context: Any) -> None:
    order = {**VALID_ORDER, "customer_id": "  customer-42 ", "email": " ada@example.com "}

    created = body_of(api.handler(post_order(make_event, order), context))

    assert (created["customer_id"], created["email"]) == ("customer-42", "ada@example.com")


def with_items(*items: Any) -> dict[str, Any]:
    return {**VALID_ORDER, "items": list(items)}


def without(field: str) -> dict[str, Any]:
    return {key: value for key, value in VALID_ORDER.items() if key != field}


INVALID_ORDERS = {
    "json_array": [VALID_ORDER],
    "json_string": "an order",
    "json_null": None,
    "empty_object": {},
    "missing_customer_id": without("customer_id"),
    "missing_email": without("email"),
    "missing_items": without("items"),
    "extra_field": {**VALID_ORDER, "status": "SHIPPED"},
    "extra_item_field": with_items({"sku": "S", "quantity": 1, "price": 3}),
    "customer_id_number": {**VALID_ORDER, "customer_id": 42},
    "customer_id_blank": {**VALID_ORDER, "customer_id": "   "},
    "customer_id_129_chars": {**VALID_ORDER, "customer_id": "c" * 129},
    "email_invalid": {**VALID_ORDER, "email": "ada.example.com"},
    "email_with_space": {**VALID_ORDER, "email": "ada lovelace@example.com"},
    "email_255_chars": {**VALID_ORDER, "email": "a" * 64 + "@" + "b" * 60 + "." + "c" * 129},
    "items_not_a_list": {**VALID_ORDER, "items": {"sku": "S", "quantity": 1}},
    "items_empty": with_items(),
    "items_101": with_items(*[{"sku": f"S{n}", "quantity": 1} for n in range(101)]),
    "item_not_an_object": with_items("SKU-1"),
    "sku_empty": with_items({"sku": "", "quantity": 1}),
    "sku_65_chars": with_items({"sku": "s" * 65, "quantity": 1}),
    "sku_number": with_items({"sku": 7, "quantity": 1}),
    "quantity_zero": with_items({"sku": "S", "quantity": 0}),
    "quantity_negative": with_items({"sku": "S", "quantity": -3}),
    "quantity_1001": with_items({"sku": "S", "quantity": 1001}),
    "quantity_absurd": with_items({"sku": "S", "quantity": 10**30}),
    "quantity_fraction": with_items({"sku": "S", "quantity": 1.5}),
    "quantity_float_integral": with_items({"sku": "S", "quantity": 2.0}),
    "quantity_string": with_items({"sku": "S", "quantity": "2"}),
    "quantity_boolean": with_items({"sku": "S", "quantity": True}),
    "quantity_missing": with_items({"sku": "S"}),
}


@pytest.mark.parametrize("order", INVALID_ORDERS.values(), ids=INVALID_ORDERS.keys())
def test_post_invalid_order_is_422_with_json_error_and_stores_nothing(
    make_event: Any, context: Any, table: Any, order: Any
) -> None:
    event = post_order(make_event, order)

    assert_error(api.handler(event, context), 422, "INVALID_ORDER", request_id_of(event))
    assert scan(table) == []


@pytest.mark.parametrize("field", ["customer_id", "email", "sku"])
@pytest.mark.parametrize(
    "character", INVISIBLE_CHARACTERS.values(), ids=INVISIBLE_CHARACTERS.keys()
)
def test_post_order_with_a_control_or_format_character_is_422_and_stores_nothing(
    make_event: Any, context: Any, table: Any, field: str, character: str
) -> None:
    event = post_order(make_event, with_character(field, character))

    response = api.handler(event, context)

    assert_error(response, 422, "INVALID_ORDER", request_id_of(event))
    message = body_of(response)["error"]["message"]
    assert "control or format characters" in message and field in message
    assert f"U+{ord(character):04X}" in message
    assert scan(table) == []


def test_post_order_with_zero_quantity_is_422_with_json_error(
    make_event: Any, context: Any
) -> None:
    event = post_order(make_event, with_items({"sku": "S", "quantity": 0}))

    response = api.handler(event, context)

    assert_error(response, 422, "INVALID_ORDER", request_id_of(event))
    assert "items.0.quantity" in body_of(response)["error"]["message"]


def test_validation_message_names_the_field_not_the_value(make_event: Any, context: Any) -> None:
    secret = "x" * 129
    response = api.handler(post_order(make_event, {**VALID_ORDER, "customer_id": secret}), context)

    message = body_of(response)["error"]["message"]
    assert "customer_id" in message and secret not in message


BAD_BODIES = {
    "invalid_json": ("{'customer_id': 1}", False, 400, "INVALID_JSON"),
    "truncated_json": (json.dumps(VALID_ORDER)[:-1], False, 400, "INVALID_JSON"),
    "whitespace_only": ("  \n", False, 400, "INVALID_JSON"),
    "deeply_nested_json": ("[" * 100_000 + "]" * 100_000, False, 400, "INVALID_JSON"),
    "number_with_5000_digits": ("1" * 5000, False, 400, "INVALID_JSON"),
    "missing_body": (None, False, 400, "MISSING_BODY"),
    "empty_body": ("", False, 400, "MISSING_BODY"),
    "base64_not_base64": ("not base64!", True, 400, "INVALID_BODY_ENCODING"),
    "base64_not_utf8": (
        as_base64(b'{"customer_id": "\xff\xfe"}'),
        True,
        400,
        "INVALID_BODY_ENCODING",
    ),
    "base64_not_json": (as_base64(b"customer_id=42"), True, 400, "INVALID_JSON"),
    "base64_json_array": (as_base64(b"[]"), True, 422, "INVALID_ORDER"),
}


@pytest.mark.parametrize(
    ("body", "is_base64", "status", "code"), BAD_BODIES.values(), ids=BAD_BODIES.keys()
)
def test_post_unreadable_body_is_4xx_with_json_error(
    make_event: Any, context: Any, body: str | None, is_base64: bool, status: int, code: str
) -> None:
    event = make_event("POST", "/orders", body=body, is_base64=is_base64)

    assert_error(api.handler(event, context), status, code, request_id_of(event))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_post_order_declared_as_non_json_is_415(
    make_event: Any, context: Any, content_type: str
) -> None:
    event = post_order(make_event, headers={"Content-Type": content_type})

    assert_error(api.handler(event, context), 415, "UNSUPPORTED_MEDIA_TYPE", request_id_of(event))


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/orderz"), ("POST", "/orders/a/b"), ("GET", "/orders/a/items")],
)
def test_unknown_route_is_404_with_json_error(
    make_event: Any, context: Any, method: str, path: str
) -> None:
    event = make_event(method, path)

    assert_error(api.handler(event, context), 404, "ROUTE_NOT_FOUND", request_id_of(event))


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/orders", "POST"),
        ("DELETE", "/orders", "POST"),
        ("PUT", f"/orders/{'a' * 32}", "GET"),
        ("POST", f"/orders/{'a' * 32}", "GET"),
        ("DELETE", f"/orders/{'a' * 32}", "GET"),
    ],
)
def test_unsupported_method_is_405_with_allow_header(
    make_event: Any, context: Any, method: str, path: str, allowed: str
) -> None:
    event = make_event(method, path)

    response = api.handler(event, context)

    assert_error(response, 405, "METHOD_NOT_ALLOWED", request_id_of(event))
    assert header(response, "Allow") == allowed


def test_dynamodb_failure_is_500_with_json_error_and_no_internals(
    make_event: Any, context: Any, monkeypatch: pytest.MonkeyPatch, logs: Any
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    event = post_order(make_event)

    response = api.handler(event, context)

    assert_error(response, 500, "INTERNAL_ERROR", request_id_of(event))
    for internal in ("Traceback", "ResourceNotFound", "no-such-table", "botocore", "File "):
        assert internal not in response["body"]
    assert "ResourceNotFoundException" in logs.text()  # operators still see the cause


def test_read_failure_is_500_with_json_error(
    make_event: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    event = make_event("GET", f"/orders/{'a' * 32}")

    assert_error(api.handler(event, context), 500, "INTERNAL_ERROR", request_id_of(event))


def test_a_stored_item_that_is_not_an_order_is_500_not_the_clients_fault(
    make_event: Any, context: Any, table: Any
) -> None:
    order_id = "b" * 32
    table.put_item(Item={"order_id": order_id, "status": "PENDING"})  # no customer, no items
    event = make_event("GET", f"/orders/{order_id}")

    assert_error(api.handler(event, context), 500, "INTERNAL_ERROR", request_id_of(event))


def test_missing_table_name_answers_500_and_logs_the_variable(
    make_event: Any, context: Any, monkeypatch: pytest.MonkeyPatch, logs: Any
) -> None:
    monkeypatch.delenv("TABLE_NAME")
    event = post_order(make_event)

    response = api.handler(event, context)

    assert_error(response, 500, "INTERNAL_ERROR", request_id_of(event))
    assert "TABLE_NAME" not in response["body"]
    assert "Environment variable TABLE_NAME is not set" in logs.text()


@pytest.mark.parametrize("event", [{}, {"version": "2.0"}, {"httpMethod": "GET"}])
def test_a_malformed_event_answers_500_json_instead_of_raising(
    context: Any, event: dict[str, Any]
) -> None:
    response = api.handler(event, context)

    assert_error(response, 500, "INTERNAL_ERROR", context.aws_request_id)


def test_logs_carry_the_api_request_id_as_correlation_id(
    make_event: Any, context: Any, logs: Any
) -> None:
    event = post_order(make_event)

    api.handler(event, context)

    [created] = logs.entries("Order created")
    assert created["correlation_id"] == request_id_of(event)


def test_post_order_emits_orders_created_metric(
    make_event: Any, context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    api.handler(post_order(make_event), context)

    assert emitted_metrics(capsys.readouterr().out)["OrdersCreated"] == 1


def test_stored_order_reads_back_with_boto3(make_event: Any, context: Any, table: Any) -> None:
    created = body_of(api.handler(post_order(make_event), context))

    item = table.get_item(Key={"order_id": created["order_id"]})["Item"]

    assert item["created_at"] == created["created_at"]
    assert item["email"] == created["email"]


def test_an_sdk_retry_of_a_put_that_had_succeeded_answers_201_with_one_order(
    make_event: Any, context: Any, table: Any, lost_put_responses: Any
) -> None:
    response = api.handler(post_order(make_event), context)

    assert response["statusCode"] == 201, response
    assert lost_put_responses.puts == 2
    [item] = scan(table)
    assert item["order_id"] == body_of(response)["order_id"]
