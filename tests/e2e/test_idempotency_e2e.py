"""A POST /orders retried with an Idempotency-Key, through the deployed OrdersSample APIs.

Uses the shared OrdersSample deployment and its signed-in user (``conftest.py``).
"""

from __future__ import annotations

import json
from typing import Any

from emulator import DeployedStack, Emulator, http_request, wait_for, wait_for_execution
from tests.e2e.test_orders_sample_e2e import FLOW_TIMEOUT_SECONDS, order

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
    emulator: Emulator, stack: DeployedStack, signed_in: dict[str, dict[str, str]]
) -> None:
    def post(api: str, quantity: int) -> Any:
        headers = {**signed_in[api], **KEY}
        url = stack.outputs[api] + "orders"
        return http_request(emulator, "POST", url, order(CUSTOMER, quantity), headers=headers)

    first = post("HttpApiUrl", 1)
    retry = post("HttpApiUrl", 1)
    # The same user retrying through the other API: the key is the caller's, not the API's.
    retry_elsewhere = post("RestApiUrl", 1)
    other = post("HttpApiUrl", 5)

    assert (first.status, retry.status, retry_elsewhere.status) == (201, 201, 201), (
        first,
        retry,
        retry_elsewhere,
    )
    assert retry.json() == retry_elsewhere.json() == first.json()
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
