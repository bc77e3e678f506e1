"""Order file ingest, invoked by an EventBridge rule for S3 "Object Created" events.

An uploaded file holds a JSON list of orders (each with the fields of ``POST /orders`` and
an optional ``reference``), read element by element (:mod:`orders.order_file`): what parses
and validates is stored, what does not is reported with its index and reason and kept in the
quarantine (:mod:`orders.quarantine`), with files rejected whole.

Each order's id derives from what it is, never from where it came from: from its
``reference`` when the uploader gives one, else from its validated content. The same file
uploaded twice, under the same key or another, stores each order once; identical elements
(without references) are one order, and the repeats are reported as duplicates of the first.
Large files are stored in chunks, checkpointed (:mod:`orders.progress`): an attempt that
runs short of time stops after a chunk and raises, and the retry continues from there.
Rejections are never raised (retrying cannot fix them); a DynamoDB or S3 failure is, so
the invocation is retried and, at last, the dead-letter queue keeps the event.

Environment: ``TABLE_NAME``, ``QUARANTINE_PREFIX`` and ``PROGRESS_TABLE_NAME`` (both
optional), ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.s3_event import (
    S3EventBridgeNotificationEvent,
    S3EventBridgeNotificationObject,
)
from botocore.exceptions import ClientError

from orders import aws, coldstart, config, progress, quarantine, store
from orders.errors import InvalidEventError, InvalidOrderError
from orders.models import FileOrder, Order, parse_file_order, pending_order
from orders.order_file import Element, FileRejectedError, elements

logger = Logger()
metrics = Metrics()

_ORDER_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:orders:ingest")
_MAX_LISTED = 100
_WRITERS = 16
# Without s3:ListBucket, S3 answers a missing key with AccessDenied rather than NoSuchKey.
_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "AccessDenied"})


class IngestIncompleteError(Exception):
    """The invocation ran short of time; the file's progress is checkpointed for the retry."""


def s3() -> Any:
    """The S3 client (see :mod:`orders.aws`)."""
    return aws.client("s3")


def file_order_id(order: FileOrder) -> str:
    """The id (uuid5, 32 hex characters) of an order read from a file.

    From its ``reference`` when given, else from its validated content (fields trimmed,
    item lines in their order), so the same order gets the same id in every file.
    """
    if order.reference is not None:
        basis: list[Any] = ["reference", order.reference]
    else:
        basis = ["content", order.as_json()]
    return uuid.uuid5(_ORDER_ID_NAMESPACE, json.dumps(basis, sort_keys=True)).hex


def _get_object(bucket: str, upload: S3EventBridgeNotificationObject) -> dict[str, Any]:
    # S3 URL-encodes keys in its own notification format, and the data class decodes them
    # (``upload.key``); S3's EventBridge events are documented with plain keys. Read the key
    # as sent, then its decoded spelling if the first does not exist, so either convention
    # finds the object (a plain key may hold a literal "+").
    # Only versioned buckets send a version id; the data class's ``version_id`` requires one.
    version_id = upload.get("version-id")
    extra = {"VersionId": version_id} if version_id else {}
    candidates = dict.fromkeys([upload["key"], upload.key])
    first_error: ClientError | None = None
    for key in candidates:
        try:
            return {**s3().get_object(Bucket=bucket, Key=key, **extra), "Key": key}
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _MISSING_OBJECT_CODES:
                raise
            first_error = first_error or error
    assert first_error is not None
    if first_error.response["Error"]["Code"] == "AccessDenied":
        raise first_error
    raise FileRejectedError("the object no longer exists")


def source_of(bucket: str, upload: S3EventBridgeNotificationObject) -> dict[str, Any]:
    """The file an event names, as the quarantine and checkpoints identify it."""
    return {
        "bucket": bucket,
        "key": upload["key"],
        "version_id": upload.get("version-id"),
        "etag": str(upload.get("etag") or "").strip('"'),
    }


def read_file(bucket: str, upload: S3EventBridgeNotificationObject) -> tuple[str, dict[str, Any]]:
    """Read an order file as text.

    Returns
    -------
    tuple of (str, dict)
        The text, and the source (:func:`source_of`) at the version and ETag that was read.

    Raises
    ------
    FileRejectedError
        If the file is over :data:`orders.config.MAX_UPLOAD_BYTES`, gone or not UTF-8.
    """
    limit = config.MAX_UPLOAD_BYTES
    size = upload.size
    if isinstance(size, int) and size > limit:
        raise FileRejectedError(f"the file has {size} bytes; the limit is {limit}")
    response = _get_object(bucket, upload)
    if response.get("ContentLength", 0) > limit:
        raise FileRejectedError(
            f"the file has {response['ContentLength']} bytes; the limit is {limit}"
        )
    data = response["Body"].read(limit + 1)
    if len(data) > limit:
        raise FileRejectedError(f"the file has more than {limit} bytes")
    source = {
        **source_of(bucket, upload),
        "key": response["Key"],
        "version_id": response.get("VersionId") or upload.get("version-id"),
        "etag": response.get("ETag", "").strip('"'),
    }
    try:
        return data.decode("utf-8-sig"), source
    except UnicodeDecodeError:
        raise FileRejectedError("the file is not UTF-8 text") from None


