"""OrdersSample's authorizers end to end: what a signed-in user gets, and what everyone else gets.

The REST API has a Cognito user-pool authorizer (the ID token in ``Authorization``); the
HTTP API a JWT authorizer for the same pool, audience the sample's app client (``Bearer``
token). Every refusal is API Gateway's ``401 {"message":"Unauthorized"}``; the function is
not invoked (no order is stored).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from emulator import (
    DeployedStack,
    Emulator,
    HttpResponse,
    add_app_client,
    create_user,
    create_user_pool,
    http_request,
    sign_in,
)

from .conftest import PASSWORD, USERNAME, authorization

APIS = ["RestApiUrl", "HttpApiUrl"]
UNAUTHORIZED = {"message": "Unauthorized"}


def order(customer: str) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "email": f"{customer}@example.com",
        "items": [{"sku": "BOOK-42", "quantity": 1}],
    }


def post_order(
    emulator: Emulator, stack: DeployedStack, api: str, customer: str, headers: dict[str, str]
) -> HttpResponse:
    return http_request(emulator, "POST", stack.outputs[api] + "orders", order(customer), headers)


def stored_customers(emulator: Emulator, stack: DeployedStack) -> set[str]:
    items = emulator.client("dynamodb").scan(TableName=stack.outputs["OrdersTableName"])["Items"]
    return {item["customer_id"]["S"] for item in items}


def assert_refused(
    emulator: Emulator, stack: DeployedStack, api: str, customer: str, headers: dict[str, str]
) -> HttpResponse:
    response = post_order(emulator, stack, api, customer, headers)
    assert (response.status, response.json()) == (401, UNAUTHORIZED)
    assert customer not in stored_customers(emulator, stack)
    return response


def forge(token: str) -> str:
    """The token with one character of its signature changed."""
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    changed = "A" if signature[middle] != "A" else "B"
    return f"{header}.{payload}.{signature[:middle]}{changed}{signature[middle + 1 :]}"


@pytest.fixture(scope="module")
def other_pool_token(emulator: Emulator) -> str:
    """An ID token of a user of another pool in the same account and region."""
    pool_id, client_id = create_user_pool(emulator, "another-pool")
    create_user(emulator, pool_id, "stranger", PASSWORD)
    return str(sign_in(emulator, client_id, "stranger", PASSWORD)["IdToken"])


@pytest.fixture(scope="module")
def other_client_token(emulator: Emulator, stack: DeployedStack, tokens: dict[str, str]) -> str:
    """An ID token of the sample's user, signed in through another app client of its pool."""
    client_id = add_app_client(emulator, stack.outputs["UserPoolId"], "another-app")
    return str(sign_in(emulator, client_id, USERNAME, PASSWORD)["IdToken"])


@pytest.mark.parametrize("api", APIS)
def test_a_signed_in_user_creates_and_reads_an_order(
    emulator: Emulator, stack: DeployedStack, signed_in: dict[str, dict[str, str]], api: str
) -> None:
    created = post_order(emulator, stack, api, f"authorized-{api}", signed_in[api])
    assert created.status == 201, created
    order_id = created.json()["order_id"]
    read = http_request(
        emulator, "GET", f"{stack.outputs[api]}orders/{order_id}", None, signed_in[api]
    )
    assert read.status == 200, read


@pytest.mark.parametrize("api", APIS)
def test_a_request_without_a_token_is_unauthorized(
    emulator: Emulator, stack: DeployedStack, api: str
) -> None:
    response = assert_refused(emulator, stack, api, f"anonymous-{api}", {})
    read = http_request(emulator, "GET", stack.outputs[api] + "orders/any")
    assert (read.status, read.json()) == (401, UNAUTHORIZED)
    if api == "HttpApiUrl":
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("api", APIS)
def test_an_expired_token_is_unauthorized(
    emulator: Emulator, stack: DeployedStack, api: str
) -> None:
    # Signed in two hours ago: Cognito's ID tokens live one hour.
    earlier = sign_in(
        emulator, stack.outputs["UserPoolClientId"], USERNAME, PASSWORD, signed_in_seconds_ago=7200
    )
    response = assert_refused(
        emulator, stack, api, f"expired-{api}", authorization(api, earlier["IdToken"])
    )
    if api == "HttpApiUrl":
        assert 'error_description="the token has expired"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("api", APIS)
def test_a_token_with_a_tampered_signature_is_unauthorized(
    emulator: Emulator, stack: DeployedStack, tokens: dict[str, str], api: str
) -> None:
    forged = forge(tokens["IdToken"])
    assert_refused(emulator, stack, api, f"forged-{api}", authorization(api, forged))


@pytest.mark.parametrize("api", APIS)
def test_a_token_whose_claims_were_changed_is_unauthorized(
    emulator: Emulator, stack: DeployedStack, tokens: dict[str, str], api: str
) -> None:
    header, payload, signature = tokens["IdToken"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "someone-else@example.com"
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{changed}.{signature}"
    assert_refused(emulator, stack, api, f"tampered-{api}", authorization(api, tampered))


@pytest.mark.parametrize("api", APIS)
def test_a_token_of_another_user_pool_is_unauthorized(
    emulator: Emulator, stack: DeployedStack, other_pool_token: str, api: str
) -> None:
    assert_refused(emulator, stack, api, f"other-pool-{api}", authorization(api, other_pool_token))


def test_the_http_api_refuses_a_token_issued_to_another_app_client(
    emulator: Emulator, stack: DeployedStack, other_client_token: str
) -> None:
    response = assert_refused(
        emulator,
        stack,
        "HttpApiUrl",
        "other-client-http",
        authorization("HttpApiUrl", other_client_token),
    )
    assert (
        'error_description="the token does not have a valid audience"'
        in (response.headers["www-authenticate"])
    )


def test_the_rest_api_accepts_any_app_client_of_its_pool(
    emulator: Emulator, stack: DeployedStack, other_client_token: str
) -> None:
    # A Cognito user-pool authorizer names pools, not app clients: API Gateway does not
    # check the ID token's audience.
    created = post_order(
        emulator, stack, "RestApiUrl", "other-client-rest", {"Authorization": other_client_token}
    )
    assert created.status == 201, created


def test_the_rest_api_takes_an_id_token_not_an_access_token(
    emulator: Emulator, stack: DeployedStack, tokens: dict[str, str]
) -> None:
    # Its methods have no OAuth scopes, so the Cognito authorizer wants the ID token.
    assert_refused(
        emulator, stack, "RestApiUrl", "access-token-rest", {"Authorization": tokens["AccessToken"]}
    )


def test_the_http_api_takes_an_access_token_by_its_client_id(
    emulator: Emulator, stack: DeployedStack, tokens: dict[str, str]
) -> None:
    # Access tokens carry client_id instead of aud; the JWT authorizer matches it.
    created = post_order(
        emulator,
        stack,
        "HttpApiUrl",
        "access-token-http",
        {"Authorization": f"Bearer {tokens['AccessToken']}"},
    )
    assert created.status == 201, created
