"""API Gateway's authorization step: Cognito user-pool and JWT authorizers, and AWS_IAM routes.

``authorize_rest_method`` (REST APIs) and ``authorize_http_route`` (HTTP APIs) run after a
request matched a method or route and before its integration is invoked. They return an
``Authorization`` for the proxy event, or raise ``Refused`` carrying API Gateway's answer:

- REST ``COGNITO_USER_POOLS``: the token is the identity source header as sent (no
  ``Bearer`` prefix); its ``iss`` must be one of the authorizer's ``ProviderARNs`` pools,
  its RS256 signature must verify against that pool's keys, ``exp``/``nbf``/``iat`` must
  hold. Without ``AuthorizationScopes`` on the method it must be an ID token (``aud`` is
  not checked: any app client of the pool); with scopes, an access token carrying one of
  them. Missing, malformed, forged, expired or unsuitable: ``401 {"message":"Unauthorized"}``.
  The function sees ``requestContext.authorizer.claims``, every value a string as API
  Gateway renders it (``exp``/``iat`` as dates).
- HTTP ``JWT``: the token is the identity source (``$request.header.X`` or
  ``$request.querystring.x``), a ``Bearer `` prefix stripped; the signature must verify
  against the configured ``Issuer``'s keys, ``iss`` must equal it, ``aud`` (or, if absent,
  ``client_id``) must be one of ``Audience``, times must hold; route scopes need one
  matching ``scope``. Refusals are ``401 {"message":"Unauthorized"}`` with a
  ``www-authenticate: Bearer ...`` header (403 ``Forbidden`` with ``insufficient_scope``
  for scopes). The function sees ``requestContext.authorizer.jwt.claims`` / ``.scopes``
  (payload 2.0; ``authorizer.claims``/``scopes`` in 1.0).
- ``AWS_IAM`` (both kinds): see ``emulator.execute_api_iam``.

The ``error_description`` of ``www-authenticate`` uses API Gateway's documented wording for
an audience mismatch; the other descriptions are the emulator's own. The rendering of list
claims (``[a b]``) is the emulator's too.

Not emulated: Lambda (``CUSTOM``/``REQUEST``) authorizers, which fail closed with a 500
naming them; authorizer result caching; API keys; the REST API resource policy.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, NoReturn

logger = logging.getLogger("emulator")

_JSON = {"content-type": "application/json"}
#: API Gateway's documented ``error_description`` for a token of another audience.
INVALID_AUDIENCE = "the token does not have a valid audience"

KeySets = Callable[[str], "dict[str, Any] | None"]
"""Issuer URL -> the JWKS it publishes (None when it publishes none)."""


@dataclass(frozen=True)
class Caller:
    """A principal whose SigV4 signature verified."""

    access_key: str
    account_id: str
    arn: str
    caller_id: str


@dataclass(frozen=True)
class Authorization:
    """What an authorizer passes on to the function (nothing for ``NONE`` routes)."""

    claims: dict[str, Any] = field(default_factory=dict)
    scopes: list[str] | None = None
    caller: Caller | None = None


class Refused(Exception):
    """The request is refused; ``response`` is API Gateway's answer."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.response = (
            status,
            {**_JSON, **(headers or {})},
            json.dumps(body, separators=(",", ":")).encode(),
        )


class TokenRejected(Exception):
    """A token failed a check; the message says which (``error_description``)."""


UNAUTHORIZED = {"message": "Unauthorized"}


# --- tokens ----------------------------------------------------------------------------


def verified_claims(
    token: str, issuers: Collection[str], key_sets: KeySets, now: float
) -> dict[str, Any]:
    """The claims of ``token`` once its issuer, RS256 signature and times check out.

    Raises ``TokenRejected`` naming the first failed check.
    """
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    issuer = _unverified_claims(token).get("iss")
    if not isinstance(issuer, str) or issuer not in issuers:
        raise TokenRejected("the token does not have a valid issuer")
    key_set = key_sets(issuer)
    if key_set is None:
        raise TokenRejected("the issuer's signing keys cannot be read")
    try:
        keys = KeySet.import_key_set(key_set)  # type: ignore[arg-type]
        decoded = jwt.decode(token, keys, algorithms=["RS256"])
    except (JoseError, ValueError, KeyError, TypeError):
        raise TokenRejected("the token signature is invalid") from None
    claims = dict(decoded.claims)
    _check_times(claims, now)
    return claims


def _unverified_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError(token)
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:
        raise TokenRejected("the token is not a JWT") from None
    if not isinstance(claims, dict):
        raise TokenRejected("the token is not a JWT")
    return claims


