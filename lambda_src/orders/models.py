"""Order models: what a client may send, what is stored, what the workflow passes on.

Strings and integers are strict (``"5"`` is not a quantity, ``true`` is not a number) because
every producer sends JSON, where a wrong type is a client bug worth reporting.

The checks are plain Python rather than a validation library: these few fields do not need
one, and loading one (its import and the build of each model's validator) was the largest
part of every function's cold start after botocore.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from orders.errors import InvalidOrderError, OrdersError, StoredOrderError

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
_MAX_LOCATION_LENGTH = 80

#: Fields that may be left out (every other declared field is required).
_OPTIONAL_FIELDS = frozenset({"reference"})

# Unicode general categories refused in identifiers and free text: control and format.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})

MAX_CUSTOMER_ID_LENGTH = 128
MAX_REFERENCE_LENGTH = 128
MAX_EMAIL_LENGTH = 254
MAX_SKU_LENGTH = 64
MAX_QUANTITY = 1000
MAX_ITEMS = 100


class OrderStatus(StrEnum):
    """Lifecycle of an order: created ``PENDING``, then set by the workflow."""

    PENDING = "PENDING"
    SHIPPED = "SHIPPED"
    BACKORDERED = "BACKORDERED"
    FAILED = "FAILED"


class _Problems:
    """The problems found in one document, each as ``(location, message)``."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, location: str, message: str) -> None:
        self.found.append((location, message))

    def raise_if_any(self, error: type[OrdersError] = InvalidOrderError) -> None:
        if not self.found:
            return
        parts = [
            f"{location[:_MAX_LOCATION_LENGTH] or 'order'}: {message}"
            for location, message in self.found[:_MAX_ERRORS_DESCRIBED]
        ]
        if len(self.found) > _MAX_ERRORS_DESCRIBED:
            parts.append(f"and {len(self.found) - _MAX_ERRORS_DESCRIBED} more problems")
        raise error("; ".join(parts))


def _invisible_character(value: str) -> str | None:
    """Describe the first control (Cc, NUL among them) or format (Cf) character, if any.

    Checked before whitespace is stripped, so a trailing newline or a leading U+FEFF is
    refused, not silently trimmed: such characters hide what an id says from whoever reads
    it (U+202E reverses the text, U+200B makes two different ids look the same).
    """
    if value.isprintable():
        return None
    for position, character in enumerate(value):
        if unicodedata.category(character) in _INVISIBLE_CATEGORIES:
            return (
                "must not contain control or format characters "
                f"(U+{ord(character):04X} at position {position})"
            )
    return None


def _text(
    value: Any, location: str, problems: _Problems, *, min_length: int, max_length: int
) -> str:
    """A strict string: visible characters only, stripped, within the lengths."""
    if not isinstance(value, str):
        problems.add(location, "must be a string")
        return ""
    invisible = _invisible_character(value)
    if invisible:
        problems.add(location, invisible)
        return ""
    value = value.strip()
    if len(value) < min_length:
        problems.add(location, f"must have at least {min_length} character")
    elif len(value) > max_length:
        problems.add(location, f"must have at most {max_length} characters")
    return value


def _email(value: Any, location: str, problems: _Problems) -> str:
    found = len(problems.found)
    address = _text(value, location, problems, min_length=0, max_length=MAX_EMAIL_LENGTH)
    if len(problems.found) == found and not _EMAIL.fullmatch(address):
        problems.add(location, "must be an email address like name@example.com")
    return address


def _quantity(value: Any, location: str, problems: _Problems) -> int:
    # bool is an int subclass in Python; JSON's true is not a number.
    if type(value) is not int:
        problems.add(location, "must be an integer")
        return 0
    if not 1 <= value <= MAX_QUANTITY:
        problems.add(location, f"must be from 1 to {MAX_QUANTITY}")
    return value


