"""A load run against a fresh emulator, printing the figures ``EMULATION.md`` quotes.

    .venv/bin/python -m tests.emulator.load_run [--writes 400] [--invokes 60] [--idle 65]

It writes ``--writes`` items concurrently (every 50th with a binary attribute) to a table
whose stream is mapped to a function that records each delivered record, races 40
conditional writes for one key and 200 ``ADD`` updates of one counter, invokes a
0.5-second function ``--invokes`` times at once, and reports: failed requests, stream
records and deliveries, claim winners, the counter, live sandboxes and the resident
memory of the emulator's processes, also after ``--idle`` seconds without calls.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.config

from emulator import Emulator, start_emulator
from tests.emulator.load_support import (
    create_function,
    create_role,
    create_table,
    resident_mebibytes,
    sandbox_processes,
    stream_records,
)

_CLIENT_CONFIG = botocore.config.Config(
    max_pool_connections=100, retries={"max_attempts": 1, "mode": "standard"}
)


def _attempt(call: Any) -> str:
    try:
        call()
        return "ok"
    except Exception as error:  # counted and reported, by kind
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        return str(code or type(error).__name__)


def _concurrently(calls: list[Any], workers: int) -> Counter[str]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return Counter(pool.map(_attempt, calls))


def _delivered(emulator: Emulator) -> Counter[str]:
    pages = emulator.client("dynamodb").get_paginator("scan").paginate(TableName="deliveries")
    return Counter(
        record["SequenceNumber"]
        for page in pages
        for item in page["Items"]
        for record in json.loads(item["records"]["S"])
    )


def _writes(emulator: Emulator, count: int) -> dict[str, Any]:
    role = create_role(emulator, "load-run")
    table = create_table(emulator, "loaded", "pk", stream=True)
    create_table(emulator, "deliveries", "invocation", stream=False)
    environment = {"Variables": {"DELIVERIES_TABLE": "deliveries"}}
    create_function(emulator, "recorder", "record", role, Environment=environment)
    create_function(emulator, "pausing", "pause", role)
    emulator.client("lambda").create_event_source_mapping(
        FunctionName="recorder", EventSourceArn=table["LatestStreamArn"], StartingPosition="LATEST"
    )
    client = emulator.client("dynamodb", config=_CLIENT_CONFIG)

    def put(i: int) -> Any:
        value = {"B": bytes([i % 256])} if i % 50 == 0 else {"S": "x"}
        return lambda: client.put_item(TableName="loaded", Item={"pk": {"S": f"o{i}"}, "v": value})

    started = time.monotonic()
    outcomes = _concurrently([put(i) for i in range(count)], workers=100)
    seconds = time.monotonic() - started
    records = stream_records(emulator, table["LatestStreamArn"])
    deadline = time.monotonic() + 30
    while len(delivered := _delivered(emulator)) < len(records) and time.monotonic() < deadline:
        time.sleep(0.5)
    return {
        "writes": count,
        "write_outcomes": dict(outcomes),
        "write_seconds": round(seconds, 1),
        "items_stored": client.scan(TableName="loaded", Select="COUNT")["Count"],
        "stream_records": len(records),
        "records_delivered": len(delivered),
        "records_delivered_twice": sum(1 for n in delivered.values() if n > 1),
    }


def _races(emulator: Emulator) -> dict[str, Any]:
    client = emulator.client("dynamodb", config=_CLIENT_CONFIG)

    def claim(writer: int) -> Any:
        return lambda: client.put_item(
            TableName="loaded",
            Item={"pk": {"S": "claimed"}, "writer": {"N": str(writer)}},
            ConditionExpression="attribute_not_exists(pk)",
        )

    def increment() -> None:
        client.update_item(
            TableName="loaded",
            Key={"pk": {"S": "counter"}},
            UpdateExpression="ADD hits :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    claims = _concurrently([claim(i) for i in range(40)], workers=40)
    increments = _concurrently([increment] * 200, workers=50)
    counter = client.get_item(TableName="loaded", Key={"pk": {"S": "counter"}})["Item"]
    return {
        "claim_outcomes": dict(claims),
        "increment_outcomes": dict(increments),
        "counter_after_200_increments": counter["hits"]["N"],
    }


def _invokes(emulator: Emulator, count: int) -> dict[str, Any]:
    client = emulator.client("lambda", config=_CLIENT_CONFIG)

    def invoke() -> None:
        response = client.invoke(FunctionName="pausing", Payload=b'{"seconds": 0.5}')
        if response.get("FunctionError"):
            raise RuntimeError(response["Payload"].read().decode())

    started = time.monotonic()
    outcomes = _concurrently([invoke] * count, workers=count)
    return {
        "invokes": count,
        "invoke_outcomes": dict(outcomes),
        "invoke_seconds": round(time.monotonic() - started, 1),
        "sandboxes_after": len(sandbox_processes(emulator)),
        "resident_mib_after": round(resident_mebibytes(emulator)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--invokes", type=int, default=60)
    parser.add_argument("--idle", type=float, default=65.0)
    arguments = parser.parse_args()
    with start_emulator() as emulator:
        print(json.dumps(_writes(emulator, arguments.writes)), flush=True)
        print(json.dumps(_races(emulator)), flush=True)
        print(json.dumps(_invokes(emulator, arguments.invokes)), flush=True)
        time.sleep(arguments.idle)
        idle = {
            "idle_seconds": arguments.idle,
            "sandboxes": len(sandbox_processes(emulator)),
            "resident_mib": round(resident_mebibytes(emulator)),
        }
        print(json.dumps(idle), flush=True)


if __name__ == "__main__":
    main()