def _check_times(claims: dict[str, Any], now: float) -> None:
    def number(name: str) -> float | None:
        value = claims.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TokenRejected(f"the token's {name} claim is not a number")
        return float(value)

    expires = number("exp")
    if expires is None or now >= expires:
        raise TokenRejected("the token has expired")
    not_before = number("nbf")
    if not_before is not None and now < not_before:
        raise TokenRejected("the token is not valid yet")
    issued = number("iat")
    if issued is not None and issued > now:
        raise TokenRejected("the token was issued in the future")


def audience_matches(claims: dict[str, Any], audiences: Collection[str]) -> bool:
    """API Gateway's audience rule: ``aud`` if present, else ``client_id``, in ``audiences``."""
    audience = claims["aud"] if "aud" in claims else claims.get("client_id")
    values = audience if isinstance(audience, list) else [audience]
    return any(isinstance(v, str) and v in audiences for v in values)


def token_scopes(claims: dict[str, Any]) -> list[str]:
    scope = claims.get("scope")
    return scope.split() if isinstance(scope, str) else []


def claim_strings(claims: dict[str, Any], dates: bool = False) -> dict[str, str]:
    """Claims as API Gateway hands them to the function: every value a string
    (``dates``: ``exp``/``iat`` rendered as REST APIs do, ``Sun Nov 29 23:59:59 UTC 2026``)."""
    rendered: dict[str, str] = {}
    for name, value in claims.items():
        if dates and name in ("exp", "iat") and isinstance(value, int | float):
            rendered[name] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        elif isinstance(value, bool):
            rendered[name] = "true" if value else "false"
        elif isinstance(value, list):
            rendered[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, dict):
            rendered[name] = json.dumps(value)
        else:
            rendered[name] = str(value)
    return rendered


# --- REST APIs -------------------------------------------------------------------------


def authorize_rest_method(
    api: Any, method: Any, stage: str, request: Any, account_id: str, region: str
) -> Authorization:
    """Authorize ``request`` for a REST API ``method`` (moto's Method) or raise ``Refused``."""
    kind = (method.authorization_type or "NONE").upper()
    untokened = _without_token(kind, request, api.id, stage, account_id, region, rest_api=True)
    if untokened is not None:
        return untokened
    authorizer = api.authorizers.get(method.authorizer_id or "")
    if kind != "COGNITO_USER_POOLS" or authorizer is None:
        _not_emulated(f"{kind} authorizer {method.authorizer_id!r} of REST API {api.id}")
    token = _identity(request, authorizer.identity_source or "method.request.header.Authorization")
    if not token or not _validation_expression_matches(authorizer, token):
        raise Refused(401, UNAUTHORIZED)
    from emulator.cognito import issuer_of_pool_arn

    issuers = [issuer_of_pool_arn(arn) for arn in authorizer.provider_arns or []]
    try:
        claims = _pool_claims(token, issuers, account_id)
        scopes = list(method.authorization_scopes or [])
        _check_rest_token_use(claims, scopes)
    except TokenRejected as rejected:
        logger.info("REST API %s: token refused: %s", api.id, rejected)
        raise Refused(401, UNAUTHORIZED) from None
    return Authorization(claims=claims, scopes=scopes or None)


def _check_rest_token_use(claims: dict[str, Any], scopes: list[str]) -> None:
    if not scopes:
        if claims.get("token_use") != "id":
            raise TokenRejected("a method without scopes takes an ID token")
    elif claims.get("token_use") != "access":
        raise TokenRejected("a method with scopes takes an access token")
    elif not set(scopes) & set(token_scopes(claims)):
        raise TokenRejected("the token has none of the method's scopes")


def _validation_expression_matches(authorizer: Any, token: str) -> bool:
    expression = authorizer.identity_validation_expression
    return not expression or re.fullmatch(expression, token) is not None


# --- HTTP APIs -------------------------------------------------------------------------


