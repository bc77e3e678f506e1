"""Order file ingest, invoked by an EventBridge rule for S3 "Object Created" events.

An uploaded file holds a JSON list of orders (each with the fields of ``POST /orders``).
Valid orders are stored ``PENDING`` under ids derived from (bucket, key, version, ETag,
index), so a redelivered event or a rerun stores nothing twice. Invalid orders and unusable
files are logged and counted, never raised: retrying cannot fix them. A DynamoDB failure on
a valid order is raised, so EventBridge retries and the dead-letter queue keep the file.

Environment: ``TABLE_NAME``, ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``.
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

from orders import aws, config, store
from orders.errors import InvalidEventError, InvalidOrderError
from orders.models import Order, parse_new_order, pending_order

logger = Logger()
metrics = Metrics()

_ORDER_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:orders:ingest")
_MAX_REJECTIONS_RETURNED = 100
_WRITERS = 16
# Without s3:ListBucket, S3 answers a missing key with AccessDenied rather than NoSuchKey.
_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "AccessDenied"})


class FileRejectedError(Exception):
    """The file cannot yield any order (too large, not JSON, not a list, gone)."""


def s3() -> Any:
    """The S3 client (see :mod:`orders.aws`)."""
    return aws.client("s3")


def ingest_order_id(bucket: str, key: str, revision: str, index: int) -> str:
    """Deterministic id (uuid5 hex) of the order at ``index`` of one revision of a file."""
    return uuid.uuid5(_ORDER_ID_NAMESPACE, json.dumps([bucket, key, revision, index])).hex


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
            return s3().get_object(Bucket=bucket, Key=key, **extra)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _MISSING_OBJECT_CODES:
                raise
            first_error = first_error or error
    assert first_error is not None
    if first_error.response["Error"]["Code"] == "AccessDenied":
        raise first_error
    raise FileRejectedError("the object no longer exists")


def read_orders(bucket: str, upload: S3EventBridgeNotificationObject) -> tuple[list[Any], str]:
    """Read and decode an order file.

    Returns
    -------
    tuple of (list, str)
        The decoded JSON list, and the revision (version id and ETag) that was read.

    Raises
    ------
    FileRejectedError
        If the file is over :data:`orders.config.MAX_UPLOAD_BYTES`, gone, not UTF-8 JSON,
        or not a list.
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
    revision = f"{response.get('VersionId') or ''}:{response.get('ETag', '').strip(chr(34))}"
    try:
        orders = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FileRejectedError("the file is not UTF-8 text") from None
    except (ValueError, RecursionError):
        raise FileRejectedError("the file is not valid JSON") from None
    if not isinstance(orders, list):
        raise FileRejectedError("the file must hold a JSON list of orders")
    return orders, revision


def store_orders(orders: list[Order]) -> tuple[int, int]:
    """Store orders concurrently, each only if its id is new.

    Sixteen writers keep a full 1 MiB file (thousands of orders) well inside the function's
    timeout, where one-by-one writes would not finish and every retry would redo the same
    prefix.

    Returns
    -------
    tuple of (int, int)
        How many were stored (also the ``OrdersIngested`` metric), and how many existed.

    Raises
    ------
    botocore.exceptions.ClientError
        The first DynamoDB failure, once the writes under way have finished; writes not
        yet started are cancelled.
    """
    if not orders:
        metrics.add_metric(name="OrdersIngested", unit=MetricUnit.Count, value=0)
        return 0, 0
    store.dynamodb()  # create the client here: creating clients is not thread-safe
    written = duplicates = 0
    first_error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=min(_WRITERS, len(orders))) as pool:
        futures = [pool.submit(store.add_order, order) for order in orders]
        for future in as_completed(futures):
            if future.cancelled():
                continue
            if (error := future.exception()) is not None:
                if first_error is None:
                    first_error = error
                    for pending in futures:
                        pending.cancel()
            elif future.result():
                written += 1
            else:
                duplicates += 1
    # Counted before raising, so the metric matches what reached the table.
    metrics.add_metric(name="OrdersIngested", unit=MetricUnit.Count, value=written)
    if first_error is not None:
        raise first_error
    return written, duplicates


def ingest_file(bucket: str, upload: S3EventBridgeNotificationObject) -> dict[str, Any]:
    """Store every valid order of one uploaded file.

    Returns
    -------
    dict
        ``bucket``, ``key``, ``written`` (new orders), ``duplicates`` (stored by an earlier
        delivery), ``rejected`` (first 100 ``{"index", "reason"}``), ``rejected_count``, and
        ``file_error`` when the whole file was refused.

    Raises
    ------
    botocore.exceptions.ClientError
        When S3 or DynamoDB fails; a valid order is never dropped silently.
    """
    key = upload["key"]
    summary: dict[str, Any] = {"bucket": bucket, "key": key}
    try:
        orders, revision = read_orders(bucket, upload)
    except FileRejectedError as error:
        logger.warning("Order file rejected", bucket=bucket, key=key, reason=str(error))
        metrics.add_metric(name="RejectedFiles", unit=MetricUnit.Count, value=1)
        return {
            **summary,
            "written": 0,
            "duplicates": 0,
            "rejected": [],
            "rejected_count": 0,
            "file_error": str(error),
        }

    valid: list[Order] = []
    rejected: list[dict[str, Any]] = []
    for index, data in enumerate(orders):
        try:
            request = parse_new_order(data)
        except InvalidOrderError as error:
            logger.warning("Invalid order skipped", key=key, index=index, reason=str(error))
            rejected.append({"index": index, "reason": str(error)})
            continue
        order_id = ingest_order_id(bucket, key, revision, index)
        valid.append(pending_order(request, order_id=order_id))
    metrics.add_metric(name="InvalidOrders", unit=MetricUnit.Count, value=len(rejected))

    written, duplicates = store_orders(valid)

    summary.update(written=written, duplicates=duplicates, rejected_count=len(rejected))
    logger.info("Order file ingested", **summary)
    return {**summary, "rejected": rejected[:_MAX_REJECTIONS_RETURNED]}


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
    return ingest_file(*uploaded_object(event))
