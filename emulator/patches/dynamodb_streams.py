"""Deliver DynamoDB stream records to mapped functions the way Lambda's stream poller does.

moto 5.2.5 invokes every function mapped to a table's stream synchronously inside the
write (``PutItem`` waits for the function), with every record accumulated so far, and
ignores the mapping's settings: no ``FilterCriteria``, no ``BatchSize``, no retries, no
``ReportBatchItemFailures``, no on-failure destination; a failing batch is dropped.
``install`` replaces ``StreamShard.add`` so that the write only appends the record to the
stream (``GetRecords`` still serves it) and hands it to one background poller per event
source mapping, which:

- filters records with the mapping's ``FilterCriteria`` (EventBridge pattern syntax,
  applied to the record; records that match no filter are dropped, as Lambda does);
- delivers in order, one batch at a time, at most ``BatchSize`` records (default 100)
  and at most Lambda's 6 MB synchronous payload, waiting up to
  ``MaximumBatchingWindowInSeconds`` (default 0) to fill a batch; a throttled batch is
  retried without counting as a failed attempt;
- on a function error retries the batch (``MaximumRetryAttempts``; -1, Lambda's
  "until the record expires", is capped at ``UNBOUNDED_RETRY_LIMIT`` here), splitting it
  in two first when ``BisectBatchOnFunctionError`` is set;
- with ``FunctionResponseTypes: [ReportBatchItemFailures]`` reads
  ``{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]}`` and retries from the
  lowest failed sequence number (an unknown or empty identifier fails the whole batch);
- when retries are exhausted sends Lambda's invocation record (with ``DDBStreamBatchInfo``)
  to the ``DestinationConfig.OnFailure`` SQS queue or SNS topic, and moves on;
- reads the stream and sends to the destination with the function's execution role, as
  Lambda does: a batch the role may not read (``STREAM_READ_ACTIONS`` on the stream ARN)
  is not delivered, a failure record the role may not send is lost; both are logged.

Not emulated: ``MaximumRecordAgeInSeconds``, ``ParallelizationFactor`` (one batch at a
time per mapping), tumbling windows, shards (one per table), records written before the
mapping existed (``TRIM_HORIZON`` behaves like ``LATEST``), mappings on Kinesis or SQS
(moto's own delivery applies).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException

from emulator.patches.lambda_limits import SYNC_REQUEST_LIMIT, THROTTLED_STATUS

logger = logging.getLogger("emulator")

#: Retries of a failing batch when the mapping says -1 (Lambda: until the records expire).
UNBOUNDED_RETRY_LIMIT = 10
#: Pause before retrying a failed batch (Lambda backs off; short here so tests stay fast).
RETRY_DELAY_SECONDS = 0.5
DEFAULT_BATCH_SIZE = 100
#: What Lambda's poller calls on the stream with the function's role.
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetShardIterator",
    "dynamodb:GetRecords",
    "dynamodb:ListStreams",
)

_pollers: dict[str, MappingPoller] = {}
_pollers_lock = threading.Lock()
_stopping = threading.Event()


class MappingPoller:
    """Delivers the records of one event source mapping, in order, on its own thread."""

    def __init__(self, mapping: Any) -> None:
        self.mapping = mapping
        self._records: deque[dict[str, Any]] = deque()
        self._arrived = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, name=f"stream-poller-{mapping.uuid}", daemon=True
        )
        self._thread.start()

    def submit(self, record: dict[str, Any]) -> None:
        if not _matches_filters(self.mapping, record):
            return
        with self._arrived:
            self._records.append(record)
            self._arrived.notify()

    def stop(self) -> None:
        with self._arrived:
            self._arrived.notify_all()

    def _run(self) -> None:
        while not _stopping.is_set():
            batch = self._next_batch()
            if batch:
                try:
                    self._deliver(batch)
                except Exception:  # a poller must survive anything a delivery throws
                    logger.exception("stream delivery to %s failed", self.mapping.function_arn)

    def _next_batch(self) -> list[dict[str, Any]]:
        size = int(self.mapping.batch_size or DEFAULT_BATCH_SIZE)
        window = float(self.mapping.max_batch_window or 0)
        with self._arrived:
            while not self._records and not _stopping.is_set():
                self._arrived.wait(timeout=1.0)
            deadline = time.monotonic() + window
            while len(self._records) < size and not _stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._arrived.wait(timeout=remaining)
            return self._take_batch(size)

    def _take_batch(self, size: int) -> list[dict[str, Any]]:
        """Up to ``size`` records whose ``{"Records": [...]}`` event stays within Lambda's
        synchronous payload limit (at least one record)."""
        batch: list[dict[str, Any]] = []
        total = len('{"Records": []}')
        while self._records and len(batch) < size:
            record_size = len(json.dumps(self._records[0]).encode()) + len(", ")
            if batch and total + record_size > SYNC_REQUEST_LIMIT:
                break
            batch.append(self._records.popleft())
            total += record_size
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        for action in STREAM_READ_ACTIONS:
            denied = self._authorize(action, self.mapping.event_source_arn)
            if denied is not None:
                logger.warning(
                    "stream mapping %s cannot read: %s", self.mapping.uuid, denied.message
                )
                return
        retries = int(
            self.mapping.max_retry_attempts if self.mapping.max_retry_attempts is not None else -1
        )
        if retries < 0:
            retries = UNBOUNDED_RETRY_LIMIT
        attempts = 0
        while batch and not _stopping.is_set():
            attempts += 1
            failed_from, function_error = self._invoke(batch)
            if failed_from is None:
                return
            if function_error and self.mapping.bisect_on_error and len(batch) > 1:
                # Splitting does not count against the retry quota on Lambda either.
                half = len(batch) // 2
                self._deliver(batch[:half])
                self._deliver(batch[half:])
                return
            if attempts > retries:
                self._send_to_on_failure_destination(batch[failed_from:], attempts, function_error)
                return
            batch = batch[failed_from:]
            time.sleep(RETRY_DELAY_SECONDS)

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[int | None, str | None]:
        """Invoke once; return (index to retry from or None, function error or None)."""
        from moto.awslambda.utils import get_backend

        from emulator.patches.lambda_runtime import invoke_in_server

        function = get_backend(self.mapping.account_id, self.mapping.region).get_function(
            self.mapping.function_arn
        )
        while True:
            try:
                payload, function_error = invoke_in_server(function, {"Records": batch})
                break
            except HTTPException as error:
                if error.code != THROTTLED_STATUS or _stopping.is_set():
                    raise
                # Lambda's poller retries a throttled batch; it is not a failed attempt.
                logger.warning("stream batch for %s throttled; retrying", function.function_name)
                time.sleep(RETRY_DELAY_SECONDS)
        if function_error:
            return 0, function_error
        if "ReportBatchItemFailures" not in (self.mapping.function_response_types or []):
            return None, None
        return _first_failed_index(batch, payload), None

    def _send_to_on_failure_destination(
        self, records: list[dict[str, Any]], attempts: int, function_error: str | None
    ) -> None:
        destination = ((self.mapping.destination_config or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        logger.warning(
            "%d stream record(s) for %s discarded after %d attempts%s",
            len(records),
            self.mapping.function_arn,
            attempts,
            f", sent to {destination}" if destination else "",
        )
        if not destination:
            return
        action = "sqs:SendMessage" if destination.split(":")[2] == "sqs" else "sns:Publish"
        denied = self._authorize(action, destination)
        if denied is not None:
            logger.warning("on-failure record lost: %s", denied.message)
            return
        message = json.dumps(_invocation_record(self.mapping, records, attempts, function_error))
        region, account = destination.split(":")[3], destination.split(":")[4]
        service = destination.split(":")[2]
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            sqs_backends[account][region].send_message(
                queue_name=destination.split(":")[5], message_body=message
            )
        elif service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[account][region].publish(message=message, arn=destination)

    def _authorize(self, action: str, resource: str) -> Any:
        from moto.awslambda.utils import get_backend

        from emulator.patches.iam_enforcement import authorize_role

        function = get_backend(self.mapping.account_id, self.mapping.region).get_function(
            self.mapping.function_arn
        )
        return authorize_role(str(function.role or ""), function.function_name, action, resource)


def _matches_filters(mapping: Any, record: dict[str, Any]) -> bool:
    filters = (mapping.filter_criteria or {}).get("Filters") or []
    if not filters:
        return True
    from moto.events.models import EventPattern

    return any(
        EventPattern.load(f["Pattern"]).matches_event(record)  # type: ignore[arg-type]
        for f in filters
    )


def _first_failed_index(batch: list[dict[str, Any]], payload: bytes) -> int | None:
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        return None
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return None
    sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
    failed = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in sequence_numbers:
            return 0  # Lambda treats an unknown identifier as a failure of the whole batch
        failed.append(sequence_numbers.index(identifier))
    return min(failed)


def _invocation_record(
    mapping: Any, records: list[dict[str, Any]], attempts: int, function_error: str | None
) -> dict[str, Any]:
    def arrival(record: dict[str, Any]) -> str:
        stamp = record["dynamodb"].get("ApproximateCreationDateTime") or time.time()
        return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")

    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": mapping.function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            **({"functionError": function_error} if function_error else {}),
        },
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "DDBStreamBatchInfo": {
            "shardId": "shardId-00000001541626099285-f35f62ef",
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": mapping.event_source_arn,
        },
    }


def lambda_record(record: Any, table: Any, stream_arn: str) -> dict[str, Any]:
    """The record as Lambda delivers it: moto's stream record plus region, source and epoch time."""
    as_json = record.to_json()
    dynamodb = dict(as_json["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(
            created.replace(tzinfo=created.tzinfo or UTC).timestamp()
        )
    return {
        "eventID": as_json["eventID"],
        "eventName": as_json["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": table.region_name,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def _active_mappings(table: Any) -> list[Any]:
    from moto.awslambda.utils import get_backend

    active = []
    for mapping in list(table.lambda_event_source_mappings.values()):
        backend = get_backend(mapping.account_id, mapping.region)
        if backend.get_event_source_mapping(mapping.uuid) is None:
            continue  # deleted: moto leaves it registered on the table
        if str(mapping.enabled).lower() == "false":
            continue
        active.append(mapping)
    return active


def _poller(mapping: Any) -> MappingPoller:
    with _pollers_lock:
        poller = _pollers.get(mapping.uuid)
        if poller is None:
            poller = _pollers[mapping.uuid] = MappingPoller(mapping)
        return poller


def install() -> None:
    from moto.dynamodb.models.table import StreamRecord, StreamShard
    from moto.dynamodb.models.utilities import dynamo_json_dump

    def add(self: Any, old: Any, new: Any) -> None:
        # Called with the DynamoDB request lock held (``dynamodb_requests``): the write is
        # committed, so its record must be appended and handed over whatever happens.
        view_type = self.table.stream_specification["StreamViewType"]
        event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        sequence_number = len(self.items) + self.starting_sequence_number
        record = StreamRecord(self.table, view_type, event_name, old, new, sequence_number)
        self.items.append(record)
        try:
            stream_arn = f"{self.table.table_arn}/stream/{self.table.latest_stream_label}"
            # moto keeps binary values as bytes; Lambda receives them base64-encoded.
            delivered = dynamo_json_dump(lambda_record(record, self.table, stream_arn))
            for mapping in _active_mappings(self.table):
                if mapping.event_source_arn == stream_arn:
                    _poller(mapping).submit(json.loads(delivered))
        except Exception:  # the write stands; the lost record must at least be visible
            logger.exception("stream record %s not handed to its pollers", sequence_number)

    StreamShard.add = add  # type: ignore[method-assign]


def shutdown() -> None:
    _stopping.set()
    with _pollers_lock:
        pollers = list(_pollers.values())
    for poller in pollers:
        poller.stop()
