"""Import a handler module and answer its first request in this (fresh) process; print the
cost as one JSON line.

Run by ``bench/run.py``, once per measurement, with AWS_ENDPOINT_URL pointing at the moto
server it started (the orders table, the uploaded order file and the state machine exist).

Usage: ``python bench/first_request.py MODULE:FUNCTION EVENT``, where EVENT is one of
:data:`EVENTS`. The event is built before the clock starts; the clock then covers what a
caller of a cold function waits for after the runtime has started: importing the module (the
init phase) and the handler's first invocation, with every client it creates and every AWS
call it makes. A handler answer that is not a success fails the run, so no figure is ever
taken on an error path.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

ORDER = {
    "customer_id": "bench-customer",
    "email": "bench@example.com",
    "items": [{"sku": "BOOK-1", "quantity": 2}],
}


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:bench"
    aws_request_id = "bench-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def post_order() -> dict[str, Any]:
    """``POST /orders`` as API Gateway's REST API sends it (payload 1.0)."""
    return {
        "resource": "/orders",
        "path": "/orders",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"requestId": "bench-request", "stage": "prod", "path": "/orders"},
        "body": json.dumps(ORDER),
        "isBase64Encoded": False,
    }


def claim_order_file() -> str:
    """The key of an order file no earlier run read, claimed for this run.

    The runner uploads ``BENCH_FILES`` files, each with orders of its own, and gives a
    directory where a run claims file ``n`` by creating the entry ``n`` (exclusive create).
    """
    for number in range(int(os.environ["BENCH_FILES"])):
        try:
            os.close(
                os.open(
                    os.path.join(os.environ["BENCH_CLAIMS"], str(number)), os.O_CREAT | os.O_EXCL
                )
            )
        except FileExistsError:
            continue
        return os.environ["BENCH_KEY_FORMAT"].format(number)
    raise SystemExit("every order file was read by an earlier run: upload more (BENCH_FILES)")


def object_created() -> dict[str, Any]:
    """The EventBridge "Object Created" event of an order file no earlier run read."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "111122223333",
        "region": "us-east-1",
        "detail": {
            "bucket": {"name": os.environ["BENCH_BUCKET"]},
            "object": {"key": claim_order_file(), "size": int(os.environ["BENCH_SIZE"])},
        },
    }


def stream_insert() -> dict[str, Any]:
    """One DynamoDB stream ``INSERT`` record of a new order (a fresh id: a new execution)."""
    image = {**ORDER, "order_id": uuid.uuid4().hex, "status": "PENDING"}
    return {
        "Records": [
            {
                "eventID": "1",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "SequenceNumber": "100",
                    "NewImage": {
                        "order_id": {"S": image["order_id"]},
                        "status": {"S": "PENDING"},
                        "customer_id": {"S": ORDER["customer_id"]},
                        "email": {"S": ORDER["email"]},
                        "items": {"L": [{"M": {"sku": {"S": "BOOK-1"}, "quantity": {"N": "2"}}}]},
                    },
                },
            }
        ]
    }


def workflow_task() -> dict[str, Any]:
    """The input of the workflow's first task."""
    return {**ORDER, "order_id": uuid.uuid4().hex, "status": "PENDING"}


EVENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "post_order": post_order,
    "object_created": object_created,
    "stream_insert": stream_insert,
    "workflow_task": workflow_task,
}


def succeeded(answer: Any) -> bool:
    """Whether the answer is the success each kind of event expects."""
    if not isinstance(answer, dict):
        return False
    if "statusCode" in answer:
        return bool(answer["statusCode"] == 201)
    if "batchItemFailures" in answer:
        return not answer["batchItemFailures"]
    if "written" in answer:
        return bool(answer["written"] or answer.get("duplicates")) and not answer.get("rejected")
    return "order_id" in answer


def main() -> None:
    target, kind = sys.argv[1:3]
    module_name, _, function_name = target.partition(":")
    event = EVENTS[kind]()
    context = LambdaContext()
    before = set(sys.modules)
    started, cpu_started = time.perf_counter(), time.process_time()
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    answer = getattr(module, function_name)(event, context)
    answered, cpu_answered = time.perf_counter(), time.process_time()
    if not succeeded(answer):
        raise SystemExit(f"{target} did not succeed on {kind}: {str(answer)[:300]}")
    print(
        json.dumps(
            {
                "import_s": imported - started,
                "first_request_s": answered - imported,
                "init_and_first_request_s": answered - started,
                # CPU time of this process: what the wall time is made of when the machine
                # is not shared (the moto server's share runs in another process).
                "init_and_first_request_cpu_s": cpu_answered - cpu_started,
                "modules_loaded": len(set(sys.modules) - before),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
