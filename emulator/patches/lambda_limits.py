"""Lambda's payload limits and its throttling answer, in the Invoke API's own error shapes.

- A synchronous invocation's request may hold at most ``SYNC_REQUEST_LIMIT`` bytes
  (6 MB): beyond it Invoke answers HTTP 413 ``RequestEntityTooLargeException``, "Request
  must be smaller than 6291456 bytes for the InvokeFunction operation".
- An asynchronous invocation's (``InvocationType=Event``) at most ``ASYNC_REQUEST_LIMIT``
  bytes: Lambda's Invoke API reference states 1 MB (it was 256 KB before, and stays
  256 KB for the deprecated ``InvokeAsync``); beyond it HTTP 413, "<size> byte
  payload is too large for the Event invocation type (limit <limit> bytes)".
- A response larger than ``RESPONSE_LIMIT`` bytes becomes a function error,
  ``Function.ResponseSizeTooLarge``, as Lambda reports it, on every path (moto checks
  only responses of its Invoke API, against an approximate size).
- A throttled invocation (``lambda_sandboxes.Throttled``) answers HTTP 429
  ``TooManyRequestsException`` with Lambda's ``Reason``.

Event sources respect the synchronous limit before invoking: the DynamoDB stream poller
cuts a batch before it would pass ``SYNC_REQUEST_LIMIT`` (``dynamodb_streams``).
"""

from __future__ import annotations

import json

SYNC_REQUEST_LIMIT = 6 * 1024 * 1024
ASYNC_REQUEST_LIMIT = 1024 * 1024
#: What Lambda accepts back from a function (its error message names this figure).
RESPONSE_LIMIT = 6 * 1024 * 1024 + 100
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"
#: The HTTP status of a throttled invocation.
THROTTLED_STATUS = 429


def lambda_error(status: int, error_type: str, message: str, **fields: str) -> Exception:
    """An exception moto answers with ``status`` and Lambda's JSON error body."""
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(error_type, message)
    error.code = status
    error.description = json.dumps({"Type": "User", "message": message, **fields})
    return error


def check_request_size(body: str | bytes, invocation_type: str) -> None:
    """Raise the 413 Lambda answers when the invocation's payload passes its limit."""
    size = len(body.encode() if isinstance(body, str) else body)
    if invocation_type == "Event" and size > ASYNC_REQUEST_LIMIT:
        message = (
            f"{size} byte payload is too large for the Event invocation type "
            f"(limit {ASYNC_REQUEST_LIMIT} bytes)"
        )
        raise lambda_error(413, "RequestEntityTooLargeException", message)
    if size > SYNC_REQUEST_LIMIT:
        message = (
            f"Request must be smaller than {SYNC_REQUEST_LIMIT} bytes for the "
            "InvokeFunction operation"
        )
        raise lambda_error(413, "RequestEntityTooLargeException", message)


def response_too_large(payload: bytes) -> str | None:
    """Lambda's error message when a function's response passes the limit, else None."""
    if len(payload) <= RESPONSE_LIMIT:
        return None
    return f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes)."


def throttled(reason: str) -> Exception:
    """Lambda's 429 for an invocation beyond a concurrency limit."""
    return lambda_error(
        THROTTLED_STATUS, "TooManyRequestsException", "Rate Exceeded.", Reason=reason
    )