def store_orders(orders: list[Order]) -> list[store.Outcome]:
    """Store orders concurrently, each only if its id is new; the outcome of each, in order.

    Sixteen writers keep a full 1 MiB file (thousands of orders) well inside the function's
    timeout, where one-by-one writes would not finish.

    Raises
    ------
    botocore.exceptions.ClientError
        The first DynamoDB failure, once the writes under way have finished; writes not
        yet started are cancelled.
    """
    if not orders:
        return []
    store.dynamodb()  # create the client here: creating clients is not thread-safe
    with ThreadPoolExecutor(max_workers=min(_WRITERS, len(orders))) as pool:
        futures = [pool.submit(store.add_order, order) for order in orders]
        for future in as_completed(futures):
            if future.exception() is not None:
                for pending in futures:
                    pending.cancel()
                break
    failed = next((f for f in futures if not f.cancelled() and f.exception()), None)
    outcomes = [f.result()[0] for f in futures if not f.cancelled() and not f.exception()]
    # Counted before raising, so the metric matches what reached the table.
    created = sum(outcome is store.Outcome.CREATED for outcome in outcomes)
    metrics.add_metric(name="OrdersIngested", unit=MetricUnit.Count, value=created)
    if failed is not None:
        raise failed.exception()  # type: ignore[misc]
    return outcomes


class _Plan:
    """A file's elements sorted out: the orders to store, the rejected, the repeated.

    Each rejection is logged when found, before any order of the file is stored.
    """

    def __init__(self, parsed: list[Element], key: str) -> None:
        self.key = key
        self.orders: list[tuple[int, Order]] = []
        self.rejected: list[dict[str, Any]] = []
        self.repeated: list[dict[str, int]] = []
        self.sources = {element.index: element for element in parsed}
        first_of: dict[str, tuple[int, Order]] = {}
        for element in parsed:
            self._add(element, first_of)

    def _add(self, element: Element, first_of: dict[str, tuple[int, Order]]) -> None:
        try:
            if element.error is not None:
                raise InvalidOrderError(element.error)
            request = parse_file_order(element.value)
        except InvalidOrderError as error:
            self.reject(element.index, str(error))
            return
        order = pending_order(request, order_id=file_order_id(request))
        first = first_of.get(order.order_id)
        if first is None:
            first_of[order.order_id] = (element.index, order)
            self.orders.append((element.index, order))
        elif store.same_order(first[1], order):
            self.repeated.append({"index": element.index, "duplicate_of": first[0]})
        else:
            self.reject(element.index, f"its reference names another order, at index {first[0]}")

    def reject(self, index: int, reason: str) -> None:
        logger.warning("Invalid order skipped", key=self.key, index=index, reason=reason)
        self.rejected.append(
            {"index": index, "reason": reason, "element": self.sources[index].source}
        )


def _store_in_chunks(
    source: dict[str, Any], plan: _Plan, checkpoint: progress.Checkpoint, context: Any
) -> tuple[int, int]:
    """Store the plan's orders from ``checkpoint`` on, moving it; (created, already stored).

    Raises
    ------
    IngestIncompleteError
        When less than :func:`orders.config.ingest_time_margin_millis` is left after a chunk.
    """
    chunk_size = config.ingest_chunk_size()
    pending = [(index, order) for index, order in plan.orders if index >= checkpoint.next_index]
    chunked = len(pending) > chunk_size
    created = already = 0
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start : start + chunk_size]
        outcomes = store_orders([order for _, order in chunk])
        for (index, _), outcome in zip(chunk, outcomes, strict=True):
            created += outcome is store.Outcome.CREATED
            already += outcome is store.Outcome.ALREADY_STORED
            if outcome is store.Outcome.ID_TAKEN and index not in checkpoint.conflicts:
                checkpoint.conflicts.append(index)
        checkpoint.next_index = chunk[-1][0] + 1
        if chunked:
            progress.save(source, checkpoint)
        more = start + chunk_size < len(pending)
        if more and context.get_remaining_time_in_millis() < config.ingest_time_margin_millis():
            logger.warning(
                "Order file stopped for lack of time; the retry continues",
                **source,
                next_index=checkpoint.next_index,
            )
            raise IngestIncompleteError(
                f"stopped at element {checkpoint.next_index} for lack of time; the retry continues"
            )
    return created, already


