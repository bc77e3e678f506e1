"""HTTP API for orders, behind API Gateway REST (payload 1.0) or HTTP API (payload 2.0).

Routes: ``POST /orders`` creates an order (201), ``GET /orders/{order_id}`` reads one (200),
``POST /orders/{order_id}/retry`` runs the workflow of a ``FAILED`` order (or of one whose
notification failed) again (202).
Every error is ``{"error": {"code", "message"}, "request_id"}`` with a 4xx or 500 status;
:func:`orders.errors.http_error` decides which.

Environment: ``TABLE_NAME``, ``STATE_MACHINE_ARN`` (for retries), ``IDEMPOTENCY_TABLE_NAME``
(optional: without it the ``Idempotency-Key`` header is ignored), ``POWERTOOLS_SERVICE_NAME``,
``POWERTOOLS_METRICS_NAMESPACE``.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from orders import coldstart, executions, idempotency, store
from orders.errors import (
    BodyEncodingError,
    MalformedJsonError,
    MethodNotAllowedError,
    MissingBodyError,
    OrderIdConflictError,
    OrderNotFoundError,
    RouteNotFoundError,
    UnsupportedMediaTypeError,
    http_error,
)
from orders.models import NewOrder, is_order_id, parse_new_order, pending_order

logger = Logger()
metrics = Metrics()

ROUTES: dict[str, tuple[str, ...]] = {
    "/orders": ("POST",),
    "/orders/<order_id>": ("GET",),
    "/orders/<order_id>/retry": ("POST",),
}
"""Each path and the methods it serves; other methods on these paths answer 405."""

_HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

_ResolverT = TypeVar("_ResolverT", APIGatewayRestResolver, APIGatewayHttpResolver)


def create_order(event: BaseProxyEvent, context: Any) -> Response[dict[str, Any]]:
    """Validate the JSON body, store the order as ``PENDING`` and answer 201 with it.

    With an ``Idempotency-Key`` header (see :mod:`orders.idempotency`), a retry answers the
    first request's order instead of creating another, and the order's id derives from the
    key, so even a retry after the key's record expired finds the order it created.
    """
    key = idempotency.key_from(event.headers)
    request = parse_new_order(_json_body(event))
    if key is None:
        return Response(201, content_types.APPLICATION_JSON, body=_store_new_order(request))
    caller = idempotency.caller_of(event.raw_event)
    order_id = idempotency.order_id_for(caller, key)

    def create() -> dict[str, Any]:
        return _store_new_order(request, order_id)

    created = idempotency.create_once(
        create, request.as_json(), key=key, caller=caller, context=context
    )
    return Response(201, content_types.APPLICATION_JSON, body=created)


def _store_new_order(request: NewOrder, order_id: str | None = None) -> dict[str, Any]:
    """Store the order under ``order_id`` (default: a random id) and return it as stored.

    Raises
    ------
    OrderIdConflictError
        If another order holds the id: the key was used before for another order.
    """
    outcome, order = store.add_order(pending_order(request, order_id or uuid.uuid4().hex))
    if outcome is store.Outcome.ID_TAKEN:
        raise OrderIdConflictError(
            "Another order was created with this Idempotency-Key; use a new key for a new order"
        )
    if outcome is store.Outcome.CREATED:
        metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
    logger.info(
        "Order created" if outcome is store.Outcome.CREATED else "Order already stored",
        order_id=order.order_id,
        item_count=len(order.items),
    )
    return order.as_json()


def read_order(order_id: str) -> Response[dict[str, Any]]:
    """Answer 200 with the order, or raise :class:`OrderNotFoundError`."""
    # Ids outside the generated alphabet cannot exist: skip the read, and never send
    # DynamoDB a key it would reject as too long.
    if not is_order_id(order_id):
        raise OrderNotFoundError("No order has this id")
    order = store.get_order(order_id)
    if order is None:
        raise OrderNotFoundError(f"No order has id {order_id}")
    return Response(200, content_types.APPLICATION_JSON, body=order.as_json())


def retry_order(order_id: str) -> Response[dict[str, Any]]:
    """Start another execution of a ``FAILED`` order's workflow (or of one whose notification
    failed) and answer 202 with its name.

    Raises
    ------
    OrderNotFoundError
        If no order has this id.
    OrderNotRetryableError
        If the order's status is not ``FAILED`` and its notification did not fail.
    """
    claimed = store.claim_retry(order_id) if is_order_id(order_id) else None
    if claimed is None:
        raise OrderNotFoundError(f"No order has id {order_id[:64]}")
    attempt, order = claimed
    name, _ = executions.start(order, attempt)
    logger.info("Order retried", order_id=order_id, attempt=attempt, execution_name=name)
    body = {"order_id": order_id, "attempt": attempt, "execution_name": name}
    return Response(202, content_types.APPLICATION_JSON, body=body)


def _json_body(event: BaseProxyEvent) -> Any:
    content_type = event.headers.get("content-type")
    media_type = (
        content_type.split(";", 1)[0].strip().lower() if isinstance(content_type, str) else ""
    )
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaTypeError("Send the order as application/json")
    body = event.body
    if body is None or body == "":
        raise MissingBodyError("Send the order as a JSON object in the request body")
    if not isinstance(body, str):
        raise BodyEncodingError("The request body is not text")
    if event.is_base64_encoded:
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except ValueError:  # bad base64 (binascii.Error) or bytes that are not UTF-8
            raise BodyEncodingError("The body is not base64-encoded UTF-8 text") from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedJsonError("The request body is not valid JSON") from None


def _request_id(event: Any, context: Any) -> str:
    """API Gateway's request id (what clients and access logs see), else Lambda's."""
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = request_context.get("requestId") if isinstance(request_context, dict) else None
    return str(request_id or getattr(context, "aws_request_id", "") or "")


def _error_body(error: Exception, request_id: str) -> tuple[int, dict[str, Any]]:
    status, code, message = http_error(error)
    if status >= 500:
        logger.exception("Request failed", error_code=code)
    else:
        logger.info("Request rejected", status=status, error_code=code, reason=message)
    return status, {"error": {"code": code, "message": message}, "request_id": request_id}


def _resolver(app: _ResolverT) -> _ResolverT:
    """Register the routes and the error answers on one resolver."""

    @app.post("/orders")
    def post_orders() -> Response[dict[str, Any]]:
        return create_order(app.current_event, app.lambda_context)

    @app.get("/orders/<order_id>")
    def get_order(order_id: str) -> Response[dict[str, Any]]:
        return read_order(order_id)

    @app.post("/orders/<order_id>/retry")
    def post_retry(order_id: str) -> Response[dict[str, Any]]:
        return retry_order(order_id)

    for rule, allowed in ROUTES.items():

        def method_not_allowed(allowed: tuple[str, ...] = allowed, **_: str) -> Response[Any]:
            raise MethodNotAllowedError(app.current_event.http_method, allowed)

        app.route(rule, method=[m for m in _HTTP_METHODS if m not in allowed])(method_not_allowed)

    @app.exception_handler(Exception)
    def error_answer(error: Exception) -> Response[dict[str, Any]]:
        request_id = _request_id(app.current_event.raw_event, app.lambda_context)
        status, body = _error_body(error, request_id)
        headers = (
            {"Allow": ", ".join(error.allowed)}
            if isinstance(error, MethodNotAllowedError)
            else None
        )
        return Response(status, content_types.APPLICATION_JSON, body=body, headers=headers)

    # Registered by type, so it wins over the catch-all above for unmatched routes.
    @app.not_found
    def no_route(_: NotFoundError) -> Response[dict[str, Any]]:
        return error_answer(RouteNotFoundError("No route serves this path"))

    return app


_rest = _resolver(APIGatewayRestResolver())
_http = _resolver(APIGatewayHttpResolver())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def _dispatch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("version") == "2.0":
        # The HTTP API resolver, unlike the REST one, does not ignore a trailing slash.
        raw_path = event.get("rawPath")
        if isinstance(raw_path, str) and len(raw_path) > 1 and raw_path.endswith("/"):
            event = {**event, "rawPath": raw_path.rstrip("/") or "/"}
        return _http.resolve(event, context)
    return _rest.resolve(event, context)


@coldstart.entry_point
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer an API Gateway Lambda-proxy request in payload format 1.0 or 2.0.

    Parameters
    ----------
    event : dict
        The proxy event; ``"version": "2.0"`` selects the HTTP API format, anything else REST.
    context : LambdaContext
        The invocation context.

    Returns
    -------
    dict
        A proxy response. Never raises: a failure outside the routes (a malformed event, a
        metrics flush error) still answers 500 in the documented error shape.
    """
    try:
        return _dispatch(event, context)
    except Exception as error:
        status, body = _error_body(error, _request_id(event, context))
        return {
            "statusCode": status,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(body),
            "isBase64Encoded": False,
        }
