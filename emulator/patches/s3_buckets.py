"""Apply a CloudFormation bucket's notification and versioning settings, which moto drops.

moto's ``AWS::S3::Bucket`` model applies only ``BucketEncryption`` and ``Tags``. A bucket
that turns on EventBridge in its template (``NotificationConfiguration:
EventBridgeConfiguration: EventBridgeEnabled: true``, what a CDK bucket with
``event_bridge_enabled=True`` synthesizes without aws-cdk-lib's notifications custom
resource) would never send "Object Created" events. ``install`` wraps the model so that,
after moto creates the bucket, its ``NotificationConfiguration`` (EventBridge, and
Lambda, queue and topic configurations with their key filters) and
``VersioningConfiguration`` take effect, as they would through the S3 API.

Not emulated: lifecycle rules, access logging, public access blocks, ownership controls,
replication, object lock (stored nowhere; S3 behaves as without them).
"""

from __future__ import annotations

from typing import Any

#: CloudFormation's destination lists -> (moto's configuration key, its ARN field).
_DESTINATIONS = {
    "LambdaConfigurations": ("CloudFunctionConfiguration", "CloudFunction", "Function"),
    "QueueConfigurations": ("QueueConfiguration", "Queue", "Queue"),
    "TopicConfigurations": ("TopicConfiguration", "Topic", "Topic"),
}


def notification_configuration(cloudformation: dict[str, Any]) -> dict[str, Any]:
    """Translate CloudFormation's ``NotificationConfiguration`` into the form moto stores."""
    configuration: dict[str, Any] = {}
    event_bridge = cloudformation.get("EventBridgeConfiguration") or {}
    if str(event_bridge.get("EventBridgeEnabled", "false")).lower() == "true":
        configuration["EventBridgeConfiguration"] = {}
    for cloudformation_key, (key, arn_field, cloudformation_arn_field) in _DESTINATIONS.items():
        entries = []
        for entry in cloudformation.get(cloudformation_key, []):
            translated: dict[str, Any] = {
                arn_field: entry[cloudformation_arn_field],
                "Event": [entry["Event"]],
            }
            rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            if rules:
                translated["Filter"] = {
                    "S3Key": {
                        "FilterRule": [
                            {"Name": rule["Name"].lower(), "Value": rule["Value"]} for rule in rules
                        ]
                    }
                }
            entries.append(translated)
        if entries:
            configuration[key] = entries
    return configuration


def apply_bucket_settings(
    bucket: Any, properties: dict[str, Any], account_id: str, region_name: str
) -> None:
    """Apply the template's versioning and notification settings to a moto bucket (at its
    creation, and again when a stack update changes them)."""
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    backend = s3_backends[account_id][get_partition(region_name)]
    status = properties.get("VersioningConfiguration", {}).get("Status")
    if status:
        backend.put_bucket_versioning(bucket.name, status)
    if "NotificationConfiguration" in properties:
        bucket.set_notification_configuration(
            notification_configuration(properties["NotificationConfiguration"])
        )


def install() -> None:
    from moto.s3.models import FakeBucket

    original = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        bucket = original(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        apply_bucket_settings(
            bucket, cloudformation_json.get("Properties", {}), account_id, region_name
        )
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment,arg-type]
