"""Serve DynamoDB requests atomically, with one stream record per write, as DynamoDB does.

moto 5.2.5 serves each HTTP request on its own thread and its DynamoDB backend has no
locking, so under concurrent load:

- a write can fail *after* it is committed: the stream glue (and ``DescribeTable``)
  count the table's items by iterating the item dict while another thread inserts into
  it ("dictionary changed size during iteration"), the client gets a 500 and the
  record's stream event is lost; a ``Scan`` racing a write fails the same way;
- conditional writes are not atomic: two ``PutItem`` calls with
  ``attribute_not_exists(pk)`` for one key can both succeed, and two ``UpdateItem``
  calls that ``ADD`` to one counter can lose an increment;
- an unexpected failure is answered with werkzeug's HTML 500 page, which no SDK can
  parse (botocore's error code becomes ``"500"``, with no request id).

``install`` makes every DynamoDB and DynamoDB Streams request run under one lock (each
request takes a few milliseconds in moto; DynamoDB itself makes each item operation
atomic and orders a stream's records like the writes), and answers an unexpected failure
the way DynamoDB does: HTTP 500 ``InternalServerError`` in DynamoDB's JSON shape, with a
request id, the traceback going to the server log.

It also fixes moto's ``UpdateItem`` on a missing item, which creates the item through
``PutItem`` (one INSERT record with the key only) and then records the update (a second
INSERT): DynamoDB writes one INSERT with the new image; an ``UpdateItem`` of an existing
item stays one MODIFY. An ``UpdateItem`` that fails after moto created its item (moto
applies the expression afterwards) leaves no item behind, as DynamoDB writes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

logger = logging.getLogger("emulator")

#: Held while moto serves one DynamoDB or DynamoDB Streams request.
_request_lock = threading.RLock()
_updating = threading.local()

#: DynamoDB's answer to a request it failed to serve (HTTP 500).
INTERNAL_SERVER_ERROR = {
    "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
    "message": "Internal server error",
}


def internal_server_error() -> tuple[int, dict[str, str], str]:
    """DynamoDB's 500 answer: JSON with the error type, and a request id header."""
    headers = {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-RequestId": uuid.uuid4().hex.upper(),
    }
    return 500, headers, json.dumps(INTERNAL_SERVER_ERROR)


def _serve_atomically(handler_class: Any) -> None:
    original = handler_class.call_action

    def call_action(self: Any) -> Any:
        with _request_lock:
            try:
                return original(self)
            except Exception:  # an SDK must get DynamoDB's 500, not an HTML page
                logger.exception("DynamoDB request failed inside the emulator")
                return internal_server_error()

    handler_class.call_action = call_action


def _one_record_per_update_item() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_update_item = DynamoDBBackend.update_item
    original_put_item = Table.put_item

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        _updating.active, _updating.created = True, None
        try:
            return original_update_item(self, *args, **kwargs)
        except Exception:
            _remove_created_item(_updating.created)
            raise
        finally:
            _updating.active, _updating.created = False, None

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not getattr(_updating, "active", False):
            return original_put_item(self, *args, **kwargs)
        # The item UpdateItem creates is recorded once, by UpdateItem, with its new image;
        # the request lock keeps every other reader of the shard out meanwhile.
        shard, self.stream_shard = self.stream_shard, None
        try:
            item = original_put_item(self, *args, **kwargs)
        finally:
            self.stream_shard = shard
        _updating.created = (self, item)
        return item

    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]


def _remove_created_item(created: tuple[Any, Any] | None) -> None:
    """Undo the item a failed UpdateItem created: DynamoDB writes all of an update or
    nothing (moto creates the item first, then may fail applying the expression)."""
    if created is None:
        return
    table, item = created
    if table.range_key_attr is None:
        table.items.pop(item.hash_key, None)
    else:
        table.items.get(item.hash_key, {}).pop(item.range_key, None)


def install() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    _serve_atomically(DynamoHandler)
    _serve_atomically(DynamoDBStreamsHandler)
    _one_record_per_update_item()
