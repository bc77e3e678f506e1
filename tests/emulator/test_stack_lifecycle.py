"""The pure parts of the emulator's CloudFormation lifecycle: the order resources are worked
through, where a template URL points, and which table settings an update can change."""

from __future__ import annotations

import pytest

from emulator.patches.change_sets import template_location
from emulator.patches.table_updates import table_settings
from emulator.patches.template_graph import dependency_order, dependents

RESOURCES = {
    "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["Method"]},
    "Method": {"Type": "AWS::ApiGateway::Method", "Properties": {"RestApiId": {"Ref": "Api"}}},
    "Api": {"Type": "AWS::ApiGateway::RestApi"},
    "Role": {"Type": "AWS::IAM::Role"},
    "Function": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}},
    },
    "Permission": {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${Api}/*"},
            "FunctionName": {"Fn::GetAtt": "Function.Arn"},
        },
    },
}


def test_dependency_order_puts_everything_a_resource_names_before_it() -> None:
    order = dependency_order(RESOURCES)

    assert sorted(order) == sorted(RESOURCES)
    for earlier, later in [
        ("Method", "Deployment"),  # DependsOn
        ("Api", "Method"),  # Ref
        ("Role", "Function"),  # Fn::GetAtt as a list
        ("Function", "Permission"),  # Fn::GetAtt as "Name.Attribute"
        ("Api", "Permission"),  # ${Api} in Fn::Sub
    ]:
        assert order.index(earlier) < order.index(later), (earlier, later)


def test_dependency_order_ends_on_a_cycle_instead_of_looping() -> None:
    cycle = {"A": {"DependsOn": "B"}, "B": {"DependsOn": "A"}}

    assert sorted(dependency_order(cycle)) == ["A", "B"]


def test_dependents_are_found_through_other_resources() -> None:
    assert dependents(RESOURCES, {"Role"}) == {"Function", "Permission"}
    assert dependents(RESOURCES, {"Deployment"}) == set()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:4566/cdk-assets/abc.json", ("cdk-assets", "abc.json")),
        ("http://localhost:4566/bucket/dir/key.json", ("bucket", "dir/key.json")),
        ("https://bucket.s3.us-east-1.amazonaws.com/key.json", None),
    ],
)
def test_template_location_reads_path_style_urls_on_local_hosts(
    url: str, expected: tuple[str, str] | None
) -> None:
    assert template_location(url) == expected


def test_table_settings_read_a_global_tables_replica_like_a_tables_own_settings() -> None:
    table = table_settings(
        {
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        },
        "AWS::DynamoDB::Table",
        "us-east-1",
    )
    global_table = table_settings(
        {
            "Replicas": [
                {"Region": "eu-west-1"},
                {
                    "Region": "us-east-1",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": "true"},
                    "DeletionProtectionEnabled": "true",
                },
            ],
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        },
        "AWS::DynamoDB::GlobalTable",
        "us-east-1",
    )

    assert global_table == table
    assert table["point_in_time_recovery"] is True
