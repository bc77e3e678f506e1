"""Checkpoints of file ingest, so that a retried invocation continues a file where the last
one stopped instead of starting it again.

One item per file revision in the progress table (``PROGRESS_TABLE_NAME``; the sample uses
its idempotency table, whose ``expiration`` TTL removes checkpoints after
:data:`orders.config.PROGRESS_EXPIRY_SECONDS`): ``id`` ``ingest#<sha256 of the source>``,
``next_index`` (the first element not yet stored) and ``conflicts`` (indexes found, in
earlier attempts, to name an order that another order holds). A file stored in one chunk has
no checkpoint, and ingest reads none for it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from orders import aws, config


@dataclass
class Checkpoint:
    """Where the ingest of one file stands."""

    next_index: int = 0
    conflicts: list[int] = field(default_factory=list)


def _item_id(source: dict[str, Any]) -> str:
    basis = json.dumps([source["bucket"], source["key"], source["version_id"], source["etag"]])
    return "ingest#" + hashlib.sha256(basis.encode()).hexdigest()


def load(source: dict[str, Any]) -> Checkpoint:
    """The checkpoint of ``source`` (``bucket``, ``key``, ``version_id``, ``etag``), or a
    fresh one when there is none or checkpoints are off."""
    table = config.progress_table_name()
    if table is None:
        return Checkpoint()
    item = (
        aws.client("dynamodb")
        .get_item(TableName=table, Key={"id": {"S": _item_id(source)}}, ConsistentRead=True)
        .get("Item")
    )
    if item is None:
        return Checkpoint()
    return Checkpoint(
        int(item["next_index"]["N"]), [int(n["N"]) for n in item.get("conflicts", {}).get("L", [])]
    )


def save(source: dict[str, Any], checkpoint: Checkpoint) -> None:
    """Record ``checkpoint`` for ``source`` (nothing when checkpoints are off)."""
    table = config.progress_table_name()
    if table is None:
        return
    expiration = int(time.time()) + config.PROGRESS_EXPIRY_SECONDS
    aws.client("dynamodb").put_item(
        TableName=table,
        Item={
            "id": {"S": _item_id(source)},
            "next_index": {"N": str(checkpoint.next_index)},
            "conflicts": {"L": [{"N": str(n)} for n in checkpoint.conflicts]},
            "expiration": {"N": str(expiration)},
        },
    )
