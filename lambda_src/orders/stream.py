"""Start the order workflow for each new order, from the orders table's stream.

The event source mapping filters to ``INSERT`` records and reports batch item failures:
a record that fails is returned in ``batchItemFailures`` (by its ``SequenceNumber``) and
retried alone, instead of failing the whole batch.

Environment: ``STATE_MACHINE_ARN``, ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from orders import coldstart, executions
from orders.errors import InvalidEventError
from orders.models import parse_order_message
from orders.store import to_plain

logger = Logger()
metrics = Metrics()


class StreamProcessor(BatchProcessor):
    """Batch processor that logs each failed record with the sequence number Lambda retries."""

    def failure_handler(self, record: DynamoDBRecord, exception: Any) -> Any:
        sequence_number = record.dynamodb.sequence_number if record.dynamodb else None
        logger.warning(
            "Stream record failed; Lambda retries it",
            sequence_number=sequence_number,
            exc_info=exception,
        )
        return super().failure_handler(record, exception)


# A lone malformed record must come back in batchItemFailures, not fail the invocation.
processor = StreamProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


def start_workflow(record: DynamoDBRecord) -> str | None:
    """Start one execution for the order a stream record inserted.

    Returns
    -------
    str or None
        The execution name, or ``None`` for a record that is not an ``INSERT``.

    Raises
    ------
    InvalidEventError
        If the record has no ``NewImage``.
    InvalidOrderError
        If the new image is not an order.
    botocore.exceptions.ClientError
        If Step Functions fails (other than ``ExecutionAlreadyExists``).

    The execution is named by :func:`orders.executions.execution_name`.
    """
    if record.event_name != DynamoDBRecordEventName.INSERT:
        return None  # The mapping filters these out; a changed filter must not start workflows.
    change = record.dynamodb
    # ``new_image`` reads a missing image as empty: look for it first.
    if change is None or not isinstance(change.get("NewImage"), dict):
        raise InvalidEventError(
            "the INSERT record has no NewImage; the stream must include new images"
        )
    order = parse_order_message(to_plain(change.new_image))
    name, started = executions.start(order)
    if not started:
        # A redelivered record: the order's execution exists, which is the goal.
        logger.info("Workflow already started", order_id=order.order_id, execution_name=name)
        return name
    metrics.add_metric(name="WorkflowsStarted", unit=MetricUnit.Count, value=1)
    logger.info("Workflow started", order_id=order.order_id, execution_name=name)
    return name


@coldstart.entry_point
@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start a workflow for every ``INSERT`` record of a DynamoDB Streams batch.

    Parameters
    ----------
    event : dict
        ``{"Records": [{"eventName": "INSERT", "dynamodb": {"NewImage": {...},
        "SequenceNumber": "..."}, ...}]}``.
    context : LambdaContext
        The invocation context.

    Returns
    -------
    dict
        ``{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}, ...]}``.
    """
    return process_partial_response(
        event=event, record_handler=start_workflow, processor=processor, context=context
    )
