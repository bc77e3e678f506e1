"""orders.workflow: the Step Functions tasks process_order, ship_order and backorder_item."""

from __future__ import annotations

from typing import Any

import pytest
from orders import config, workflow
from orders.errors import InvalidOrderError

from tests.handlers.events import VALID_ORDER

ORDER_ID = "f" * 32


def workflow_input(**changes: Any) -> dict[str, Any]:
    """The input the stream handler starts an execution with."""
    return {**VALID_ORDER, "order_id": ORDER_ID, "status": "PENDING", **changes}


def lines(*quantities: int) -> list[dict[str, Any]]:
    return [{"sku": f"SKU-{n}", "quantity": quantity} for n, quantity in enumerate(quantities)]


@pytest.fixture(autouse=True)
def no_aws_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tasks run without a table or a state machine."""
    for name in ("TABLE_NAME", "STATE_MACHINE_ARN", "TOPIC_ARN"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("quantities", [(1,), (10,), (1, 10, 5)])
def test_process_order_is_in_stock_when_every_line_is_at_most_ten(
    context: Any, quantities: tuple[int, ...]
) -> None:
    result = workflow.process_order(workflow_input(items=lines(*quantities)), context)

    assert result == {**workflow_input(items=lines(*quantities)), "inStock": True}


@pytest.mark.parametrize("quantities", [(11,), (1, 11), (1000, 1)])
def test_process_order_is_out_of_stock_when_any_line_exceeds_ten(
    context: Any, quantities: tuple[int, ...]
) -> None:
    result = workflow.process_order(workflow_input(items=lines(*quantities)), context)

    assert result["inStock"] is False


def test_stock_limit_is_a_setting(context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "MAX_STOCK_PER_ITEM", 2)

    assert workflow.process_order(workflow_input(items=lines(3)), context)["inStock"] is False


INVALID_INPUTS = {
    "not_an_object": ["order"],
    "empty": {},
    "missing_order_id": {**VALID_ORDER, "status": "PENDING"},
    "missing_status": {**VALID_ORDER, "order_id": ORDER_ID},
    "unknown_status": workflow_input(status="LOST"),
    "no_items": workflow_input(items=[]),
    "zero_quantity": workflow_input(items=lines(0)),
    "quantity_as_text": workflow_input(items=[{"sku": "S", "quantity": "2"}]),
    "invalid_email": workflow_input(email="nobody"),
    "order_id_not_an_id": workflow_input(order_id="../etc"),
}


@pytest.mark.parametrize("task", ["process_order", "ship_order", "backorder_item"])
@pytest.mark.parametrize("event", INVALID_INPUTS.values(), ids=INVALID_INPUTS.keys())
def test_invalid_input_raises_invalid_order_error(context: Any, task: str, event: Any) -> None:
    with pytest.raises(InvalidOrderError):
        getattr(workflow, task)(event, context)


def test_invalid_order_error_name_is_what_the_state_machine_catches() -> None:
    # Lambda reports errorType as the class name; the state machine matches on it.
    assert InvalidOrderError.__name__ == "InvalidOrderError"


def test_ship_order_marks_it_shipped_with_a_tracking_id(context: Any) -> None:
    processed = workflow.process_order(workflow_input(), context)

    shipped = workflow.ship_order(processed, context)

    assert shipped["status"] == "SHIPPED"
    assert shipped["tracking_id"].startswith("TRK") and len(shipped["tracking_id"]) == 19
    assert shipped["inStock"] is True  # what earlier states added is kept
    assert {key: shipped[key] for key in VALID_ORDER} == VALID_ORDER


def test_ship_order_retried_gives_the_same_tracking_id(context: Any) -> None:
    first = workflow.ship_order(workflow_input(), context)

    again = workflow.ship_order(workflow_input(), context)

    assert first["tracking_id"] == again["tracking_id"]
    assert (
        workflow.ship_order(workflow_input(order_id="e" * 32), context)["tracking_id"]
        != (first["tracking_id"])
    )


def test_backorder_item_marks_it_backordered(context: Any) -> None:
    processed = workflow.process_order(workflow_input(items=lines(50)), context)

    backordered = workflow.backorder_item(processed, context)

    assert backordered == {**processed, "status": "BACKORDERED"}


def test_task_logs_carry_the_order_id_as_correlation_id(context: Any, logs: Any) -> None:
    workflow.process_order(workflow_input(), context)

    [entry] = logs.entries("Order processed")
    assert entry["correlation_id"] == ORDER_ID
