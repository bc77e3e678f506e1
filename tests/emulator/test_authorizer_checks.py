"""The authorizers' checks on their own, without a server: tokens, claims, policies."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from emulator.authorizers import (
    INVALID_AUDIENCE,
    TokenRejected,
    _check_rest_token_use,
    audience_matches,
    claim_strings,
    verified_claims,
)
from emulator.cognito import issuer_of_pool_arn
from emulator.execute_api_iam import policies_allow, route_arn

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "test-key"})


@pytest.fixture(scope="module")
def key_set(signing_key: RSAKey) -> dict[str, Any]:
    return {"keys": [signing_key.as_dict(private=False)]}


def token(key: RSAKey, **claims: Any) -> str:
    payload = {"iss": ISSUER, "iat": NOW - 60, "exp": NOW + 3600, "token_use": "id", **claims}
    return jwt.encode({"alg": "RS256", "kid": "test-key"}, payload, key)


def check(value: str, key_set: dict[str, Any], now: float = NOW) -> dict[str, Any]:
    return verified_claims(value, [ISSUER], lambda issuer: key_set, now)


def test_a_signed_unexpired_token_of_the_issuer_passes(
    signing_key: RSAKey, key_set: dict[str, Any]
) -> None:
    claims = check(token(signing_key, sub="u-1"), key_set)
    assert claims["sub"] == "u-1"


@pytest.mark.parametrize(
    ("claims", "now", "reason"),
    [
        ({}, NOW + 3600, "the token has expired"),
        ({"exp": None}, NOW, "the token has expired"),
        ({"nbf": NOW + 10}, NOW, "the token is not valid yet"),
        ({"iat": NOW + 10}, NOW, "the token was issued in the future"),
        ({"exp": "tomorrow"}, NOW, "the token's exp claim is not a number"),
        ({"iss": ISSUER + "x"}, NOW, "the token does not have a valid issuer"),
    ],
)
def test_times_and_issuer_are_checked(
    signing_key: RSAKey, key_set: dict[str, Any], claims: dict[str, Any], now: float, reason: str
) -> None:
    with pytest.raises(TokenRejected, match=reason):
        check(token(signing_key, **claims), key_set, now)


def test_a_tampered_payload_or_signature_fails_the_signature_check(
    signing_key: RSAKey, key_set: dict[str, Any]
) -> None:
    header, payload, signature = token(signing_key, sub="u-1").split(".")
    other_payload = token(signing_key, sub="admin").split(".")[1]
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    for forged in (f"{header}.{other_payload}.{signature}", f"{header}.{payload}.{flipped}"):
        with pytest.raises(TokenRejected, match="signature is invalid"):
            check(forged, key_set)


def test_a_token_signed_by_another_key_or_with_hs256_fails(key_set: dict[str, Any]) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    with pytest.raises(TokenRejected, match="signature is invalid"):
        check(token(stranger), key_set)
    from joserfc.jwk import OctKey

    secret = OctKey.import_key("s" * 32)
    claims = {"iss": ISSUER, "exp": NOW + 60}
    hs256 = jwt.encode({"alg": "HS256", "kid": "test-key"}, claims, secret)
    with pytest.raises(TokenRejected, match="signature is invalid"):
        check(hs256, key_set)


@pytest.mark.parametrize("value", ["", "abc", "a.b", "a.!!!.c", "a.bnVsbA.c"])
def test_what_is_not_a_jwt_is_refused(value: str, key_set: dict[str, Any]) -> None:
    with pytest.raises(TokenRejected, match="not a JWT"):
        check(value, key_set)


def test_an_issuer_without_keys_is_refused(signing_key: RSAKey) -> None:
    with pytest.raises(TokenRejected, match="signing keys"):
        verified_claims(token(signing_key), [ISSUER], lambda issuer: None, NOW)


def test_audience_is_aud_when_present_else_client_id() -> None:
    assert audience_matches({"aud": "app"}, ["app"])
    assert audience_matches({"client_id": "app", "token_use": "access"}, ["app"])
    assert audience_matches({"aud": ["x", "app"]}, ["app"])
    # API Gateway evaluates aud when both are there.
    assert not audience_matches({"aud": "other", "client_id": "app"}, ["app"])
    assert not audience_matches({}, ["app"])
    assert INVALID_AUDIENCE == "the token does not have a valid audience"


def test_rest_methods_take_id_tokens_without_scopes_and_scoped_access_tokens_with() -> None:
    _check_rest_token_use({"token_use": "id"}, [])
    _check_rest_token_use({"token_use": "access", "scope": "a b"}, ["b"])
    for claims, scopes in (
        ({"token_use": "access", "scope": "a"}, []),
        ({"token_use": "id"}, ["a"]),
        ({"token_use": "access", "scope": "a"}, ["b"]),
    ):
        with pytest.raises(TokenRejected):
            _check_rest_token_use(claims, scopes)


def test_claims_reach_the_function_as_strings() -> None:
    claims = {"sub": "u", "email_verified": True, "exp": 0, "auth_time": 5, "groups": ["a", "b"]}
    assert claim_strings(claims) == {
        "sub": "u",
        "email_verified": "true",
        "exp": "0",
        "auth_time": "5",
        "groups": "[a b]",
    }
    assert claim_strings(claims, dates=True)["exp"] == "Thu Jan 01 00:00:00 UTC 1970"


def test_a_pool_arn_names_its_issuer() -> None:
    arn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"
    assert issuer_of_pool_arn(arn) == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"


ROUTE = route_arn("us-east-1", "123456789012", "api1", "prod", "GET", "/orders/42")


def allow(resource: str, action: str = "execute-api:Invoke", **extra: Any) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


def test_route_arn_names_api_stage_method_and_path() -> None:
    assert ROUTE == "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/orders/42"


@pytest.mark.parametrize(
    "resource",
    [
        ROUTE,
        "arn:aws:execute-api:us-east-1:123456789012:api1/*",
        "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/orders/*",
        "arn:aws:execute-api:*:*:api1/prod/GET/orders/??",
    ],
)
def test_a_matching_allow_allows(resource: str) -> None:
    assert policies_allow([allow(resource)], "execute-api:Invoke", ROUTE)
    assert policies_allow([allow(resource, action="execute-api:*")], "execute-api:Invoke", ROUTE)
    assert policies_allow(
        [allow(resource, action="EXECUTE-API:invoke")], "execute-api:Invoke", ROUTE
    )


@pytest.mark.parametrize(
    "documents",
    [
        [],
        [allow("arn:aws:execute-api:us-east-1:123456789012:api1/test/*")],
        [allow("arn:aws:execute-api:us-east-1:123456789012:api1/prod/POST/*")],
        [allow("arn:aws:execute-api:us-east-1:123456789012:api2/*")],
        [allow(ROUTE, action="execute-api:ManageConnections")],
        [allow(ROUTE, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
        [allow(ROUTE), {"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}],
        [{"Statement": [{"Effect": "Allow", "NotAction": "execute-api:*", "Resource": "*"}]}],
        [{"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": ROUTE}]}],
    ],
)
def test_no_allow_or_an_explicit_deny_refuses(documents: list[dict[str, Any]]) -> None:
    assert not policies_allow(documents, "execute-api:Invoke", ROUTE)


def test_policy_documents_may_be_json_text() -> None:
    import json

    assert policies_allow([json.dumps(allow(ROUTE))], "execute-api:Invoke", ROUTE)


def test_tokens_issued_now_are_checked_against_the_real_clock(
    signing_key: RSAKey, key_set: dict[str, Any]
) -> None:
    now = time.time()
    fresh = token(signing_key, iat=int(now), exp=int(now) + 3600)
    assert verified_claims(fresh, [ISSUER], lambda issuer: key_set, time.time())["iss"] == ISSUER


def test_each_payload_format_carries_the_authorizer_where_api_gateway_puts_it() -> None:
    from emulator.authorizers import (
        Authorization,
        Caller,
        caller_identity,
        http_event_authorizer,
        rest_event_authorizer,
    )

    jwt = Authorization(claims={"sub": "u", "exp": 0}, scopes=["read"])
    assert http_event_authorizer(jwt, "2.0") == {
        "jwt": {"claims": {"sub": "u", "exp": "0"}, "scopes": ["read"]}
    }
    assert http_event_authorizer(jwt, "1.0") == {
        "claims": {"sub": "u", "exp": "0"},
        "scopes": ["read"],
    }
    assert rest_event_authorizer(jwt) == {
        "claims": {"sub": "u", "exp": "Thu Jan 01 00:00:00 UTC 1970"}
    }
    arn = "arn:aws:iam::123456789012:user/u"
    iam = Authorization(caller=Caller("AKIA1", "123456789012", arn, "AIDA1"))
    assert http_event_authorizer(iam, "2.0")["iam"]["userArn"] == arn
    assert http_event_authorizer(iam, "1.0") == {}
    assert caller_identity(iam) == {
        "accessKey": "AKIA1",
        "accountId": "123456789012",
        "caller": "AIDA1",
        "user": "AIDA1",
        "userArn": arn,
    }
    for nothing in (http_event_authorizer(Authorization(), "2.0"), caller_identity(jwt)):
        assert nothing == {}
