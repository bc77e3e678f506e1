"""Typed errors shared by every entry point, and their one mapping to HTTP answers."""

from __future__ import annotations


class OrdersError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(OrdersError):
    """A required environment variable is missing or empty.

    Raised at first use of the setting, so a misconfigured function fails on its first
    request with a message naming the variable, not later with a ``KeyError``.
    """

    def __init__(self, variable: str) -> None:
        self.variable = variable
        super().__init__(
            f"Environment variable {variable} is not set or not valid; "
            "the function's configuration must define it"
        )


class InvalidOrderError(OrdersError):
    """Order data breaks the order model.

    Step Functions sees the class name as the error name: the state machine does not
    retry it and marks the order ``FAILED``. The API answers it with 422.
    """


class StoredOrderError(OrdersError):
    """An item read from the orders table is not a valid order: a server fault (answered
    500), not the client's."""


class InventoryServiceError(OrdersError):
    """The inventory check could not be completed; the state machine retries it."""


class TransientError(OrdersError):
    """A temporary failure (throttling, timeout); the state machine retries it with backoff."""


class InvalidEventError(OrdersError):
    """An invocation event does not have the shape its event source documents."""


class RequestError(OrdersError):
    """A client error on the HTTP API: the request itself is wrong.

    Attributes
    ----------
    status : int
        HTTP status code of the answer.
    code : str
        Machine-readable error code of the answer.
    """

    status = 400
    code = "BAD_REQUEST"


class MissingBodyError(RequestError):
    """The request has no body where one is required."""

    status, code = 400, "MISSING_BODY"


class BodyEncodingError(RequestError):
    """The body is not valid base64, or its bytes are not UTF-8."""

    status, code = 400, "INVALID_BODY_ENCODING"


class MalformedJsonError(RequestError):
    """The body is not a JSON document."""

    status, code = 400, "INVALID_JSON"


class RouteNotFoundError(RequestError):
    """No route serves this path."""

    status, code = 404, "ROUTE_NOT_FOUND"


class OrderNotFoundError(RequestError):
    """No order has the requested id."""

    status, code = 404, "ORDER_NOT_FOUND"


class OrderIdConflictError(RequestError):
    """The order's id is held by another order (its idempotency key created a different one)."""

    status, code = 409, "ORDER_ID_CONFLICT"


class OrderNotRetryableError(RequestError):
    """The order is neither ``FAILED`` nor waiting for a failed notification."""

    status, code = 409, "ORDER_NOT_RETRYABLE"


class MethodNotAllowedError(RequestError):
    """The path exists but does not serve this method.

    Parameters
    ----------
    allowed : tuple of str
        Methods the path serves, for the ``Allow`` header.
    """

    status, code = 405, "METHOD_NOT_ALLOWED"

    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        super().__init__(f"Method {method[:16]} is not allowed here; use {', '.join(allowed)}")


class UnsupportedMediaTypeError(RequestError):
    """The body is declared as something other than JSON."""

    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class InvalidIdempotencyKeyError(RequestError):
    """The ``Idempotency-Key`` header is empty, too long, or has characters it may not have."""

    status, code = 400, "INVALID_IDEMPOTENCY_KEY"


class IdempotencyKeyReusedError(RequestError):
    """The ``Idempotency-Key`` was first used with another order."""

    status, code = 422, "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUseError(RequestError):
    """A request with the same ``Idempotency-Key`` is still being processed."""

    status, code = 409, "IDEMPOTENCY_KEY_IN_USE"


def http_error(error: Exception) -> tuple[int, str, str]:
    """Map an error to the HTTP answer the API gives for it.

    Parameters
    ----------
    error : Exception
        Any error raised while answering a request.

    Returns
    -------
    tuple of (int, str, str)
        Status code, machine code and human message. Anything unexpected maps to 500 with
        a generic message, so internals never reach the client.
    """
    if isinstance(error, RequestError):
        return error.status, error.code, str(error)
    if isinstance(error, InvalidOrderError):
        return 422, "INVALID_ORDER", str(error)
    return 500, "INTERNAL_ERROR", "The request could not be completed; try again later"
