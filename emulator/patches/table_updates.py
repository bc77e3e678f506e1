"""Apply a DynamoDB table's settings in place, as a CloudFormation update does: items kept.

moto 5.2.5 has no update for ``AWS::DynamoDB::Table`` and no model at all for
``AWS::DynamoDB::GlobalTable`` (``dynamodb_global_tables`` adds its creation), and it
ignores time to live and point-in-time recovery at creation. CloudFormation changes these
settings on the existing table ("Update requires: No interruption"):

- ``TimeToLiveSpecification``; point-in-time recovery (``PointInTimeRecoverySpecification``,
  per replica for a global table); ``DeletionProtectionEnabled`` (per replica too);
- ``BillingMode`` and ``ProvisionedThroughput`` (``AWS::DynamoDB::Table``);
- the stream (``StreamSpecification``: turned on, off, or to another view type);
- global secondary indexes added or removed (by name).

A changed ``KeySchema`` or ``TableName`` needs a new table, as on AWS: ``ReplacementRequired``
(``stack_updates`` then replaces the table, and its items are gone, as they would be).
"""

from __future__ import annotations

from typing import Any

TABLE_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"})


class ReplacementRequired(Exception):
    """The change cannot be made to the existing resource."""


def table_settings(properties: dict[str, Any], resource_type: str, region: str) -> dict[str, Any]:
    """The settings of a table template that can change in place, in one shape for both types."""
    replica: dict[str, Any] = {}
    if resource_type == "AWS::DynamoDB::GlobalTable":
        replicas = properties.get("Replicas") or []
        replica = next((r for r in replicas if r.get("Region") in (None, region)), {})
    source = replica or properties
    stream = properties.get("StreamSpecification") or {}
    return {
        "ttl": properties.get("TimeToLiveSpecification"),
        "point_in_time_recovery": _flag(
            (source.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        ),
        "deletion_protection": _flag(source.get("DeletionProtectionEnabled")),
        "billing_mode": properties.get("BillingMode") or "PROVISIONED",
        "throughput": properties.get("ProvisionedThroughput"),
        "stream_view_type": stream.get("StreamViewType"),
        "indexes": {i["IndexName"]: i for i in properties.get("GlobalSecondaryIndexes") or []},
        "identity": (properties.get("TableName"), properties.get("KeySchema")),
    }


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


def apply_settings(table: Any, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """Change ``table`` (a moto ``Table``) from settings ``old`` to ``new`` (``old`` None: a
    table just created from ``new``'s template, whose create ignored some of them)."""
    from moto.dynamodb.models import dynamodb_backends

    if old is not None and old["identity"] != new["identity"]:
        raise ReplacementRequired("the table's KeySchema or TableName changed")
    backend = dynamodb_backends[table.account_id][table.region_name]
    if new["ttl"] or (old and old["ttl"]):
        ttl = new["ttl"] or {**old["ttl"], "Enabled": False}  # type: ignore[index]
        backend.update_time_to_live(table.name, {**ttl, "Enabled": _flag(ttl.get("Enabled"))})
    backend.update_continuous_backups(
        table.name, {"PointInTimeRecoveryEnabled": new["point_in_time_recovery"]}
    )
    table.deletion_protection_enabled = new["deletion_protection"]
    if old is None:
        return
    table.billing_mode = new["billing_mode"]
    if new["throughput"]:
        table.throughput = new["throughput"]
    if new["stream_view_type"] != old["stream_view_type"]:
        table.set_stream_specification({"StreamEnabled": False})
        if new["stream_view_type"]:
            table.set_stream_specification(
                {"StreamEnabled": True, "StreamViewType": new["stream_view_type"]}
            )
    _update_indexes(backend, table, old["indexes"], new["indexes"])


def _update_indexes(backend: Any, table: Any, old: dict[str, Any], new: dict[str, Any]) -> None:
    changes = [{"Delete": {"IndexName": name}} for name in old if name not in new]
    changes += [{"Create": index} for name, index in new.items() if name not in old]
    if changes:
        backend.update_table_global_indexes(table, changes)


def install() -> None:
    """Apply time to live, point-in-time recovery and deletion protection when a table is
    created (call after ``dynamodb_global_tables.install``, which adds the global table)."""
    from moto.cloudformation.parsing import get_model_map

    for resource_type in sorted(TABLE_TYPES):
        model = get_model_map()[resource_type]
        create = model.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

        def create_with_settings(
            cls: Any,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            _create: Any = create,
            _type: str = resource_type,
            **kwargs: Any,
        ) -> Any:
            table = _create(
                cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
            )
            properties = cloudformation_json.get("Properties") or {}
            apply_settings(table, None, table_settings(properties, _type, region_name))
            return table

        model.create_from_cloudformation_json = classmethod(create_with_settings)  # type: ignore[method-assign,assignment,arg-type]
