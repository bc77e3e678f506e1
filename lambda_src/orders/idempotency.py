"""Idempotent order creation: the ``Idempotency-Key`` request header.

A client that may retry ``POST /orders`` (a timeout, a dropped connection) sends a key of
its choosing, as in the IETF draft "The Idempotency-Key HTTP Header Field" and the large
payment APIs. Within :data:`EXPIRY_SECONDS` of the first request:

- the same key with the same order answers what the first request answered (201 and the
  same order) and creates nothing: no second item, so no second stream ``INSERT`` and no
  second workflow;
- the same key with another order is refused with 422 ``IDEMPOTENCY_KEY_REUSED``;
- the same key while the first request is still running is refused with 409
  ``IDEMPOTENCY_KEY_IN_USE`` (retry later).

Keys belong to the caller: the authorizer's principal (the token's ``sub``) is part of the
key, so two callers choosing the same key never see each other's orders. The order is
compared as validated (whitespace trimmed), so a retry that spaces it differently still
matches. Without the header an order is created on every request, as without this module.

Built on Powertools' idempotency utility with its DynamoDB persistence layer (table:
partition key ``id``, TTL attribute ``expiration``). Powertools and the client are loaded on
the first request that carries a key, so requests without one pay nothing for it.

Environment: ``IDEMPOTENCY_TABLE_NAME``; unset or empty turns the header off (ignored).
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from orders import config, store
from orders.errors import (
    IdempotencyKeyInUseError,
    IdempotencyKeyReusedError,
    InvalidIdempotencyKeyError,
)

HEADER = "Idempotency-Key"
EXPIRY_SECONDS = 24 * 60 * 60
"""How long a key is remembered after its first request: 24 hours."""

MAX_KEY_LENGTH = 255
# Visible ASCII only: no spaces, controls or non-ASCII, which logs and terminals render
# ambiguously; UUIDs and the usual random tokens fit.
_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
_ORDER_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:orders:idempotency-key")


def key_from(headers: Mapping[str, str]) -> str | None:
    """The request's idempotency key, or ``None`` when the header is absent or off.

    The draft sends the key as a structured-field string (``"8e03978e-..."``); a bare
    token, as payment APIs take it, is accepted too.

    Raises
    ------
    InvalidIdempotencyKeyError
        If the key is not 1-255 visible ASCII characters.
    """
    value = headers.get(HEADER)
    if value is None or config.idempotency_table_name() is None:
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _KEY.fullmatch(value):
        raise InvalidIdempotencyKeyError(
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} visible ASCII characters "
            "(letters, digits, punctuation; no spaces or control characters)"
        )
    return value


def caller_of(event: Mapping[str, Any]) -> str:
    """The authenticated principal of an API Gateway proxy event, or ``""`` if none.

    REST Cognito authorizers put the token's claims at ``authorizer.claims``, HTTP API JWT
    authorizers at ``authorizer.jwt.claims``; IAM authorization names the caller's ARN.
    """
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    claims = authorizer.get("claims") or (authorizer.get("jwt") or {}).get("claims") or {}
    iam = authorizer.get("iam") or {}
    identity = context.get("identity") or {}
    return str(claims.get("sub") or iam.get("userArn") or identity.get("userArn") or "")


def order_id_for(caller: str, key: str) -> str:
    """The id of the order created by ``caller`` with ``key`` (uuid5, 32 hex characters).

    Stable, so that a retry arriving after the key's record expired, or after the record was
    removed because the first attempt failed late, writes the same id and finds its order.
    """
    return uuid.uuid5(_ORDER_ID_NAMESPACE, json.dumps([caller, key])).hex


def create_once(
    create: Callable[[], dict[str, Any]],
    order: dict[str, Any],
    *,
    key: str,
    caller: str,
    context: Any,
) -> dict[str, Any]:
    """Run ``create`` once per (caller, key); a retry gets the first answer back.

    Parameters
    ----------
    create : callable
        Stores the order and returns it as JSON; called only for a key not seen before.
    order : dict
        The validated order in JSON form, compared with the first request's.
    key, caller : str
        The request's key (:func:`key_from`) and principal (:func:`caller_of`).
    context : LambdaContext
        Lets the utility release a key whose request ran out of time.

    Raises
    ------
    IdempotencyKeyReusedError, IdempotencyKeyInUseError
        As the module describes.
    """
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    table_name = config.idempotency_table_name()
    if table_name is None:
        raise RuntimeError(f"{HEADER} is off: IDEMPOTENCY_TABLE_NAME is not set")
    once = _once(table_name)
    once.config.register_lambda_context(context)
    try:
        return once(request={"caller": caller, "key": key, "order": order}, create=create)
    except IdempotencyValidationError:
        raise IdempotencyKeyReusedError(
            f"This {HEADER} was used with another order; use a new key for a new order"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyKeyInUseError(
            f"A request with this {HEADER} is still being processed; retry later"
        ) from None


def _run(*, request: dict[str, Any], create: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    # Only ``request`` is hashed: the key from [caller, key], the check from ``order``.
    return create()


class _Once:
    """:func:`_run` wrapped by Powertools' ``idempotent_function``, with its configuration."""

    def __init__(self, table_name: str) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        self.config = IdempotencyConfig(
            event_key_jmespath="[caller, key]",
            payload_validation_jmespath="order",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=EXPIRY_SECONDS,
            hash_function="sha256",
        )
        self._run = idempotent_function(
            _run,
            data_keyword_argument="request",
            persistence_store=DynamoDBPersistenceLayer(
                table_name=table_name, boto3_client=store.dynamodb()
            ),
            config=self.config,
            key_prefix="orders#create",
        )

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._run(**kwargs)
        return result


@functools.cache
def _once(table_name: str) -> _Once:
    # Built on first use and kept for warm invocations, like the clients.
    return _Once(table_name)


def cache_clear() -> None:
    """Forget the wrapped function and its client (tests switch AWS backends)."""
    _once.cache_clear()