def authorize_http_route(
    api: Any, route: Any, stage: str, request: Any, account_id: str, region: str
) -> Authorization:
    """Authorize ``request`` for an HTTP API ``route`` (moto's Route) or raise ``Refused``."""
    kind = (route.authorization_type or "NONE").upper()
    untokened = _without_token(kind, request, api.api_id, stage, account_id, region, rest_api=False)
    if untokened is not None:
        return untokened
    authorizer = api.authorizers.get(route.authorizer_id or "")
    if kind != "JWT" or authorizer is None or not authorizer.jwt_config:
        _not_emulated(f"{kind} authorizer {route.authorizer_id!r} of HTTP API {api.api_id}")
    sources = authorizer.identity_source or ["$request.header.Authorization"]
    raw = _identity(request, sources[0] if isinstance(sources, list) else sources)
    if not raw:
        raise Refused(401, UNAUTHORIZED, {"www-authenticate": "Bearer"})
    token = raw[len("Bearer ") :] if raw.lower().startswith("bearer ") else raw
    config = authorizer.jwt_config
    issuer, audiences = config.get("Issuer", ""), config.get("Audience") or []
    try:
        claims = _pool_claims(token, [issuer], account_id)
        if not audience_matches(claims, audiences):
            raise TokenRejected(INVALID_AUDIENCE)
    except TokenRejected as rejected:
        logger.info("HTTP API %s: token refused: %s", api.api_id, rejected)
        challenge = f'Bearer scope="" error="invalid_token" error_description="{rejected}"'
        raise Refused(401, UNAUTHORIZED, {"www-authenticate": challenge}) from None
    required = list(route.authorization_scopes or [])
    granted = token_scopes(claims)
    if required and not set(required) & set(granted):
        challenge = (
            f'Bearer scope="{" ".join(required)}" error="insufficient_scope" '
            f'error_description="expected scopes: [{" ".join(required)}]"'
        )
        raise Refused(403, {"message": "Forbidden"}, {"www-authenticate": challenge})
    return Authorization(claims=claims, scopes=granted or None)


# --- shared ----------------------------------------------------------------------------


def _without_token(
    kind: str,
    request: Any,
    api_id: str,
    stage: str,
    account_id: str,
    region: str,
    rest_api: bool,
) -> Authorization | None:
    """``NONE`` and ``AWS_IAM``, alike on both kinds of API; None for token authorizers."""
    if kind == "NONE":
        return Authorization()
    if kind != "AWS_IAM":
        return None
    from emulator import execute_api_iam

    caller = execute_api_iam.authorize(request, api_id, stage, account_id, region, rest_api)
    return Authorization(caller=caller)


def _pool_claims(token: str, issuers: Collection[str], account_id: str) -> dict[str, Any]:
    """``verified_claims`` against the keys of the emulated pools (``cognito.issuer_key_set``)."""
    from emulator.cognito import issuer_key_set

    return verified_claims(token, issuers, lambda iss: issuer_key_set(iss, account_id), time.time())


def _identity(request: Any, source: str) -> str:
    """The identity source's value: ``method.request.header.X``, ``$request.header.X``,
    ``method.request.querystring.x`` or ``$request.querystring.x``."""
    from emulator.http_api import query_parameters

    kind, _, name = source.removeprefix("method.request.").removeprefix("$request.").partition(".")
    if kind == "header":
        return str(request.headers.get(name.lower(), "")).strip()
    if kind == "querystring":
        values = query_parameters(request.raw_query).get(name, [])
        return values[-1] if values else ""
    return ""


def _not_emulated(what: str) -> NoReturn:
    logger.warning("%s is not emulated: the request is refused", what)
    raise Refused(500, {"message": f"The emulator does not run this authorizer ({what})"})


# --- what the function sees ----------------------------------------------------------------


def http_event_authorizer(authorization: Authorization, payload_version: str) -> dict[str, Any]:
    """``requestContext.authorizer`` of an HTTP API event ({} when the route has none)."""
    if authorization.caller is not None:
        if payload_version == "1.0":
            return {}
        caller = authorization.caller
        return {
            "iam": {
                "accessKey": caller.access_key,
                "accountId": caller.account_id,
                "callerId": caller.caller_id,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": caller.arn,
                "userId": caller.caller_id,
            }
        }
    if not authorization.claims:
        return {}
    jwt = {"claims": claim_strings(authorization.claims), "scopes": authorization.scopes}
    return jwt if payload_version == "1.0" else {"jwt": jwt}


def rest_event_authorizer(authorization: Authorization) -> dict[str, Any]:
    """``requestContext.authorizer`` of a REST API event ({} without a Cognito authorizer)."""
    if not authorization.claims:
        return {}
    return {"claims": claim_strings(authorization.claims, dates=True)}


def caller_identity(authorization: Authorization) -> dict[str, Any]:
    """The ``requestContext.identity`` fields an AWS_IAM caller fills (REST, HTTP payload 1.0)."""
    caller = authorization.caller
    if caller is None:
        return {}
    return {
        "accessKey": caller.access_key,
        "accountId": caller.account_id,
        "caller": caller.caller_id,
        "user": caller.caller_id,
        "userArn": caller.arn,
    }
