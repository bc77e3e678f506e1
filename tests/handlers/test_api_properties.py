"""orders.api.handler never raises and never blames itself for what a client sends."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from orders import api

from tests.handlers.events import API_EVENTS, VALID_ORDER, body_of, header

pytestmark = pytest.mark.usefixtures("table")

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
EMAILS = st.sampled_from(["ada@example.com", "a.b+c@mail.example.org"]) | st.sampled_from(
    ["ada@", "a b@c.de", ""]
)
VALID_ITEMS = st.lists(
    st.fixed_dictionaries(
        {"sku": st.text(min_size=1, max_size=64), "quantity": st.integers(1, 1000)}
    ),
    min_size=1,
    max_size=4,
)
ANY_ITEMS = st.lists(
    st.fixed_dictionaries({"sku": JSON_VALUES, "quantity": st.integers(-5, 1100) | JSON_VALUES}),
    max_size=4,
)
ORDER_LIKE = st.one_of(
    st.just(VALID_ORDER),
    # Mostly valid: unicode text in every field must reach DynamoDB and come back intact.
    st.fixed_dictionaries(
        {"customer_id": st.text(min_size=1, max_size=128), "email": EMAILS, "items": VALID_ITEMS}
    ),
    st.fixed_dictionaries(
        {
            "customer_id": st.text(max_size=130) | JSON_VALUES,
            "email": EMAILS | st.text(max_size=20),
            "items": ANY_ITEMS | JSON_VALUES,
        },
        optional={"extra": JSON_VALUES},
    ),
)


@st.composite
def bodies(draw: st.DrawFn, kinds: tuple[str, ...]) -> tuple[str | None, bool]:
    """A body and its ``isBase64Encoded`` flag, of one of ``kinds``."""
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None, draw(st.booleans())
    if kind == "text":
        return draw(st.text(max_size=200)), False
    if kind == "flagged":  # claimed base64, but any text
        return draw(st.text(max_size=60)), True
    if kind == "bytes":
        return base64.b64encode(draw(st.binary(max_size=100))).decode("ascii"), True
    document = json.dumps(draw(ORDER_LIKE if kind == "order" else JSON_VALUES))
    if draw(st.integers(0, 3)) == 0:
        return base64.b64encode(document.encode("utf-8")).decode("ascii"), True
    return document, False


ANY_BODY = ("none", "text", "flagged", "bytes", "json", "order")
JSON_HEADERS = st.sampled_from(
    [{"Content-Type": "application/json"}, {"content-type": "application/json; charset=utf-8"}, {}]
)
ANY_HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "content-type", "Accept", "X-Custom"]) | st.text(max_size=10),
    st.sampled_from(["application/json", "text/plain", ""]) | st.text(max_size=30),
    max_size=4,
)
ANY_METHOD = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
ANY_PATH = (
    st.sampled_from(["/orders", "/orders/", "/", "/orders/a/b"])
    | st.text(max_size=40)
    | st.text(max_size=40).map(lambda tail: "/orders/" + tail)
)


@st.composite
def api_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Arguments of an API event: a third create orders, a third read them, a third anything."""
    aim = draw(st.sampled_from(["create", "read", "anything"]))
    if aim == "create":
        text, is_base64 = draw(bodies(("order",) * 6 + ANY_BODY))
        headers = draw(JSON_HEADERS | ANY_HEADERS)
        return {
            "method": "POST",
            "path": draw(st.sampled_from(["/orders", "/orders/"])),
            "headers": headers,
            "body": text,
            "is_base64": is_base64,
        }
    if aim == "read":
        order_id = draw(st.uuids().map(lambda u: u.hex) | st.text(min_size=1, max_size=40))
        return {"method": "GET", "path": f"/orders/{order_id}", "headers": draw(ANY_HEADERS)}
    text, is_base64 = draw(bodies(ANY_BODY))
    return {
        "method": draw(ANY_METHOD | st.text(max_size=8)),
        "path": draw(ANY_PATH),
        "headers": draw(ANY_HEADERS),
        "body": text,
        "is_base64": is_base64,
    }


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload_format=st.sampled_from(sorted(API_EVENTS)), request=api_requests())
def test_any_request_gets_a_json_answer_below_500(
    context: Any, payload_format: str, request: dict[str, Any]
) -> None:
    response = api.handler(API_EVENTS[payload_format](**request), context)

    event(f"status {response['statusCode']}")  # shown by --hypothesis-show-statistics
    assert response["statusCode"] < 500, response["body"]
    assert header(response, "Content-Type") == "application/json"
    answer = body_of(response)
    if response["statusCode"] >= 400:
        assert set(answer) == {"error", "request_id"}
        assert set(answer["error"]) == {"code", "message"}