def ingest_file(
    bucket: str, upload: S3EventBridgeNotificationObject, context: Any
) -> dict[str, Any]:
    """Store every valid order of one uploaded file, and keep what is rejected.

    Returns
    -------
    dict
        ``bucket``, ``key``; ``written`` (new orders), ``duplicates`` (stored before: an
        earlier upload or delivery), ``repeated`` (first 100 ``{"index", "duplicate_of"}``:
        elements that are the same order as an earlier one of the file) and
        ``repeated_count``, ``rejected`` (first 100 ``{"index", "reason"}``) and
        ``rejected_count``, ``resumed_from`` (the first element this attempt stored),
        ``quarantined`` (the quarantine object's key, or ``None``), and ``file_error``
        when the whole file was refused.

    Raises
    ------
    IngestIncompleteError
        When the invocation runs short of time; its retry continues the file.
    botocore.exceptions.ClientError
        When S3 or DynamoDB fails; a valid order is never dropped silently.
    """
    summary: dict[str, Any] = {"bucket": bucket, "key": upload["key"]}
    try:
        text, source = read_file(bucket, upload)
        plan = _Plan(list(elements(text)), source["key"])
    except FileRejectedError as error:
        return _file_rejected(summary, source_of(bucket, upload), str(error))

    # Checkpoints are written only between chunks: a file of one chunk never has one to read.
    if len(plan.orders) > config.ingest_chunk_size():
        checkpoint = progress.load(source)
    else:
        checkpoint = progress.Checkpoint()
    resumed_from = checkpoint.next_index
    created, already = _store_in_chunks(source, plan, checkpoint, context)
    for index in checkpoint.conflicts:
        plan.reject(index, "its reference names another order already stored")
    quarantined = quarantine.keep_rejected_elements(source, plan.rejected)
    metrics.add_metric(name="InvalidOrders", unit=MetricUnit.Count, value=len(plan.rejected))
    summary.update(
        written=created,
        duplicates=already,
        repeated_count=len(plan.repeated),
        rejected_count=len(plan.rejected),
        resumed_from=resumed_from,
        quarantined=quarantined,
    )
    logger.info("Order file ingested", **summary)
    return {
        **summary,
        "repeated": plan.repeated[:_MAX_LISTED],
        "rejected": [
            {"index": r["index"], "reason": r["reason"]} for r in plan.rejected[:_MAX_LISTED]
        ],
    }


def _file_rejected(summary: dict[str, Any], source: dict[str, Any], reason: str) -> dict[str, Any]:
    logger.warning("Order file rejected", bucket=source["bucket"], key=source["key"], reason=reason)
    metrics.add_metric(name="RejectedFiles", unit=MetricUnit.Count, value=1)
    gone = reason == "the object no longer exists"
    return {
        **summary,
        "written": 0,
        "duplicates": 0,
        "repeated": [],
        "repeated_count": 0,
        "rejected": [],
        "rejected_count": 0,
        "quarantined": None if gone else quarantine.keep_rejected_file(source, reason),
        "file_error": reason,
    }


def uploaded_object(
    event: S3EventBridgeNotificationEvent,
) -> tuple[str, S3EventBridgeNotificationObject]:
    """The bucket name and the object of an "Object Created" event.

    Raises
    ------
    InvalidEventError
        If the event names no bucket or no object key.
    """
    try:
        bucket, upload = event.detail.bucket.name, event.detail.object
        key = upload["key"]
    except (KeyError, TypeError):
        bucket = key = None
    if not (isinstance(bucket, str) and bucket and isinstance(key, str) and key):
        raise InvalidEventError(
            "not an S3 Object Created event: detail.bucket.name and detail.object.key are required"
        )
    return bucket, upload


@coldstart.entry_point
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=S3EventBridgeNotificationEvent)
def handler(event: S3EventBridgeNotificationEvent, context: Any) -> dict[str, Any]:
    """Ingest the order file named by an EventBridge S3 "Object Created" event.

    Parameters
    ----------
    event : dict
        ``{"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket":
        {"name"}, "object": {"key", "size", "etag", "version-id"?, "sequencer"}}}``, read
        through Powertools' ``S3EventBridgeNotificationEvent`` data class.
    context : LambdaContext
        The invocation context.

    Returns
    -------
    dict
        The summary of :func:`ingest_file`.

    Raises
    ------
    InvalidEventError
        If the event lacks the bucket name or object key.
    botocore.exceptions.ClientError
        When S3 or DynamoDB fails, so the event is retried.
    """
    return ingest_file(*uploaded_object(event), context)
