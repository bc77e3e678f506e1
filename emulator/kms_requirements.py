"""The KMS calls a service makes with its caller's permissions, on the resource's key.

A call on a topic, queue, bucket or table encrypted with a customer-managed key makes the
service call KMS for the caller: ``kms_requirements`` names those ``(kms action, key ARN)``
pairs, from ``KMS_ACTIONS`` and the key moto stores on the resource. AWS managed keys
(``alias/aws/...``) and AWS owned keys need no grant.
"""

from __future__ import annotations

from typing import Any

#: KMS actions a service performs with the caller's permissions, per (service action).
KMS_ACTIONS: dict[str, tuple[str, ...]] = {
    "sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:SendMessageBatch": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:ReceiveMessage": ("kms:Decrypt",),
    "s3:PutObject": ("kms:GenerateDataKey",),
    "s3:GetObject": ("kms:Decrypt",),
    "s3:GetObjectVersion": ("kms:Decrypt",),
}
#: DynamoDB data-plane calls on a table encrypted with a customer-managed key need
#: kms:Decrypt on it (DynamoDB decrypts the table key with the caller's permissions).
DYNAMODB_KMS_ACTIONS = ("kms:Decrypt",)
DYNAMODB_DATA_ACTIONS = frozenset(
    f"dynamodb:{name}"
    for name in (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "GetRecords",
    )
)


def kms_requirements(
    action: str, resource: str, account: str, region: str
) -> list[tuple[str, str]]:
    """``(kms action, key ARN)`` pairs a call on an encrypted resource needs."""
    service = action.split(":")[0]
    if action in DYNAMODB_DATA_ACTIONS:
        actions: tuple[str, ...] = DYNAMODB_KMS_ACTIONS
    else:
        actions = KMS_ACTIONS.get(action, ())
    if not actions:
        return []
    key = customer_key_of(service, resource, account, region)
    if key is None:
        return []
    return [(kms_action, key) for kms_action in actions]


def customer_key_of(service: str, resource: str, account: str, region: str) -> str | None:
    """The customer-managed key ARN that encrypts ``resource``, or None."""
    try:
        key_id = _key_id_of(service, resource, account, region)
    except Exception:  # the resource does not exist: the service itself answers that
        return None
    if not key_id or key_id.startswith("alias/aws/"):
        return None
    from moto.kms.models import kms_backends

    key_region = key_id.split(":")[3] if key_id.startswith("arn:") else region
    backend = kms_backends[account][key_region]
    try:
        key = backend.describe_key(key_id)
    except Exception:
        return None
    return None if key.key_manager == "AWS" else str(key.arn)


def _key_id_of(service: str, resource: str, account: str, region: str) -> str | None:
    if service == "sns":
        from moto.sns.models import sns_backends

        return str(sns_backends[account][region].get_topic(resource).kms_master_key_id or "")
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[account][region].get_queue(resource.rsplit(":", 1)[-1])
        return str(getattr(queue, "kms_master_key_id", None) or "")
    if service == "s3":
        from moto.s3.models import s3_backends

        bucket = s3_backends[account]["aws"].get_bucket(resource.split(":::", 1)[1].split("/")[0])
        return _find_key(bucket.encryption)
    if service == "dynamodb":
        from moto.dynamodb.models import dynamodb_backends

        table_name = resource.split(":table/", 1)[1].split("/")[0]
        table = dynamodb_backends[account][region].get_table(table_name)
        sse = table.sse_specification or {}
        return str(sse.get("KMSMasterKeyId") or "") if sse.get("SSEType") == "KMS" else None
    return None


def _find_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "KMSMasterKeyID" and inner:
                return str(inner)
            found = _find_key(inner)
            if found:
                return found
    if isinstance(value, list):
        for inner in value:
            found = _find_key(inner)
            if found:
                return found
    return None
