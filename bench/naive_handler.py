"""A naive handler module: what the cold-start figure compares the order handlers with.

It loads everything up front, the way many handlers are written: all of Powertools
(Logger, Tracer, Metrics, the REST event handler, the batch processor, the parser), boto3,
and the clients the order functions use, created at import. Nothing here is deployed.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

dynamodb = boto3.client("dynamodb")
stepfunctions = boto3.client("stepfunctions")
s3 = boto3.client("s3")


class Order(BaseModel):
    order_id: str


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> dict[str, Any]:
    return dynamodb.get_item(TableName="orders", Key={"order_id": {"S": order_id}})


@event_parser(model=Order)
def start(order: Order, context: Any) -> None:
    stepfunctions.start_execution(stateMachineArn="arn", input=order.model_dump_json())


def record_handler(record: Any) -> None:
    start(record, None)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> Any:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    return app.resolve(event, context)
