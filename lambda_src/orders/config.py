"""Settings read from the environment, at first use.

Reading lazily keeps imports free of side effects; a missing variable raises
:class:`~orders.errors.ConfigurationError` naming it on the first request that needs it.
"""

from __future__ import annotations

import os

from orders.errors import ConfigurationError

MAX_UPLOAD_BYTES = 1024 * 1024
"""Largest order file ``orders.ingest`` reads, in bytes. Default 1 MiB."""

INGEST_CHUNK_SIZE = 250
"""Orders ``orders.ingest`` stores between two checkpoints of a file (``INGEST_CHUNK_SIZE``
overrides it). Default 250."""

INGEST_TIME_MARGIN_MILLIS = 10_000
"""Time left in an invocation under which ``orders.ingest`` checkpoints and stops, so that
the retry continues the file instead of the timeout killing it mid-chunk
(``INGEST_TIME_MARGIN_MILLIS`` overrides it). Default 10 s."""

PROGRESS_EXPIRY_SECONDS = 24 * 60 * 60
"""How long a file's ingest checkpoint is kept (DynamoDB TTL): 24 hours, well past the
retries of its event."""

MAX_STOCK_PER_ITEM = 10
"""Stub inventory: a line is in stock when its quantity is at most this. Default 10."""


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(name)
    return value


def table_name() -> str:
    """Name of the orders table (``TABLE_NAME``)."""
    return _required("TABLE_NAME")


def state_machine_arn() -> str:
    """ARN of the order workflow (``STATE_MACHINE_ARN``)."""
    return _required("STATE_MACHINE_ARN")


def idempotency_table_name() -> str | None:
    """Table of ``Idempotency-Key`` records (``IDEMPOTENCY_TABLE_NAME``); ``None``: keys off."""
    return os.environ.get("IDEMPOTENCY_TABLE_NAME", "").strip() or None


def _positive_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(name)
    return int(value)


def ingest_chunk_size() -> int:
    """Orders stored between two checkpoints (``INGEST_CHUNK_SIZE``, :data:`INGEST_CHUNK_SIZE`)."""
    return _positive_int("INGEST_CHUNK_SIZE", INGEST_CHUNK_SIZE)


def ingest_time_margin_millis() -> int:
    """See :data:`INGEST_TIME_MARGIN_MILLIS` (``INGEST_TIME_MARGIN_MILLIS`` overrides it)."""
    return _positive_int("INGEST_TIME_MARGIN_MILLIS", INGEST_TIME_MARGIN_MILLIS)


def quarantine_prefix() -> str | None:
    """Key prefix, in the uploads bucket, of rejected files and elements (``QUARANTINE_PREFIX``);
    ``None``: rejections are only logged."""
    return os.environ.get("QUARANTINE_PREFIX", "").strip() or None


def progress_table_name() -> str | None:
    """Table of ingest checkpoints (``PROGRESS_TABLE_NAME``: partition key ``id``, TTL
    ``expiration``); ``None``: every attempt starts a file from its first order."""
    return os.environ.get("PROGRESS_TABLE_NAME", "").strip() or None
