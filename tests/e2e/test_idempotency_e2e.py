"""A POST /orders retried with an Idempotency-Key, through the deployed OrdersSample APIs.

Uses the OrdersSample deployment fixtures of the main end-to-end module (one more
deployment, for this module).
"""

from __future__ import annotations

import json
from typing import Any

from emulator import DeployedStack, Emulator, http_request, wait_for, wait_for_execution
from tests.e2e.test_orders_sample_e2e import (
    FLOW_TIMEOUT_SECONDS,
    booting_emulator,
    cloud_assembly,
    emulator,
    order,
    stack,
)

__all__ = ["booting_emulator", "cloud_assembly", "emulator", "stack"]  # the fixtures used here

KEY = {"Idempotency-Key": "e2e-retry-6f1d2c"}
CUSTOMER = "retrying-customer"


def executions_for(emulator: Emulator, stack: DeployedStack, customer: str) -> list[str]:
    """Names of the workflow executions whose input is an order of ``customer``."""
    stepfunctions = emulator.client("stepfunctions")
    arn = stack.outputs["StateMachineArn"]
    names = []
    for execution in stepfunctions.list_executions(stateMachineArn=arn)["executions"]:
        described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
        if json.loads(described["input"]).get("customer_id") == customer:
            names.append(execution["name"])
    return names


def orders_of(emulator: Emulator, stack: DeployedStack, customer: str) -> list[dict[str, Any]]:
    items = emulator.client("dynamodb").scan(TableName=stack.outputs["OrdersTableName"])["Items"]
    return [item for item in items if item["customer_id"]["S"] == customer]


def test_a_retried_post_creates_one_order_and_starts_one_workflow(
    emulator: Emulator, stack: DeployedStack
) -> None:
    url = stack.outputs["HttpApiUrl"] + "orders"
    first = http_request(emulator, "POST", url, order(CUSTOMER, 1), headers=KEY)
    retry = http_request(emulator, "POST", url, order(CUSTOMER, 1), headers=KEY)
    other = http_request(emulator, "POST", url, order(CUSTOMER, 5), headers=KEY)

    assert (first.status, retry.status) == (201, 201), (first, retry)
    assert retry.json() == first.json()
    assert other.status == 422 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    order_id = first.json()["order_id"]
    execution = wait_for_execution(
        emulator, stack.outputs["StateMachineArn"], order_id, FLOW_TIMEOUT_SECONDS
    )
    assert execution["status"] == "SUCCEEDED", execution
    # The order's status is written by its workflow: by now every stream record of this
    # customer's orders has been delivered.
    wait_for(
        lambda: (
            all(item["status"]["S"] != "PENDING" for item in orders_of(emulator, stack, CUSTOMER))
            or None
        ),
        "the order's workflow to update its status",
        FLOW_TIMEOUT_SECONDS,
        emulator,
    )
    assert [item["order_id"]["S"] for item in orders_of(emulator, stack, CUSTOMER)] == [order_id]
    assert executions_for(emulator, stack, CUSTOMER) == [order_id]
