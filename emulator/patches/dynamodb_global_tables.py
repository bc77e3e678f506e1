"""Create ``AWS::DynamoDB::GlobalTable`` (CDK's ``TableV2``) as a moto DynamoDB table.

moto has no CloudFormation model for global tables. In one account and one region a
global table is a table with replicas elsewhere; the emulator creates the replica in the
deployment region as an ordinary moto table with the same keys, indexes, billing mode and
stream, and answers ``Ref`` (the table name) and ``GetAtt`` ``Arn`` and ``StreamArn`` as
CloudFormation does. Replicas in other regions, per-replica settings other than tags,
and time to live are not emulated.
"""

from __future__ import annotations

from typing import Any


def table_properties(global_table: dict[str, Any], region: str) -> dict[str, Any]:
    """Translate GlobalTable properties into the ``AWS::DynamoDB::Table`` properties moto reads."""
    replicas = global_table.get("Replicas", [])
    replica: dict[str, Any] = next((r for r in replicas if r.get("Region") in (None, region)), {})
    properties: dict[str, Any] = {
        key: global_table[key]
        for key in (
            "AttributeDefinitions",
            "KeySchema",
            "BillingMode",
            "LocalSecondaryIndexes",
            "SSESpecification",
            "WarmThroughput",
        )
        if key in global_table
    }
    if "GlobalSecondaryIndexes" in global_table:
        properties["GlobalSecondaryIndexes"] = [
            {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
            for index in global_table["GlobalSecondaryIndexes"]
        ]
    stream_view_type = global_table.get("StreamSpecification", {}).get("StreamViewType")
    if stream_view_type:
        properties["StreamSpecification"] = {"StreamViewType": stream_view_type}
    if replica.get("Tags"):
        properties["Tags"] = replica["Tags"]
    if replica.get("DeletionProtectionEnabled") is not None:
        properties["DeletionProtectionEnabled"] = replica["DeletionProtectionEnabled"]
    return properties


def install() -> None:
    from moto.cloudformation.parsing import get_model_map
    from moto.core.common_models import CloudFormationModel
    from moto.dynamodb.models.table import Table

    class GlobalTableModel(CloudFormationModel):  # type: ignore[misc]
        @staticmethod
        def cloudformation_name_type() -> str:
            return "TableName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::DynamoDB::GlobalTable"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in ("Arn", "StreamArn")

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Any:
            properties = table_properties(cloudformation_json.get("Properties", {}), region_name)
            return Table.create_from_cloudformation_json(
                resource_name, {"Properties": properties}, account_id, region_name, **kwargs
            )

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> None:
            Table.delete_from_cloudformation_json(
                resource_name, cloudformation_json, account_id, region_name
            )

    get_model_map.cache_clear()
