"""Order models: what a client may send, what is stored, what the workflow passes on.

Strings and integers are strict (``"5"`` is not a quantity, ``true`` is not a number) because
every producer sends JSON, where a wrong type is a client bug worth reporting.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from orders.errors import InvalidOrderError

ORDER_ID_PATTERN = re.compile(r"-?[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*-?")
"""Letters, digits, ``_`` and single ``-``: order ids are generated as 32 hex characters.

Every id (at most :data:`MAX_ORDER_ID_LENGTH` characters) is a valid Step Functions
execution name as it is, and no id holds ``--``, so a retry's execution,
``<id>--retry-<n>``, can never be named like another order's.
"""
MAX_ORDER_ID_LENGTH = 64


def is_order_id(text: str) -> bool:
    """Whether ``text`` can be an order id (anything else cannot exist)."""
    return len(text) <= MAX_ORDER_ID_LENGTH and ORDER_ID_PATTERN.fullmatch(text) is not None


# Pragmatic address check (RFC 5321 lengths, dot-atom local part, DNS host names): the
# Powertools layer has no email-validator, and delivery is what really proves an address.
_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?=.{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)

_MAX_ERRORS_DESCRIBED = 5

# Unicode general categories refused in identifiers and free text: control and format.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})

_ModelT = TypeVar("_ModelT", bound=BaseModel)


def _email_address(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError("email", "must be an email address like name@example.com")
    return value


def _no_invisible_characters(value: Any) -> Any:
    """Refuse control (Cc, NUL among them) and format (Cf) characters anywhere in a string.

    Runs before whitespace is stripped, so a trailing newline or a leading U+FEFF is refused,
    not silently trimmed: such characters hide what an id says from whoever reads it (U+202E
    reverses the text, U+200B makes two different ids look the same).
    """
    if isinstance(value, str) and not value.isprintable():
        for position, character in enumerate(value):
            if unicodedata.category(character) in _INVISIBLE_CATEGORIES:
                raise PydanticCustomError(
                    "invisible_character",
                    "must not contain control or format characters "
                    "(U+{code} at position {position})",
                    {"code": f"{ord(character):04X}", "position": position},
                )
    return value


_Visible = BeforeValidator(_no_invisible_characters)

# Listed last so that it runs first, before whitespace is stripped.
CustomerId = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=128),
    _Visible,
]
Email = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, max_length=254),
    AfterValidator(_email_address),
    _Visible,
]
Sku = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=64),
    _Visible,
]
Quantity = Annotated[int, Strict(), Field(ge=1, le=1000)]
OrderId = Annotated[
    str,
    StringConstraints(
        strict=True, max_length=MAX_ORDER_ID_LENGTH, pattern=f"^{ORDER_ID_PATTERN.pattern}$"
    ),
]


class OrderStatus(StrEnum):
    """Lifecycle of an order: created ``PENDING``, then set by the workflow."""

    PENDING = "PENDING"
    SHIPPED = "SHIPPED"
    BACKORDERED = "BACKORDERED"
    FAILED = "FAILED"


class OrderItem(BaseModel):
    """One order line: a SKU (1-64 characters) and a quantity (1-1000)."""

    # Every model builds its validator on first use, so that a function pays only for the
    # models it validates (the API never validates an OrderMessage, the workflow no Order).
    model_config = ConfigDict(extra="forbid", defer_build=True)

    sku: Sku
    quantity: Quantity


class NewOrder(BaseModel):
    """What a client sends to create an order; any other field is rejected."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    customer_id: CustomerId
    email: Email
    items: Annotated[list[OrderItem], Field(min_length=1, max_length=100)]


Reference = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=128),
    _Visible,
]


class FileOrder(NewOrder):
    """An element of an uploaded order file: an order and, optionally, the uploader's
    ``reference`` for it (1-128 characters), which then gives the order its id."""

    reference: Reference | None = None


class OrderMessage(NewOrder):
    """An order as the workflow passes it between tasks.

    Fields other than the declared ones are kept, so a task's output carries what earlier
    states added (``inStock``, ``tracking_id``).
    """

    model_config = ConfigDict(extra="allow")

    order_id: OrderId
    status: OrderStatus


class Order(OrderMessage):
    """An order as stored in the table (``created_at`` is ISO-8601 UTC)."""

    created_at: str


WORKFLOW_FIELDS = frozenset({"order_id", "customer_id", "email", "items", "status"})
"""The fields of an order that start its workflow."""


def describe(error: ValidationError) -> str:
    """Summarize a validation error as one line of human text.

    Parameters
    ----------
    error : pydantic.ValidationError
        The error to summarize.

    Returns
    -------
    str
        ``"location: message"`` for the first five problems, without the rejected values.
    """
    details = error.errors(include_url=False, include_input=False)
    parts = [
        f"{'.'.join(str(part) for part in detail['loc'])[:80] or 'order'}: {detail['msg']}"
        for detail in details[:_MAX_ERRORS_DESCRIBED]
    ]
    if len(details) > _MAX_ERRORS_DESCRIBED:
        parts.append(f"and {len(details) - _MAX_ERRORS_DESCRIBED} more problems")
    return "; ".join(parts)


def _validated(model: type[_ModelT], data: Any) -> _ModelT:
    if not isinstance(data, dict):
        raise InvalidOrderError("an order must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidOrderError(describe(error)) from None


def parse_new_order(data: Any) -> NewOrder:
    """Validate what a client sent to create an order.

    Raises
    ------
    InvalidOrderError
        If ``data`` is not a JSON object with exactly the fields of :class:`NewOrder`.
    """
    return _validated(NewOrder, data)


def parse_file_order(data: Any) -> FileOrder:
    """Validate one element of an uploaded order file.

    Raises
    ------
    InvalidOrderError
        If ``data`` is not a JSON object with the fields of :class:`NewOrder` and at most
        an optional ``reference``.
    """
    return _validated(FileOrder, data)


def parse_order_message(data: Any) -> OrderMessage:
    """Validate an order received from the workflow or the table's stream.

    Raises
    ------
    InvalidOrderError
        If ``data`` lacks a field of :class:`OrderMessage` or has one of the wrong shape.
    """
    return _validated(OrderMessage, data)


def pending_order(request: NewOrder, order_id: str) -> Order:
    """Build the stored form of a new order: status ``PENDING``, created now.

    Parameters
    ----------
    request : NewOrder
        The validated order fields.
    order_id : str
        The id chosen by the caller (random for the API, deterministic for file ingest).
    """
    created_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Order(
        **request.model_dump(exclude_none=True),
        order_id=order_id,
        status=OrderStatus.PENDING,
        created_at=created_at,
    )
