"""Start an order's workflow execution, under a name no other order's execution can have.

The first execution of an order is named after the order id itself (every id is a valid
execution name, see :data:`orders.models.ORDER_ID_PATTERN`); retry ``n`` is named
``<id>--retry-<n>``, which no id can be, as ids never hold ``--``. Distinct orders, and
distinct attempts of one order, therefore never share a name: nothing is truncated or hashed.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from orders import aws, config
from orders.models import WORKFLOW_FIELDS, OrderMessage, is_order_id


def stepfunctions() -> Any:
    """The Step Functions client (see :mod:`orders.aws`)."""
    return aws.client("stepfunctions")


def execution_name(order_id: str, attempt: int = 0) -> str:
    """The name of the order's execution: the id for the first, ``<id>--retry-<n>`` after.

    Raises
    ------
    ValueError
        If ``order_id`` is not an order id or ``attempt`` is negative.
    """
    if not is_order_id(order_id) or attempt < 0:
        raise ValueError(f"no execution name for order {order_id[:80]!r}, attempt {attempt}")
    return order_id if attempt == 0 else f"{order_id}--retry-{attempt}"


def start(order: OrderMessage, attempt: int = 0) -> tuple[str, bool]:
    """Start the workflow for ``order``; (execution name, whether this call started it).

    Raises
    ------
    botocore.exceptions.ClientError
        If Step Functions fails, other than with ``ExecutionAlreadyExists`` (a repeat of
        this very start: the execution exists, which is the goal).
    """
    name = execution_name(order.order_id, attempt)
    try:
        stepfunctions().start_execution(
            stateMachineArn=config.state_machine_arn(),
            name=name,
            input=json.dumps(order.as_json(include=WORKFLOW_FIELDS)),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        return name, False
    return name, True
