"""The glue's pure translations, checked without a server."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from emulator.patches.custom_resources import stringify_scalars
from emulator.patches.dynamodb_global_tables import table_properties
from emulator.patches.dynamodb_streams import _first_failed_index
from emulator.patches.eventbridge_targets import as_delivered, target_input
from emulator.patches.http_api import best_match, match_route
from emulator.patches.s3_buckets import notification_configuration


def _route(key: str) -> Any:
    return SimpleNamespace(route_key=key)


def test_route_matching_prefers_exact_then_parameter_then_greedy_then_default() -> None:
    routes = [
        _route("$default"),
        _route("ANY /{proxy+}"),
        _route("GET /orders/{order_id}"),
        _route("GET /orders/latest"),
        _route("ANY /orders/{order_id}"),
    ]

    def pick(method: str, path: str) -> tuple[str, dict[str, str]]:
        found = match_route(routes, method, path)
        assert found is not None
        return found[0].route_key, found[1]

    assert pick("GET", "/orders/latest") == ("GET /orders/latest", {})
    assert pick("GET", "/orders/42") == ("GET /orders/{order_id}", {"order_id": "42"})
    assert pick("DELETE", "/orders/42") == ("ANY /orders/{order_id}", {"order_id": "42"})
    assert pick("GET", "/a/b/c") == ("ANY /{proxy+}", {"proxy": "a/b/c"})
    assert match_route([_route("$default")], "PUT", "/x") == (routes[0], {})
    assert best_match([("only", "POST", "/orders")], "GET", "/orders") is None


def test_custom_resource_properties_become_strings_as_cloudformation_sends_them() -> None:
    properties = {"Managed": True, "Size": 10, "Ratio": 0.5, "Nested": [{"On": False}], "S": "x"}

    assert stringify_scalars(properties) == {
        "Managed": "true",
        "Size": "10",
        "Ratio": "0.5",
        "Nested": [{"On": "false"}],
        "S": "x",
    }


def test_global_table_becomes_table_properties_of_the_replica_in_the_region() -> None:
    global_table = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "byStatus",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "WriteOnDemandThroughputSettings": {"MaxWriteRequestUnits": 10},
            }
        ],
        "Replicas": [
            {"Region": "eu-west-1", "Tags": [{"Key": "elsewhere", "Value": "1"}]},
            {"Region": "us-east-1", "Tags": [{"Key": "team", "Value": "orders"}]},
        ],
    }

    properties = table_properties(global_table, "us-east-1")

    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert properties["Tags"] == [{"Key": "team", "Value": "orders"}]
    assert properties["GlobalSecondaryIndexes"][0] == {
        "IndexName": "byStatus",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    assert "Replicas" not in properties


def test_bucket_notification_configuration_translates_eventbridge_and_key_filters() -> None:
    configuration = notification_configuration(
        {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True},
            "LambdaConfigurations": [
                {
                    "Event": "s3:ObjectCreated:*",
                    "Function": "arn:aws:lambda:us-east-1:123456789012:function:f",
                    "Filter": {"S3Key": {"Rules": [{"Name": "Prefix", "Value": "in/"}]}},
                }
            ],
        }
    )

    assert configuration == {
        "EventBridgeConfiguration": {},
        "CloudFunctionConfiguration": [
            {
                "CloudFunction": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "Event": ["s3:ObjectCreated:*"],
                "Filter": {"S3Key": {"FilterRule": [{"Name": "prefix", "Value": "in/"}]}},
            }
        ],
    }
    assert notification_configuration({"EventBridgeConfiguration": {}}) == {}


def test_eventbridge_delivers_iso_time_fresh_id_and_applies_target_input() -> None:
    event = {"id": "", "time": 0, "detail": {"bucket": {"name": "b"}}, "ingestion-time": 1.0}

    delivered = as_delivered(event)

    assert delivered["time"] == "1970-01-01T00:00:00Z"
    assert delivered["id"] and "ingestion-time" not in delivered
    assert target_input({"Input": '{"fixed": 1}'}, delivered) == {"fixed": 1}
    assert target_input({"InputPath": "$.detail.bucket"}, delivered) == {"name": "b"}
    assert target_input({}, delivered) is delivered


def test_batch_item_failures_retry_from_the_lowest_failed_record() -> None:
    batch = [{"dynamodb": {"SequenceNumber": str(n)}} for n in (100, 101, 102)]

    def failed(response: Any) -> int | None:
        return _first_failed_index(batch, json.dumps(response).encode())

    assert failed({"batchItemFailures": []}) is None
    assert failed(None) is None
    assert (
        failed({"batchItemFailures": [{"itemIdentifier": "102"}, {"itemIdentifier": "101"}]}) == 1
    )
    assert failed({"batchItemFailures": [{"itemIdentifier": "999"}]}) == 0
    assert failed({"batchItemFailures": [{"itemIdentifier": ""}]}) == 0
