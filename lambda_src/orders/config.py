"""Settings read from the environment, at first use.

Reading lazily keeps imports free of side effects; a missing variable raises
:class:`~orders.errors.ConfigurationError` naming it on the first request that needs it.
"""

from __future__ import annotations

import os

from orders.errors import ConfigurationError

MAX_UPLOAD_BYTES = 1024 * 1024
"""Largest order file ``orders.ingest`` reads, in bytes. Default 1 MiB."""

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
