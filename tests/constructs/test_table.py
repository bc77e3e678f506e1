"""DynamoTable: on demand, recoverable, encrypted, protected from deletion unless disposable."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms

from constructs_lib import DynamoTable
from tests.constructs import (
    cfn_lint_findings,
    findings_in,
    get_att,
    only,
    unjustified_acknowledgments,
)
from tests.support import ENV, Synthesized, nag_app, resources_of_type, synthesize

STACKS = ("Defaults", "Options")


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    DynamoTable(cdk.Stack(app, "Defaults", env=ENV), "Orders", partition_key="pk")

    options = cdk.Stack(app, "Options", env=ENV)
    DynamoTable(
        options,
        "Keyed",
        partition_key="customerId",
        sort_key="createdAt",
        sort_key_type=dynamodb.AttributeType.NUMBER,
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        time_to_live_attribute="expiresAt",
        table_name="orders-by-customer",
    )
    key = kms.Key(options, "Key", enable_key_rotation=True)
    DynamoTable(options, "Encrypted", partition_key="pk", encryption_key=key)
    DynamoTable(options, "Scratch", partition_key="pk", removal_policy=cdk.RemovalPolicy.DESTROY)

    return synthesize(app)


def table_of(synth: Synthesized, stack: str, construct_id: str) -> dict[str, Any]:
    tables = resources_of_type(synth.templates[stack], "AWS::DynamoDB::Table")
    return only({k: v for k, v in tables.items() if k.startswith(construct_id)})[1]


def test_table_bills_per_request(synth: Synthesized) -> None:
    assert table_of(synth, "Defaults", "Orders")["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in table_of(synth, "Defaults", "Orders")["Properties"]


def test_table_has_point_in_time_recovery(synth: Synthesized) -> None:
    properties = table_of(synth, "Defaults", "Orders")["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_table_is_encrypted_with_the_aws_owned_key_by_default(synth: Synthesized) -> None:
    sse = table_of(synth, "Defaults", "Orders")["Properties"].get("SSESpecification", {})
    assert "KMSMasterKeyId" not in sse
    assert sse.get("SSEType") != "KMS"


def test_table_is_encrypted_with_a_given_customer_managed_key(synth: Synthesized) -> None:
    key_id, _ = only(resources_of_type(synth.templates["Options"], "AWS::KMS::Key"))
    sse = table_of(synth, "Options", "Encrypted")["Properties"]["SSESpecification"]
    assert sse == {"KMSMasterKeyId": get_att(key_id), "SSEEnabled": True, "SSEType": "KMS"}


def test_table_is_retained_and_protected_from_deletion_by_default(synth: Synthesized) -> None:
    table = table_of(synth, "Defaults", "Orders")
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_disposable_table_is_deleted_with_the_stack_and_unprotected(synth: Synthesized) -> None:
    table = table_of(synth, "Options", "Scratch")
    assert table["Properties"].get("DeletionProtectionEnabled", False) is False
    assert table["DeletionPolicy"] == "Delete"


def test_table_has_only_its_partition_key_by_default(synth: Synthesized) -> None:
    properties = table_of(synth, "Defaults", "Orders")["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert "StreamSpecification" not in properties
    assert "TimeToLiveSpecification" not in properties
    assert "TableName" not in properties


def test_table_takes_a_typed_sort_key(synth: Synthesized) -> None:
    properties = table_of(synth, "Options", "Keyed")["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": "customerId", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    assert {"AttributeName": "createdAt", "AttributeType": "N"} in properties[
        "AttributeDefinitions"
    ]


def test_table_streams_the_chosen_view(synth: Synthesized) -> None:
    properties = table_of(synth, "Options", "Keyed")["Properties"]
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_table_expires_items_by_the_time_to_live_attribute(synth: Synthesized) -> None:
    properties = table_of(synth, "Options", "Keyed")["Properties"]
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": "expiresAt",
        "Enabled": True,
    }
    assert properties["TableName"] == "orders-by-customer"


@pytest.mark.parametrize("stack", STACKS)
def test_table_stack_has_no_unacknowledged_nag_finding(synth: Synthesized, stack: str) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_table_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_table_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []
