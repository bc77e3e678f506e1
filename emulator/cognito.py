"""Cognito user pools from CloudFormation that issue real tokens, and the keys that verify them.

moto 5.2.5 has a working cognito-idp backend (users, ``InitiateAuth`` with
``USER_PASSWORD_AUTH``, RS256 ID and access tokens, a JWKS at
``/<pool-id>/.well-known/jwks.json``) but no CloudFormation model for
``AWS::Cognito::UserPool`` or ``AWS::Cognito::UserPoolClient``. This module adds both:
the pool and the app client a template declares become moto objects, so the ids in the
stack outputs work with ``admin-create-user``, ``admin-set-user-password`` and
``initiate-auth`` like on AWS. ``Ref`` gives the pool id and the client id; ``GetAtt``
gives ``Arn``, ``ProviderName``, ``ProviderURL``, ``UserPoolId`` (pool) and ``ClientId``,
``ClientSecret``, ``Name`` (client).

Issuer: moto writes ``iss = https://cognito-idp.<region>.amazonaws.com/<pool-id>`` into
its tokens, which is what Cognito writes and what a JWT authorizer is configured with; no
mapping is needed there. What the emulator maps, in ``issuer_key_set`` and only there, is
the way from an issuer URL to its signing keys: API Gateway downloads
``<issuer>/.well-known/jwks.json`` from the internet; the emulator reads the public key of
the moto pool that URL names (same account and region), the JWKS it also serves at
``<endpoint>/<pool-id>/.well-known/jwks.json``. An issuer that names no emulated pool has
no keys, and its tokens are refused.

Signing keys: moto signs every pool's tokens with one RSA key shipped inside moto, which
anyone could use to mint tokens. The glue gives each pool its own 2048-bit key instead,
generated when the pool is created and never leaving the server process, so a token of
another pool, or one signed outside the emulator, fails the signature check as on AWS.
The key id stays ``dummy``, the one moto writes into token headers.

Token age: ``set_issue_clock_offset`` makes the pools issue tokens as if it were that many
seconds later (negative: earlier), for a test or demo to obtain a genuinely expired token
(``emulator.flows.sign_in(..., signed_in_seconds_ago=...)``) without waiting an hour.
Only issuance is shifted; authorizers check expiry against the real clock.

Not emulated: the other ``AWS::Cognito::*`` types (domains, groups, resource servers,
identity pools stay placeholders), pool and client updates and deletion, token validity
settings of the client (moto issues 1-hour tokens), e-mail and SMS delivery.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

#: The emulator's endpoint that sets the issue clock offset: ``POST {"offset_seconds": N}``.
CLOCK_PATH = "/_emulator/cognito/issue-clock"
_ISSUER = re.compile(
    r"https://cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<pool>[^/]+)$"
)
#: CloudFormation properties that are not parameters of CreateUserPool / CreateUserPoolClient.
_POOL_ONLY_IN_TEMPLATE = ("UserPoolName", "EnabledMfas")
_CLIENT_ONLY_IN_TEMPLATE = ("UserPoolId", "GenerateSecret")


class _ShiftedClock:
    """Stands in for the ``time`` module in moto's Cognito models (it reads ``time.time()``
    when it stamps ``iat``/``exp``/``auth_time``)."""

    offset_seconds = 0.0

    def time(self) -> float:
        return time.time() + self.offset_seconds


_issue_clock = _ShiftedClock()


def install() -> None:
    """Register the pool and client models, give each pool its own signing key, and shift
    moto's token clock through ours."""
    import moto.cognitoidp.models as cognito_models
    import moto.cognitoidp.urls as cognito_urls
    from moto.cloudformation.parsing import get_model_map

    cognito_models.time = _issue_clock  # type: ignore[attr-defined, assignment]
    create_user_pool = cognito_models.CognitoIdpBackend.create_user_pool

    def create_with_own_key(backend: Any, name: str, extended_config: dict[str, Any]) -> Any:
        pool = create_user_pool(backend, name, extended_config)
        pool.json_web_key = _new_signing_key()
        return pool

    cognito_models.CognitoIdpBackend.create_user_pool = create_with_own_key  # type: ignore[method-assign, assignment]
    for path in cognito_urls.url_paths:
        if path.endswith("/.well-known/jwks.json$"):
            cognito_urls.url_paths[path] = _serve_key_set
    _define_models()
    get_model_map.cache_clear()


