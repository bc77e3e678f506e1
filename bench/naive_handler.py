"""A naive handler module: what the cold-start figures compare the order handlers with.

It loads everything up front, the way many handlers are written: all of Powertools
(Logger, Tracer, Metrics, the REST event handler, the batch processor, the parser), boto3,
and the clients the order functions use, created at import. One entry point serves every
event the order functions serve, each with the AWS calls the matching order handler makes:
``POST /orders`` (DynamoDB PutItem), an S3 "Object Created" event from EventBridge (S3
GetObject, a PutItem per order), a DynamoDB stream batch (Step Functions StartExecution per
record) and a workflow task (no AWS call). Nothing here is deployed.
"""

from __future__ import annotations

import json
import os
import uuid
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
from boto3.dynamodb.types import TypeSerializer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

dynamodb = boto3.client("dynamodb")
stepfunctions = boto3.client("stepfunctions")
s3 = boto3.client("s3")
serializer = TypeSerializer()


class Item(BaseModel):
    sku: str
    quantity: int


class NewOrder(BaseModel):
    customer_id: str
    email: str
    items: list[Item]


class Order(BaseModel):
    order_id: str


def put_order(order: NewOrder) -> dict[str, Any]:
    item = {"order_id": uuid.uuid4().hex, "status": "PENDING", **order.model_dump()}
    dynamodb.put_item(
        TableName=os.environ["TABLE_NAME"],
        Item={name: serializer.serialize(value) for name, value in item.items()},
    )
    return item


@app.post("/orders")
def create_order() -> tuple[dict[str, Any], int]:
    return put_order(NewOrder.model_validate(app.current_event.json_body)), 201


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> dict[str, Any]:
    return dynamodb.get_item(TableName="orders", Key={"order_id": {"S": order_id}})


@event_parser(model=Order)
def start(order: Order, context: Any) -> None:
    stepfunctions.start_execution(
        stateMachineArn=os.environ["STATE_MACHINE_ARN"],
        name=order.order_id,
        input=order.model_dump_json(),
    )


def record_handler(record: Any) -> None:
    start(record.dynamodb.new_image, None)


def ingest(event: dict[str, Any]) -> int:
    detail = event["detail"]
    body = s3.get_object(Bucket=detail["bucket"]["name"], Key=detail["object"]["key"])["Body"]
    orders = [NewOrder.model_validate(order) for order in json.loads(body.read())]
    for order in orders:
        put_order(order)
    return len(orders)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> Any:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    if event.get("source") == "aws.s3":
        return {"written": ingest(event)}
    if "order_id" in event:  # a workflow task
        return {**Order.model_validate(event).model_dump(), "inStock": True}
    return app.resolve(event, context)