def _fields(
    data: Mapping[str, Any],
    location: str,
    problems: _Problems,
    checks: Mapping[str, Callable[[Any, str, _Problems], Any]],
    *,
    extra_allowed: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check each declared field of ``data``; return the checked fields and the others."""
    prefix = f"{location}." if location else ""
    checked: dict[str, Any] = {}
    for name, check in checks.items():
        if name in data:
            checked[name] = check(data[name], prefix + name, problems)
        elif name not in _OPTIONAL_FIELDS:
            problems.add(prefix + name, "is required")
    extra = {name: value for name, value in data.items() if name not in checks}
    if extra and not extra_allowed:
        for name in extra:
            problems.add(prefix + str(name), "is not allowed (unknown field)")
    return checked, extra


def _item(value: Any, location: str, problems: _Problems) -> OrderItem:
    if not isinstance(value, dict):
        problems.add(location, "must be an object with sku and quantity")
        return OrderItem("", 0)
    checked, _ = _fields(value, location, problems, _ITEM_FIELDS, extra_allowed=False)
    return OrderItem(checked.get("sku", ""), checked.get("quantity", 0))


def _items(value: Any, location: str, problems: _Problems) -> tuple[OrderItem, ...]:
    if not isinstance(value, list):
        problems.add(location, "must be a list of order lines")
        return ()
    if not 1 <= len(value) <= MAX_ITEMS:
        problems.add(location, f"must hold from 1 to {MAX_ITEMS} order lines")
    return tuple(_item(line, f"{location}.{index}", problems) for index, line in enumerate(value))


def _order_id(value: Any, location: str, problems: _Problems) -> str:
    if not isinstance(value, str) or not is_order_id(value):
        problems.add(
            location,
            f"must be 1-{MAX_ORDER_ID_LENGTH} characters of A-Z, a-z, 0-9, _ and single -",
        )
        return ""
    return value


def _reference(value: Any, location: str, problems: _Problems) -> str | None:
    if value is None:
        return None
    return _text(value, location, problems, min_length=1, max_length=MAX_REFERENCE_LENGTH)


def _status(value: Any, location: str, problems: _Problems) -> OrderStatus:
    if value not in OrderStatus.__members__:
        problems.add(location, f"must be one of {', '.join(OrderStatus)}")
        return OrderStatus.PENDING
    return OrderStatus(value)


def _timestamp(value: Any, location: str, problems: _Problems) -> str:
    if not isinstance(value, str):
        problems.add(location, "must be a string")
        return ""
    return value


def _customer_id(value: Any, location: str, problems: _Problems) -> str:
    return _text(value, location, problems, min_length=1, max_length=MAX_CUSTOMER_ID_LENGTH)


def _sku(value: Any, location: str, problems: _Problems) -> str:
    return _text(value, location, problems, min_length=1, max_length=MAX_SKU_LENGTH)


_ITEM_FIELDS: dict[str, Callable[[Any, str, _Problems], Any]] = {
    "sku": _sku,
    "quantity": _quantity,
}
_NEW_ORDER_FIELDS: dict[str, Callable[[Any, str, _Problems], Any]] = {
    "customer_id": _customer_id,
    "email": _email,
    "items": _items,
}
_FILE_ORDER_FIELDS = {**_NEW_ORDER_FIELDS, "reference": _reference}
_MESSAGE_FIELDS = {**_NEW_ORDER_FIELDS, "order_id": _order_id, "status": _status}
_ORDER_FIELDS = {**_MESSAGE_FIELDS, "created_at": _timestamp}


def _checked(
    data: Any,
    checks: Mapping[str, Callable[[Any, str, _Problems], Any]],
    *,
    extra_allowed: bool,
    error: type[OrdersError] = InvalidOrderError,
) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(data, dict):
        raise error("an order must be a JSON object")
    problems = _Problems()
    checked, extra = _fields(data, "", problems, checks, extra_allowed=extra_allowed)
    problems.raise_if_any(error)
    return checked, extra


@dataclass(frozen=True)
class OrderItem:
    """One order line: a SKU (1-64 characters) and a quantity (1-1000)."""

    sku: str
    quantity: int

    def as_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "quantity": self.quantity}


@dataclass(frozen=True)
class NewOrder:
    """What a client sends to create an order; any other field is rejected."""

    customer_id: str
    email: str
    items: tuple[OrderItem, ...]

    def as_json(self, include: Collection[str] | None = None) -> dict[str, Any]:
        """The order as JSON values (``items`` as a list of objects), optionally only
        the fields named in ``include``."""
        document = self._json_fields()
        if include is not None:
            document = {name: value for name, value in document.items() if name in include}
        return document

    def _json_fields(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "email": self.email,
            "items": [item.as_json() for item in self.items],
        }


@dataclass(frozen=True)
class FileOrder(NewOrder):
    """An element of an uploaded order file: an order and, optionally, the uploader's
    ``reference`` for it (1-128 characters), which then gives the order its id.

    The reference is not part of the order's content (:meth:`as_json` leaves it out); a
    stored order keeps it as an extra field.
    """

    reference: str | None = None


@dataclass(frozen=True)
class OrderMessage(NewOrder):
    """An order as the workflow passes it between tasks.

    Fields other than the declared ones are kept in :attr:`extra`, so a task's output
    carries what earlier states added (``inStock``, ``tracking_id``).
    """

    order_id: str
    status: OrderStatus
    extra: dict[str, Any] = field(default_factory=dict)

    def _json_fields(self) -> dict[str, Any]:
        return {
            **super()._json_fields(),
            "order_id": self.order_id,
            "status": self.status.value,
            **self.extra,
        }


@dataclass(frozen=True)
class Order(OrderMessage):
    """An order as stored in the table (``created_at`` is ISO-8601 UTC)."""

    created_at: str = ""

    def _json_fields(self) -> dict[str, Any]:
        document = super()._json_fields()
        document["created_at"] = self.created_at
        return document

    @classmethod
    def from_item(cls, data: Any) -> Order:
        """Validate an order read back from the table.

        Raises
        ------
        StoredOrderError
            If the item lacks a field of :class:`Order` or has one of the wrong shape: a
            fault of whatever wrote it, never of the client reading it.
        """
        checked, extra = _checked(data, _ORDER_FIELDS, extra_allowed=True, error=StoredOrderError)
        return cls(**checked, extra=extra)


WORKFLOW_FIELDS = frozenset({"order_id", "customer_id", "email", "items", "status"})
"""The fields of an order that start its workflow."""


def parse_new_order(data: Any) -> NewOrder:
    """Validate what a client sent to create an order.

    Raises
    ------
    InvalidOrderError
        If ``data`` is not a JSON object with exactly the fields of :class:`NewOrder`; the
        message names each problem's field (``items.0.quantity``), never the value sent.
    """
    checked, _ = _checked(data, _NEW_ORDER_FIELDS, extra_allowed=False)
    return NewOrder(**checked)


def parse_file_order(data: Any) -> FileOrder:
    """Validate one element of an uploaded order file.

    Raises
    ------
    InvalidOrderError
        If ``data`` is not a JSON object with the fields of :class:`NewOrder` and at most
        an optional ``reference``.
    """
    checked, _ = _checked(data, _FILE_ORDER_FIELDS, extra_allowed=False)
    return FileOrder(**checked)


def parse_order_message(data: Any) -> OrderMessage:
    """Validate an order received from the workflow or the table's stream.

    Raises
    ------
    InvalidOrderError
        If ``data`` lacks a field of :class:`OrderMessage` or has one of the wrong shape.
    """
    checked, extra = _checked(data, _MESSAGE_FIELDS, extra_allowed=True)
    return OrderMessage(**checked, extra=extra)


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
    reference = request.reference if isinstance(request, FileOrder) else None
    return Order(
        customer_id=request.customer_id,
        email=request.email,
        items=request.items,
        order_id=order_id,
        status=OrderStatus.PENDING,
        extra={} if reference is None else {"reference": reference},
        created_at=created_at,
    )