def _new_signing_key() -> Any:
    from joserfc.jwk import RSAKey

    # "dummy": the key id moto writes into every token header.
    return RSAKey.generate_key(2048, parameters={"kid": "dummy", "alg": "RS256", "use": "sig"})


def _pool(region: str, pool_id: str, account_id: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    return cognitoidp_backends[account_id][region].user_pools.get(pool_id)


def _public_key_set(pool: Any) -> dict[str, Any]:
    return {"keys": [pool.json_web_key.as_dict(private=False)]}


def _serve_key_set(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """``GET /<pool-id>/.well-known/jwks.json``: the pool's public key, as Cognito serves it."""
    from urllib.parse import urlparse

    from moto.core.models import DEFAULT_ACCOUNT_ID

    pool_id = urlparse(full_url).path.split("/")[1]
    pool = _pool(pool_id.split("_")[0], pool_id, DEFAULT_ACCOUNT_ID)
    if pool is None:
        return 404, {"Content-Type": "application/json"}, '{"message":"User pool not found"}'
    return 200, {"Content-Type": "application/json"}, json.dumps(_public_key_set(pool))


def set_issue_clock_offset(offset_seconds: float) -> None:
    """Issue tokens as if the clock read ``offset_seconds`` later (0 restores the real clock)."""
    _issue_clock.offset_seconds = float(offset_seconds)


def handle_clock_request(body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Serve ``CLOCK_PATH``: set the issue clock offset from ``{"offset_seconds": N}``."""
    try:
        offset = float(json.loads(body or b"{}")["offset_seconds"])
    except (ValueError, KeyError, TypeError):
        message = b'{"message":"send {\\"offset_seconds\\": <number>}"}'
        return 400, {"content-type": "application/json"}, message
    set_issue_clock_offset(offset)
    return (
        200,
        {"content-type": "application/json"},
        json.dumps({"offset_seconds": offset}).encode(),
    )


def issuer_of_pool_arn(pool_arn: str) -> str:
    """The ``iss`` of the tokens a pool (by ARN) issues: ``https://cognito-idp.<region>...``."""
    # arn:<partition>:cognito-idp:<region>:<account>:userpool/<pool-id>
    parts = pool_arn.split(":", 5)
    return f"https://cognito-idp.{parts[3]}.amazonaws.com/{parts[5].split('/', 1)[1]}"


def issuer_key_set(issuer: str, account_id: str) -> dict[str, Any] | None:
    """The JWKS that ``issuer`` publishes, if it names an emulated pool; else None.

    This is the one place where an issuer URL is mapped to emulated keys (see the module
    docstring): the pool must exist in ``account_id`` and the issuer's region.
    """
    found = _ISSUER.match(issuer)
    pool = _pool(found.group("region"), found.group("pool"), account_id) if found else None
    return None if pool is None else _public_key_set(pool)


def _define_models() -> None:
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core.common_models import CloudFormationModel

    from emulator.cloudformation_models import CreatedResource

    class UserPoolModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        name_property = "UserPoolName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Cognito::UserPool"

        @classmethod
        def create(
            cls, properties: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> UserPoolModel:
            enabled_mfas = properties.get("EnabledMfas") or []
            config = {k: v for k, v in properties.items() if k not in _POOL_ONLY_IN_TEMPLATE}
            backend = cognitoidp_backends[account_id][region_name]
            pool = backend.create_user_pool(resource_name, config)
            if enabled_mfas:
                backend.set_user_pool_mfa_config(
                    pool.id,
                    sms_config={},
                    token_config={"Enabled": "SOFTWARE_TOKEN_MFA" in enabled_mfas},
                    mfa_config=properties.get("MfaConfiguration", "OFF"),
                )
            provider = f"cognito-idp.{region_name}.amazonaws.com/{pool.id}"
            attributes = {
                "Arn": pool.arn,
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
                "UserPoolId": pool.id,
            }
            return cls(pool.id, attributes)

    class UserPoolClientModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        name_property = "ClientName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Cognito::UserPoolClient"

        @classmethod
        def create(
            cls, properties: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> UserPoolClientModel:
            config = {k: v for k, v in properties.items() if k not in _CLIENT_ONLY_IN_TEMPLATE}
            config["ClientName"] = resource_name
            client = cognitoidp_backends[account_id][region_name].create_user_pool_client(
                properties["UserPoolId"],
                str(properties.get("GenerateSecret", False)).lower() == "true",
                config,
            )
            attributes = {
                "ClientId": client.id,
                "ClientSecret": client.secret if client.generate_secret else "",
                "Name": resource_name,
            }
            return cls(client.id, attributes)
