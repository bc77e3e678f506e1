"""Step Functions tasks of the order workflow.

Each task takes the order as the workflow passes it (``order_id``, ``customer_id``,
``email``, ``items``, ``status``, plus what earlier states added) and returns it updated.
The state machine writes statuses to the table and notifies customers itself, through
service integrations, so these tasks need no table and no topic.

Errors, by class name as Step Functions sees them: ``InvalidOrderError`` is not retried
(the order is marked ``FAILED``); ``InventoryServiceError`` and ``TransientError`` are
retried with backoff.

Environment: ``POWERTOOLS_SERVICE_NAME`` only.

No Tracer here: the tasks call no AWS service, so the X-Ray SDK would add nothing but its
import (it loads botocore, about two thirds of this module's cold import). Lambda's active
tracing still records each invocation.
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools import Logger

from orders import coldstart, config
from orders.models import OrderItem, OrderStatus, parse_order_message

logger = Logger()

_TRACKING_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:orders:tracking")


def in_stock(items: list[OrderItem], max_per_item: int | None = None) -> bool:
    """Stub inventory: every line is in stock when its quantity is small enough.

    Parameters
    ----------
    items : list of OrderItem
        The order lines.
    max_per_item : int, optional
        Largest quantity of one line that is in stock. Default
        :data:`orders.config.MAX_STOCK_PER_ITEM` (10).

    Returns
    -------
    bool
        ``True`` iff every line's quantity is at most ``max_per_item``. Deterministic, so
        tests and demos can choose the branch: order 11 of a SKU to be backordered.
    """
    limit = config.MAX_STOCK_PER_ITEM if max_per_item is None else max_per_item
    return all(item.quantity <= limit for item in items)


def tracking_id(order_id: str) -> str:
    """Tracking number of a shipped order; the same for a retried task, so idempotent."""
    return "TRK" + uuid.uuid5(_TRACKING_NAMESPACE, order_id).hex[:16].upper()


@coldstart.entry_point
@logger.inject_lambda_context(correlation_id_path="order_id")
def process_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Validate the order and check stock.

    Returns
    -------
    dict
        The order plus ``"inStock": bool`` (see :func:`in_stock`).

    Raises
    ------
    InvalidOrderError
        If the input is not a valid order.
    """
    order = parse_order_message(event)
    available = in_stock(order.items)
    logger.info("Order processed", order_id=order.order_id, in_stock=available)
    return {**order.as_json(), "inStock": available}


@coldstart.entry_point
@logger.inject_lambda_context(correlation_id_path="order_id")
def ship_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Ship an in-stock order.

    Returns
    -------
    dict
        The order with ``"status": "SHIPPED"`` and a ``tracking_id``.

    Raises
    ------
    InvalidOrderError
        If the input is not a valid order.
    """
    order = parse_order_message(event)
    shipment = {"status": OrderStatus.SHIPPED.value, "tracking_id": tracking_id(order.order_id)}
    logger.info("Order shipped", order_id=order.order_id, **shipment)
    return {**order.as_json(), **shipment}


@coldstart.entry_point
@logger.inject_lambda_context(correlation_id_path="order_id")
def backorder_item(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Put an order that is out of stock on backorder.

    Returns
    -------
    dict
        The order with ``"status": "BACKORDERED"``.

    Raises
    ------
    InvalidOrderError
        If the input is not a valid order.
    """
    order = parse_order_message(event)
    logger.info("Order backordered", order_id=order.order_id)
    return {**order.as_json(), "status": OrderStatus.BACKORDERED.value}
