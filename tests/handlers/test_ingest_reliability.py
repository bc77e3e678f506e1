"""orders.ingest under duplicates, poison elements and large files: every valid order stored
exactly once, every rejected element reported and kept for replay."""

from __future__ import annotations

import json
from typing import Any

import boto3
import orders.aws
import pytest
from orders import config, ingest
from orders.errors import ConfigurationError

from tests.handlers.conftest import LambdaContext, new_table
from tests.handlers.test_ingest_handler import order, stored, upload, upload_orders

PROGRESS_TABLE = "orders-progress-test"
QUARANTINE = "quarantine/"


@pytest.fixture(scope="module")
def _progress_table(aws_session: Any) -> Any:
    return new_table(aws_session, PROGRESS_TABLE, "id")


@pytest.fixture
def kept(_progress_table: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Checkpoints in the progress table (emptied) and a quarantine prefix, both switched on."""
    for item in _progress_table.scan()["Items"]:
        _progress_table.delete_item(Key={"id": item["id"]})
    monkeypatch.setenv("PROGRESS_TABLE_NAME", PROGRESS_TABLE)
    monkeypatch.setenv("QUARANTINE_PREFIX", QUARANTINE)
    return _progress_table


def quarantined(bucket: str, key: str) -> Any:
    return json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_the_same_file_under_another_key_stores_each_order_once(
    bucket: str, table: Any, context: Any, kept: Any
) -> None:
    orders = [order("a"), order("b")]
    first = ingest.handler(upload_orders(bucket, orders, key="uploads/monday.json"), context)
    again = ingest.handler(upload_orders(bucket, orders, key="uploads/tuesday.json"), context)

    assert (first["written"], again["written"], again["duplicates"]) == (2, 0, 2)
    assert len(stored(table)) == 2


def test_identical_elements_in_one_file_are_one_order_and_reported_as_repeats(
    bucket: str, table: Any, context: Any, kept: Any
) -> None:
    spaced = {**order("a"), "customer_id": "  a "}  # the same order once trimmed
    summary = ingest.handler(upload_orders(bucket, [order("a"), order("b"), spaced]), context)

    assert summary["written"] == 2
    assert summary["repeated"] == [{"index": 2, "duplicate_of": 0}]
    assert len(stored(table)) == 2


def test_a_reference_makes_identical_orders_distinct_and_gives_the_id(
    bucket: str, table: Any, context: Any, kept: Any
) -> None:
    elements = [{**order("a"), "reference": "po-1"}, {**order("a"), "reference": "po-2"}]

    summary = ingest.handler(upload_orders(bucket, elements), context)

    assert (summary["written"], summary["repeated_count"]) == (2, 0)
    assert sorted(item["reference"] for item in stored(table)) == ["po-1", "po-2"]


def test_a_reference_reused_for_another_order_is_rejected_and_quarantined(
    bucket: str, table: Any, context: Any, kept: Any
) -> None:
    ingest.handler(upload_orders(bucket, [{**order("a"), "reference": "po-9"}]), context)
    later = [order("c"), {**order("b"), "reference": "po-9"}]

    summary = ingest.handler(upload_orders(bucket, later, key="uploads/later.json"), context)

    assert summary["written"] == 1
    assert summary["rejected"] == [
        {"index": 1, "reason": "its reference names another order already stored"}
    ]
    [record] = quarantined(bucket, summary["quarantined"])["rejected"]
    assert json.loads(record["element"])["customer_id"] == "b"
    assert {item["customer_id"] for item in stored(table)} == {"a", "c"}


POISON = {
    "a_number_of_thousands_of_digits": ("9" * 5000, "not valid JSON"),
    "a_deeply_nested_value": ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
    "wrong_types": (json.dumps({**order("x"), "items": "many"}), "items"),
    "a_syntax_error": ('{"customer_id": }', "not valid JSON"),
}


@pytest.mark.parametrize(("poison", "reason"), POISON.values(), ids=POISON.keys())
def test_a_poison_element_is_rejected_alone_and_kept_for_replay(
    bucket: str, table: Any, context: Any, kept: Any, poison: str, reason: str
) -> None:
    text = f"[{json.dumps(order('a'))}, {poison}, {json.dumps(order('b'))}]"

    summary = ingest.handler(upload(bucket, "uploads/poisoned.json", text.encode()), context)

    assert {item["customer_id"] for item in stored(table)} == {"a", "b"}
    [rejection] = summary["rejected"]
    assert rejection["index"] == 1 and reason in rejection["reason"]
    record = quarantined(bucket, summary["quarantined"])
    assert record["source"]["key"] == "uploads/poisoned.json"
    assert [(r["index"], r["element"].strip()) for r in record["rejected"]] == [(1, poison)]


def test_a_file_rejected_whole_is_copied_to_the_quarantine_with_its_reason(
    bucket: str, table: Any, context: Any, kept: Any
) -> None:
    content = b'[{"customer_id": "a"'

    summary = ingest.handler(upload(bucket, "uploads/cut.json", content), context)

    assert "never ends" in summary["file_error"]
    copy = boto3.client("s3").get_object(Bucket=bucket, Key=summary["quarantined"])
    assert copy["Body"].read() == content
    assert "never ends" in copy["Metadata"]["rejected-reason"]
    assert summary["quarantined"].startswith(QUARANTINE)


def test_without_a_quarantine_prefix_rejections_are_only_reported(
    bucket: str, table: Any, context: Any
) -> None:
    summary = ingest.handler(upload(bucket, "uploads/bad.json", b"[1, 2]"), context)

    assert (summary["rejected_count"], summary["quarantined"]) == (2, None)


class ShortOfTime(LambdaContext):
    """An invocation that is about to time out."""

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return config.INGEST_TIME_MARGIN_MILLIS - 1


def test_a_file_that_runs_out_of_time_is_continued_by_the_retry_from_its_checkpoint(
    bucket: str,
    table: Any,
    context: Any,
    kept: Any,
    monkeypatch: pytest.MonkeyPatch,
    lost_put_responses: Any,
) -> None:
    monkeypatch.setenv("INGEST_CHUNK_SIZE", "4")
    event = upload_orders(bucket, [order(f"c{n}") for n in range(10)] + ["poison"])

    with pytest.raises(ingest.IngestIncompleteError, match="stopped at element 4"):
        ingest.handler(event, ShortOfTime())
    assert len(stored(table)) == 4
    puts_before_retry = lost_put_responses.puts

    retried = ingest.handler(event, context)

    assert (retried["resumed_from"], retried["written"], retried["rejected_count"]) == (4, 0, 1)
    assert retried["duplicates"] == 6  # "the SDK" retried each put: all found their order
    assert lost_put_responses.puts - puts_before_retry == 2 * 6  # the first 4 not written again
    assert len(stored(table)) == 10


def test_a_file_of_one_chunk_reads_and_writes_no_checkpoint(
    bucket: str, table: Any, context: Any, kept: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_CHUNK_SIZE", "3")
    progress_calls: list[str] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("TableName") == PROGRESS_TABLE:
            progress_calls.append(model.name)

    events = orders.aws.client("dynamodb").meta.events
    events.register("provide-client-params.dynamodb", record)
    try:
        small = ingest.handler(upload_orders(bucket, [order(f"s{n}") for n in range(3)]), context)
        large = ingest.handler(upload_orders(bucket, [order(f"l{n}") for n in range(4)]), context)
    finally:
        events.unregister("provide-client-params.dynamodb", record)

    assert (small["written"], large["written"]) == (3, 4)
    # The four-order file is two chunks: its checkpoint is read, then written after each.
    assert progress_calls == ["GetItem", "PutItem", "PutItem"]


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_chunk_size_that_is_not_a_positive_integer_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("INGEST_CHUNK_SIZE", value)
    with pytest.raises(ConfigurationError, match="INGEST_CHUNK_SIZE"):
        config.ingest_chunk_size()
